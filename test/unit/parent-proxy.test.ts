import { describe, expect, it } from 'vitest';
import { bypasses, parentFor, parentFromEnv, parseConnectReply, parseNoProxy, parseParentProxy, redactUrl, resolveParents } from '../../src/proxy/parent-proxy.js';

describe('parent proxy (--upstream-proxy)', () => {
  it('parses the URL; the credential goes only into the Basic header, never into what is displayed', () => {
    const p = parseParentProxy('http://alice:p%40ss@proxy.corp:3128/ignored', '--upstream-proxy');
    expect(p).toEqual({ protocol: 'http:', host: 'proxy.corp', port: 3128, display: 'http://proxy.corp:3128', authorization: `Basic ${Buffer.from('alice:p@ss').toString('base64')}` });
    expect(parseParentProxy('https://[::1]', 'x')).toMatchObject({ protocol: 'https:', host: '::1', port: 443, display: 'https://[::1]:443' });
    expect(parseParentProxy('proxy.corp:8080', 'x')).toMatchObject({ protocol: 'http:', port: 8080 });
    expect(parseParentProxy('http://proxy.corp', 'x').authorization).toBeUndefined();
  });

  it('refuses what it cannot use, naming the flag and never echoing a password', () => {
    expect(() => parseParentProxy('socks5://a:b@h:1', '--upstream-proxy')).toThrow(/^--upstream-proxy: socks5:\/\/ proxies are not supported/);
    expect(() => parseParentProxy('http://u:hunter2@[bad', '--upstream-proxy')).toThrow(/^--upstream-proxy: "http:\/\/u:\*\*\*@\[bad" is not a URL/);
    expect(redactUrl('http://u:hunter2@h:1')).toBe('http://u:***@h:1');
  });

  it('refuses a parent that is llmtap itself (a shell that ran `llmtap env`)', () => {
    expect(() => resolveParents({ upstreamProxyEnv: true, port: 8080 }, { HTTPS_PROXY: 'http://127.0.0.1:8080' })).toThrow(/--upstream-proxy-env: http:\/\/127\.0\.0\.1:8080 is llmtap's own address/);
    expect(resolveParents({ port: 8080 }, { HTTPS_PROXY: 'http://127.0.0.1:3128' })).toBeUndefined(); // env only when asked
  });

  it('reads the env like curl: lower case first, HTTPS_PROXY for TLS, HTTP_PROXY for plain HTTP, NO_PROXY', () => {
    const choice = parentFromEnv({ https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:2', HTTP_PROXY: 'http://plain:3', NO_PROXY: '.internal.corp, api.example.com:8443,10.0.0.1' });
    expect(parentFor(choice, 'api.openai.com', 443, true)?.display).toBe('http://low:1');
    expect(parentFor(choice, 'example.org', 80, false)?.display).toBe('http://plain:3');
    expect(parentFor(choice, 'git.internal.corp', 443, true)).toBeUndefined();
    expect(parentFor(choice, 'api.example.com', 8443, true)).toBeUndefined();
    expect(parentFor(choice, 'api.example.com', 443, true)?.display).toBe('http://low:1');
    expect(parentFor(choice, '10.0.0.1', 443, true)).toBeUndefined();
  });

  it('loopback destinations always go direct: the parent cannot reach this machine', () => {
    const choice = { https: parseParentProxy('http://p:1', 'x'), http: parseParentProxy('http://p:1', 'x'), noProxy: [] };
    for (const host of ['localhost', '127.0.0.1', '::1', 'ollama.localhost']) expect(parentFor(choice, host, 11434, false), host).toBeUndefined();
    expect(bypasses(parseNoProxy('*'), 'anything', 1)).toBe(true);
  });

  it('reads the parent CONNECT answer once its head is complete', () => {
    expect(parseConnectReply(Buffer.from('HTTP/1.1 200 Connection established\r\n'))).toBe('incomplete');
    expect(parseConnectReply(Buffer.from('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\nextra'))).toEqual({ status: 407, headEnd: 73 });
    expect(parseConnectReply(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'))).toBe('malformed');
  });
});
