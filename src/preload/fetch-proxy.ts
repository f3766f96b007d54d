/**
 * Preloaded into Node children of `llmtap run` (and by `llmtap env --node`) with
 * `--import`: Node 20's global fetch ignores HTTPS_PROXY, so this installs undici's
 * EnvHttpProxyAgent — which reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY like curl —
 * as the global dispatcher that fetch (and undici users) go through. TLS keeps
 * Node's default roots, to which NODE_EXTRA_CA_CERTS adds llmtap's CA.
 *
 * It must never break the program it is loaded into: without proxy variables it
 * does nothing, and if undici cannot be loaded it says so once on stderr and
 * leaves fetch as it was.
 */
const env = process.env;
if (env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy) {
  try {
    const { EnvHttpProxyAgent, setGlobalDispatcher } = await import('undici');
    setGlobalDispatcher(new EnvHttpProxyAgent());
  } catch (err) {
    process.stderr.write(`llmtap: fetch preload could not install a proxy dispatcher (${(err as Error).message}); this program's fetch goes direct\n`);
  }
}

export {};
