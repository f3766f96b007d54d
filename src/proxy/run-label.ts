import { parseBasic } from './auth.js';

/**
 * How `llmtap run --label L` tags its child's exchanges. Environment variables
 * cannot add a header to an arbitrary client's requests, but every proxy-aware
 * client (curl, requests, httpx, undici, Go, reqwest, …) sends the credentials of
 * its proxy URL as `Proxy-Authorization` — on the CONNECT, before any TLS. So the
 * run points its child at `http://L:llmtap-label@127.0.0.1:PORT` and the proxy
 * reads the user name as the label. The header never reaches a provider (CONNECT
 * heads are the proxy's own; plain-HTTP forwarding drops it as hop-by-hop) and the
 * archive stores it only redacted.
 *
 * The fixed password is a marker, not a secret: only credentials `llmtap run`
 * made become labels, so a Proxy-Authorization meant for some other proxy (an
 * inherited corporate HTTPS_PROXY pointed here) is never stored. A gateway
 * (`--auth`) checks credentials as always: there the proxy user names the traffic.
 */
export const LABEL_PASSWORD = 'llmtap-label';

export const MAX_LABEL_LENGTH = 64;

/** The label in a run credential, or undefined for anything else. */
export function labelFromProxyAuthorization(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const credentials = parseBasic(header);
  if (!credentials || credentials.password !== LABEL_PASSWORD) return undefined;
  return labelError(credentials.user) === undefined ? credentials.user : undefined;
}

/** Why a label is refused (empty, too long, control characters or ':'), or undefined. */
export function labelError(label: string): string | undefined {
  if (label.length === 0) return '--label cannot be empty';
  if (label.length > MAX_LABEL_LENGTH) return `--label is longer than ${MAX_LABEL_LENGTH} characters`;
  if (/[\x00-\x1f\x7f:]/.test(label)) return '--label cannot hold control characters or ":"';
  return undefined;
}

/** The proxy URL a labelled run gives its child: the label percent-encoded as the URL's user. */
export function labelledProxyUrl(proxyUrl: string, label: string | undefined): string {
  if (label === undefined) return proxyUrl;
  const url = new URL(proxyUrl);
  url.username = encodeURIComponent(label);
  url.password = LABEL_PASSWORD;
  return url.toString().replace(/\/$/, '');
}
