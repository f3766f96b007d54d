import { fileURLToPath, pathToFileURL } from 'node:url';
import { hostMatches } from '../host-pattern.js';

/**
 * The variables that send a process's HTTP clients through llmtap and make them
 * trust its CA, as `llmtap env` prints them and `llmtap run` sets them. Pure: the
 * caller supplies the proxy URL, CA paths and intercept patterns.
 *
 * - HTTPS_PROXY/HTTP_PROXY in both cases: curl reads only lower-case http_proxy.
 * - NODE_EXTRA_CA_CERTS adds the CA to Node's roots; OpenSSL/rustls/Go tools
 *   (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, GIT_SSL_CAINFO, DENO_CERT,
 *   CODEX_CA_CERTIFICATE) *replace* their roots with the file, so they get the
 *   bundle: system roots plus the llmtap CA.
 * - NODE_USE_ENV_PROXY=1: Node 22.21+/24 honour proxy variables in fetch with it.
 */
export interface ClientEnvInput {
  proxyUrl: string;
  caPath: string;
  bundlePath: string;
  /** Every intercept pattern (built-in and --intercept) minus nothing: NO_PROXY must spare them. */
  intercept: readonly string[];
  /** Add the fetch preload to NODE_OPTIONS (appended to `existingNodeOptions`). */
  nodePreload?: boolean;
  existingNodeOptions?: string;
}

export const LOCAL_HOSTS = ['localhost', '127.0.0.1', '::1'] as const;

export function clientEnv(input: ClientEnvInput): Array<[string, string]> {
  const noProxy = noProxyList(input.intercept).join(',');
  const vars: Array<[string, string]> = [
    ['HTTPS_PROXY', input.proxyUrl], ['HTTP_PROXY', input.proxyUrl], ['https_proxy', input.proxyUrl], ['http_proxy', input.proxyUrl],
    ['NO_PROXY', noProxy], ['no_proxy', noProxy],
    ['NODE_EXTRA_CA_CERTS', input.caPath], ['NODE_USE_ENV_PROXY', '1'],
    ['SSL_CERT_FILE', input.bundlePath], ['REQUESTS_CA_BUNDLE', input.bundlePath], ['CURL_CA_BUNDLE', input.bundlePath],
    ['GIT_SSL_CAINFO', input.bundlePath], ['DENO_CERT', input.bundlePath], ['CODEX_CA_CERTIFICATE', input.bundlePath],
  ];
  if (input.nodePreload) vars.push(['NODE_OPTIONS', withPreload(input.existingNodeOptions)]);
  return vars;
}

/**
 * Loopback names stay off the proxy — except those on the intercept list: with
 * `--intercept localhost:11434` a local model server must go through llmtap.
 * NO_PROXY has no port syntax that every client understands, so a host with any
 * intercepted port is left out entirely (its other ports then go through the
 * proxy, which tunnels them untouched).
 */
export function noProxyList(intercept: readonly string[]): string[] {
  return LOCAL_HOSTS.filter((host) => !intercept.some((pattern) => hostMatches(pattern, host, portOf(pattern))));
}

function portOf(pattern: string): number | undefined {
  const m = /^(?:\[[^\]]+\]|[^:]+):(\d+)$/.exec(pattern);
  return m ? Number(m[1]) : undefined;
}

/** The `--import` of the fetch preload (a file URL: NODE_OPTIONS splits on spaces). */
export function preloadFlag(): string {
  const file = fileURLToPath(new URL('../preload/fetch-proxy.js', import.meta.url));
  return `--import=${pathToFileURL(file).href}`;
}

/** NODE_OPTIONS with the preload appended once (an outer `llmtap run` may have added it already). */
export function withPreload(existing: string | undefined): string {
  const flag = preloadFlag();
  const current = (existing ?? '').trim();
  if (current.split(/\s+/).includes(flag)) return current;
  return current ? `${current} ${flag}` : flag;
}
