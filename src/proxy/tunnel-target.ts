/**
 * The target of a request inside an intercepted CONNECT tunnel (pure). The tunnel
 * reaches one origin, the CONNECT's host and port over TLS, and llmtap forwards,
 * checks and records every request in it as that origin's: a request naming another
 * server is refused (`target_mismatch`), never forwarded to the tunnel's host, which
 * may answer for several (virtual hosts, a shared front end). What names it:
 *
 * - origin-form (`/path?query`) and asterisk-form (`OPTIONS *`, forwarded as is): the
 *   Host header, when it names anything;
 * - absolute-form (`https://host[:port]/path?query`): its authority, which wins over
 *   Host (RFC 9112 §3.2.2). It goes upstream in origin-form (a server need not accept
 *   absolute-form from anyone but a proxy), the path and query byte for byte, with a
 *   Host made from that authority (a Host naming another server is replaced, as on
 *   the plain-HTTP side: headers.ts withTargetHost).
 */
export type TunnelTarget =
  /** `authority`: set for absolute-form, the Host the request goes upstream with. */
  | { path: string; authority?: string }
  | { refused: 'target_mismatch' | 'bad_request'; why: string };

export function tunnelRequestTarget(method: string, url: string, host: string | undefined, tunnel: { host: string; port: number }): TunnelTarget {
  // Asterisk-form asks the origin about itself (RFC 9112 §3.2.4); only OPTIONS may use it.
  if (url === '*' && method !== 'OPTIONS') return { refused: 'bad_request', why: 'asterisk-form with another method than OPTIONS' };
  if (url.startsWith('/') || url === '*') {
    // Every request of a tunnel comes here: the usual Host, the tunnel's own as clients write it, passes without a URL parse.
    if (host === undefined || host === '' || (host === tunnel.host && tunnel.port === 443) || host === `${tunnel.host}:${tunnel.port}`) return { path: url };
    return namesTunnel(`https://${host}`, tunnel) ? { path: url } : mismatch('the Host header names another server than the tunnel');
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== 'https' && scheme !== 'http') return { refused: 'bad_request', why: 'a request target that is no path and no http(s) URI' };
  // Split as sent: URL would resolve dot segments, re-encode, and read `\` as `/`.
  const rest = url.slice(scheme.length + 3);
  const at = rest.search(/[/?]/);
  const authority = at < 0 ? rest : rest.slice(0, at);
  // host[:port] only: no userinfo (RFC 9110 §4.2.4), nothing a URL parser could read as another host.
  if (!AUTHORITY.test(authority)) return { refused: 'bad_request', why: 'a request target URI whose authority is no host[:port]' };
  let parsed: URL;
  try {
    parsed = new URL(`${scheme}://${authority}/`);
  } catch {
    return { refused: 'bad_request', why: 'a request target URI that does not parse' };
  }
  // The tunnel is TLS: an http: URI names another origin (port 80, or plain text on 443).
  if (scheme !== 'https' || !namesTunnel(parsed.href, tunnel)) return mismatch('the request URI names another origin than the tunnel');
  const path = at < 0 ? '/' : rest[at] === '?' ? `/${rest.slice(at)}` : rest.slice(at);
  return { path, authority: parsed.host };
}

/** uri-host (IP literal or reg-name, no userinfo) and an optional port; never empty. */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[0-9A-Za-z._~%!$&'()*+,;=-]+)(?::\d*)?$/;

/** Whether an https URI's host and port (443 when none) are the tunnel's; a trailing dot and case do not count. */
function namesTunnel(uri: string, tunnel: { host: string; port: number }): boolean {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return false;
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  return host === tunnel.host.replace(/\.$/, '').toLowerCase() && Number(parsed.port || 443) === tunnel.port;
}

function mismatch(why: string): TunnelTarget {
  return { refused: 'target_mismatch', why };
}
