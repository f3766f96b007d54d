import { formatAuthority } from '../proxy/route.js';

/**
 * A team's llmtap gateway as a developer names it: `http://alice@llmtap.internal:8080`.
 * Pure: parsing and the proxy URL tools are given; fetching the CA is gateway-ca.ts.
 */
export interface Gateway {
  host: string;
  port: number;
  /** The proxy user to log in as (absent: a gateway without users). */
  user?: string;
  /** A password written into the URL itself (discouraged: it lands in shell history). */
  password?: string;
}

/**
 * `http://[USER[:PASSWORD]@]HOST[:PORT]` or bare `HOST:PORT`; one line naming the
 * problem otherwise. llmtap listens on plain HTTP (the CONNECT carries the TLS), so
 * `https://` is refused rather than quietly sent elsewhere; no port means 80, as the
 * proxy variables read it.
 */
export function parseGateway(text: string): Gateway | { error: string } {
  const named = `--gateway ${JSON.stringify(text)}`;
  const trimmed = text.trim();
  if (!trimmed) return { error: '--gateway: name the gateway, e.g. http://alice@llmtap.internal:8080' };
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { error: `${named}: not a URL; expected http://USER@HOST:PORT` };
  }
  if (url.protocol !== 'http:') return { error: `${named}: a gateway is reached over http:// (llmtap listens on plain HTTP; the TLS runs inside the CONNECT)` };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) return { error: `${named}: only http://USER@HOST:PORT, no path or query` };
  if (!url.hostname) return { error: `${named}: no host` };
  const port = url.port ? Number(url.port) : 80;
  const gateway: Gateway = { host: url.hostname.replace(/^\[|\]$/g, ''), port };
  if (url.username) gateway.user = decodeURIComponent(url.username);
  if (url.password) gateway.password = decodeURIComponent(url.password);
  return gateway;
}

/** `HOST:PORT` (IPv6 in brackets), for messages and the proxy URL. */
export function gatewayAuthority(gateway: Pick<Gateway, 'host' | 'port'>): string {
  return formatAuthority(gateway.host, gateway.port);
}

/** The proxy URL tools are given: the login in it, percent-encoded, as every proxy-aware client reads it. */
export function gatewayProxyUrl(gateway: Gateway, password: string | undefined): string {
  const login = gateway.user === undefined ? '' : `${encodeURIComponent(gateway.user)}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@`;
  return `http://${login}${gatewayAuthority(gateway)}`;
}

/** The `Authorization` header value for the gateway's own pages (its CA, its status). */
export function basicAuthorization(user: string | undefined, password: string | undefined): string | undefined {
  return user === undefined ? undefined : `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`;
}

/** Where under `--home` a gateway's CA is kept: one directory per gateway, a name any file system takes. */
export function gatewayDirName(gateway: Pick<Gateway, 'host' | 'port'>): string {
  return `${gateway.host.toLowerCase().replace(/[^a-z0-9.-]/g, '_')}_${gateway.port}`;
}

/**
 * The password the login needs, from what the developer has already given, in order: the
 * URL; LLMTAP_GATEWAY_PASSWORD; a proxy variable of this shell that already logs in to
 * this same gateway as this same user (after `eval "$(llmtap env --gateway …)"`, a later
 * `llmtap run --gateway …` asks nothing). Undefined: ask on the terminal, if there is one.
 */
export function knownPassword(gateway: Gateway, env: Record<string, string | undefined>): string | undefined {
  if (gateway.password !== undefined) return gateway.password;
  if (env.LLMTAP_GATEWAY_PASSWORD) return env.LLMTAP_GATEWAY_PASSWORD;
  for (const name of ['HTTPS_PROXY', 'https_proxy']) {
    const value = env[name];
    if (!value) continue;
    const parsed = parseGateway(value);
    if ('error' in parsed) continue;
    if (parsed.host.toLowerCase() === gateway.host.toLowerCase() && parsed.port === gateway.port && parsed.user === gateway.user && parsed.password !== undefined) return parsed.password;
  }
  return undefined;
}
