/**
 * The "trust this CA" section of the status page, like mitmproxy's mitm.it: the
 * certificate for download and one way per platform to install it. Static text,
 * no scripts; the links are relative so they work on whatever address the page
 * was reached at.
 */
export const INSTALL_GUIDE_HTML = `<h2>Trust the llmtap CA</h2>
<p>Download: <a href="/ca.pem">ca.pem</a> (PEM) · <a href="/ca.der">ca.der</a> (DER) · <a href="/ca.crt">ca.crt</a>.
On the machine running llmtap, <code>llmtap trust</code> does all of the below (<code>--dry-run</code> prints the commands, <code>--remove</code> undoes them); <code>llmtap doctor</code> checks the result.</p>
<table>
<tr><th>Debian, Ubuntu</th><td><code>sudo cp llmtap-ca.pem /usr/local/share/ca-certificates/llmtap.crt &amp;&amp; sudo update-ca-certificates</code></td></tr>
<tr><th>Fedora, RHEL</th><td><code>sudo cp llmtap-ca.pem /etc/pki/ca-trust/source/anchors/llmtap.pem &amp;&amp; sudo update-ca-trust</code></td></tr>
<tr><th>macOS</th><td><code>sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain llmtap-ca.pem</code></td></tr>
<tr><th>Windows (admin)</th><td><code>certutil -addstore root llmtap-ca.der</code></td></tr>
<tr><th>Chromium, Firefox (Linux)</th><td><code>certutil -A -n llmtap -t C,, -i llmtap-ca.pem -d sql:$HOME/.pki/nssdb</code> (and each Firefox profile directory; <code>libnss3-tools</code>)</td></tr>
<tr><th>Node</th><td><code>NODE_EXTRA_CA_CERTS=llmtap-ca.pem</code>, or <code>llmtap run -- node …</code></td></tr>
<tr><th>Python, curl, Go, Rust</th><td><code>eval "$(llmtap env)"</code> (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE point at system roots plus this CA)</td></tr>
</table>`;
