import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { formatAuthority, type InterceptList } from './route.js';

/**
 * A proxy auto-config file (PAC) that sends only intercept-list hosts through
 * llmtap and everything else DIRECT, so a browser or an OS pointed at it keeps
 * every other site off the proxy.
 *
 * Host patterns mean what they mean to the proxy (host-pattern.ts), not what a PAC
 * helper would guess: `*.domain` is any subdomain but not the bare domain, a `*`
 * inside a label ("*-aiplatform.googleapis.com") stands for one label's characters
 * (no dots — `shExpMatch` would let `*` cross dots, so globs become anchored regular
 * expressions), a `:port` limits the entry to that port, and `--passthrough` wins.
 *
 * Path-scoped built-in hosts (chatgpt.com, recorded only under /backend-api/codex/)
 * go through the proxy whole: a browser hands a PAC no path for https URLs (Chrome
 * strips it) and one CONNECT tunnel carries every path of the host, so a per-path
 * answer could not be kept. The proxy records only the scoped paths and relays the rest.
 *
 * No `; DIRECT` fallback: if llmtap is down, intercepted hosts fail visibly instead
 * of silently bypassing the recording.
 */
export function renderPac(list: InterceptList, proxyHost: string, proxyPort: number): string {
  const passthrough = list.passthrough.map(patternTest);
  const intercept = [...new Set(list.intercept)].map(patternTest);
  const proxy = `PROXY ${formatAuthority(proxyHost, proxyPort)}`;
  return `// llmtap proxy auto-config: intercept-list hosts through llmtap, everything else DIRECT.
function FindProxyForURL(url, host) {
  var h = String(host).toLowerCase();
  if (h.charAt(0) === '[' && h.charAt(h.length - 1) === ']') h = h.substring(1, h.length - 1);
  if (h.charAt(h.length - 1) === '.') h = h.substring(0, h.length - 1);
  var m = /^([a-z][a-z0-9+.-]*):\\/\\/(?:[^@\\/]*@)?(\\[[^\\]]*\\]|[^\\/:?#]*)(?::(\\d+))?/i.exec(url);
  var scheme = m ? m[1].toLowerCase() : '';
  var port = m && m[3] ? parseInt(m[3], 10) : (scheme === 'http' || scheme === 'ws' ? 80 : 443);
  function suffix(s) { return h.length > s.length && h.substring(h.length - s.length) === s; }
${passthrough.map((test) => `  if (${test}) return 'DIRECT';`).join('\n')}
${intercept.map((test) => `  if (${test}) return ${JSON.stringify(proxy)};`).join('\n')}
  return 'DIRECT';
}
`;
}

/** One pattern as a JavaScript condition over `h` (normalized host) and `port`. */
export function patternTest(pattern: string): string {
  const { host, port } = splitPort(pattern.toLowerCase());
  const name = host.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  let test: string;
  if (name.startsWith('*.')) test = `suffix(${JSON.stringify(name.slice(1))})`;
  else if (name.includes('*')) {
    const source = `^${name.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('[^.]+')}$`;
    test = `/${source}/.test(h)`;
  } else test = `h === ${JSON.stringify(name)}`;
  return port === undefined ? test : `port === ${port} && ${test}`;
}

function splitPort(pattern: string): { host: string; port?: number } {
  const bracketed = /^(\[[^\]]+\])(?::(\d+))?$/.exec(pattern);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : undefined };
  const colon = pattern.lastIndexOf(':');
  if (colon > 0 && pattern.indexOf(':') === colon && /^\d+$/.test(pattern.slice(colon + 1))) {
    return { host: pattern.slice(0, colon), port: Number(pattern.slice(colon + 1)) };
  }
  return { host: pattern };
}

/**
 * Answers `GET /proxy.pac` on the proxy's own port. The PAC names the address the
 * request reached (the socket's local end, not the Host header a client chose), so
 * a proxy listening on every interface hands each network the address it can use.
 */
export function pacAnswer(res: ServerResponse, list: InterceptList, socket: Socket): void {
  const host = (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const body = renderPac(list, host, socket.localPort ?? 8080);
  res.writeHead(200, { 'content-type': 'application/x-ns-proxy-autoconfig', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
