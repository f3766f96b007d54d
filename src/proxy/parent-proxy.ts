import { isIP } from 'node:net';
import { ConfigError } from '../config-error.js';

/**
 * An existing HTTP(S) proxy llmtap sends its own upstream connections through
 * (`--upstream-proxy`, or the proxy's own HTTPS_PROXY/HTTP_PROXY with
 * `--upstream-proxy-env`). Parsed once; the credential lives only in
 * `authorization`, never in `display` (what logs and error bodies name).
 */
export interface ParentProxy {
  protocol: 'http:' | 'https:';
  host: string;
  port: number;
  /** `Basic …` for the parent's Proxy-Authorization, when the URL carried user:pass. */
  authorization?: string;
  /** `http://proxy.corp:3128`: the URL without credentials, path or query. */
  display: string;
}

/** One NO_PROXY entry: `*`, a host or domain (`.corp`, `corp` both cover sub-domains), an IP, optionally `:port`. */
interface NoProxyRule {
  host: string;
  port?: number;
}

/** Which parent, if any, a connection to host:port goes through. */
export interface ParentChoice {
  https?: ParentProxy;
  http?: ParentProxy;
  noProxy: NoProxyRule[];
}

/** Parses `http[s]://[user:pass@]host[:port]`; throws a ConfigError naming `source` (the flag or variable). */
export function parseParentProxy(url: string, source: string): ParentProxy {
  let u: URL;
  try {
    u = new URL(url.includes('://') ? url : `http://${url}`);
  } catch {
    throw new ConfigError(`${source}: "${redactUrl(url)}" is not a URL (expected http://[user:pass@]host:port)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`${source}: ${u.protocol}// proxies are not supported (use http:// or https://)`);
  if (!u.hostname) throw new ConfigError(`${source}: the URL names no host`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  const display = `${u.protocol}//${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  return {
    protocol: u.protocol, host, port, display,
    ...(user || pass ? { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` } : {}),
  };
}

/** A proxy URL safe to print: the password replaced. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

export function parseNoProxy(value: string | undefined): NoProxyRule[] {
  const rules: NoProxyRule[] = [];
  for (const raw of (value ?? '').split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const m = /^(\[[^\]]+\]|[^:]+|[0-9a-f:]+)(?::(\d+))?$/.exec(entry);
    const hostPart = m ? m[1]! : entry;
    const host = hostPart.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    rules.push({ host, ...(m?.[2] ? { port: Number(m[2]) } : {}) });
  }
  return rules;
}

/** curl's NO_PROXY semantics: `*` matches all; a name matches itself and its sub-domains. */
export function bypasses(rules: readonly NoProxyRule[], host: string, port: number): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return rules.some((r) => (r.port === undefined || r.port === port) && (r.host === '*' || h === r.host || h.endsWith(`.${r.host}`)));
}

/** `--upstream-proxy URL`: every upstream connection goes through it. */
export function explicitParent(url: string): ParentChoice {
  const parent = parseParentProxy(url, '--upstream-proxy');
  return { https: parent, http: parent, noProxy: [] };
}

/**
 * `--upstream-proxy-env`: the proxy process's own variables, as curl and undici's
 * EnvHttpProxyAgent read them (lower case first). HTTPS_PROXY carries CONNECT
 * tunnels and intercepted TLS; HTTP_PROXY plain-HTTP forwards.
 */
export function parentFromEnv(env: NodeJS.ProcessEnv): ParentChoice {
  const https = env.https_proxy || env.HTTPS_PROXY;
  const http = env.http_proxy || env.HTTP_PROXY;
  return {
    ...(https ? { https: parseParentProxy(https, 'HTTPS_PROXY (--upstream-proxy-env)') } : {}),
    ...(http ? { http: parseParentProxy(http, 'HTTP_PROXY (--upstream-proxy-env)') } : {}),
    noProxy: parseNoProxy(env.no_proxy ?? env.NO_PROXY),
  };
}

/**
 * The parent proxies a config asks for (undefined: none). `--upstream-proxy` wins
 * over `--upstream-proxy-env`. A parent that is llmtap itself (the shell that
 * started it had `eval "$(llmtap env)"`) would loop forever: refused here.
 */
export function resolveParents(options: { upstreamProxy?: string; upstreamProxyEnv?: boolean; port: number }, env: NodeJS.ProcessEnv = process.env): ParentChoice | undefined {
  const choice = options.upstreamProxy ? explicitParent(options.upstreamProxy) : options.upstreamProxyEnv ? parentFromEnv(env) : undefined;
  for (const parent of [choice?.https, choice?.http]) {
    if (parent && isLoopbackName(parent.host) && parent.port === options.port) {
      const source = options.upstreamProxy ? '--upstream-proxy' : '--upstream-proxy-env';
      throw new ConfigError(`${source}: ${parent.display} is llmtap's own address (port ${options.port}); unset HTTPS_PROXY/HTTP_PROXY in the shell that starts llmtap, or name the real parent proxy`);
    }
  }
  return choice;
}

/**
 * The parent for a connection the client asked for. Loopback names always go
 * direct: a parent proxy cannot reach this machine's localhost (a local model
 * server on --intercept localhost:11434 must keep working behind a corporate proxy).
 */
export function parentFor(choice: ParentChoice | undefined, host: string, port: number, tls: boolean): ParentProxy | undefined {
  if (!choice) return undefined;
  const parent = tls ? choice.https : choice.http;
  if (!parent || isLoopbackName(host) || bypasses(choice.noProxy, host, port)) return undefined;
  return parent;
}

function isLoopbackName(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** What a parent answered to CONNECT: the status and where its head ends, once the whole head is in. */
export function parseConnectReply(buf: Buffer): { status: number; headEnd: number } | 'incomplete' | 'malformed' {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > 16 * 1024 ? 'malformed' : 'incomplete';
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.subarray(0, Math.min(end, 64)).toString('latin1'));
  if (!m) return 'malformed';
  return { status: Number(m[1]), headEnd: end + 4 };
}

/** parentFor() bound to one choice, as UpstreamPools takes it; undefined when there is no parent at all. */
export function parentSelector(choice: ParentChoice | undefined): ((host: string, port: number, tls: boolean) => ParentProxy | undefined) | undefined {
  return choice ? (host, port, tls) => parentFor(choice, host, port, tls) : undefined;
}
