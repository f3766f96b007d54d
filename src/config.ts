import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, FileError } from './config-error.js';
import { patternError } from './host-pattern.js';
import { loadPriceOverrides } from './cost/price-overrides.js';
import type { CompiledPolicy } from './policy/compile.js';
import type { RateLimitSpec } from './policy/rate-limit.js';
import type { ProxyUser } from './proxy/auth.js';
import { resolveParents } from './proxy/parent-proxy.js';

/** One `--connect-to HOST:PORT:ADDR:PORT` rule (curl's semantics: empty HOST/PORT match any). */
export interface ConnectTo {
  host?: string;
  port?: number;
  toHost?: string;
  toPort?: number;
}

export interface ProxyConfig {
  /** Where certs/ and the archive live. */
  home: string;
  host: string;
  port: number;
  /** Extra hosts to intercept, on top of the built-in provider list. */
  intercept: string[];
  /** Hosts never intercepted, even when built in; wins over `intercept`. */
  passthrough: string[];
  /** Extra CA files trusted for upstream TLS, next to the system roots. */
  upstreamCa: string[];
  connectTo: ConnectTo[];
  /** Parent HTTP(S) proxy (http[s]://[user:pass@]host:port) for tunnels, intercepted upstream connections and plain HTTP. */
  upstreamProxy?: string;
  /** Use the proxy process's own HTTPS_PROXY/HTTP_PROXY/NO_PROXY as the parent (opt-in). */
  upstreamProxyEnv?: boolean;
  /** Answer 503 instead of forwarding when the archive cannot write. */
  failClosed: boolean;
  /** Largest request body llmtap buffers before forwarding; larger ones get 413. */
  maxRequestBody: number;
  /** Bytes of each body kept in the archive; the rest is forwarded but not stored. */
  captureLimit: number;
  /** How long in-flight exchanges may take to finish on shutdown. */
  drainTimeoutMs: number;
  /** Client side: CONNECT or request head must arrive within this; TLS handshake (incl. ClientHello) too. */
  headersTimeoutMs: number;
  handshakeTimeoutMs: number;
  /** An idle keep-alive client connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Most minted leaf certificates kept (LRU); bounds memory whatever names clients ask for. Default 1000. */
  leafCacheSize?: number;
  /** Upstream: TCP+TLS connect, time to response headers, and longest silence inside a body (long thinking pauses happen). */
  upstreamConnectTimeoutMs: number;
  upstreamHeadersTimeoutMs: number;
  upstreamIdleTimeoutMs: number;
  /** Proxy users; required when listening on a non-loopback address (gateway mode). */
  auth: ProxyUser[];
  /**
   * The users file (--auth-file, the config's authFile). While one is given logins are
   * required even when it holds no user (nobody logs in then): a truncated file must not
   * turn a loopback proxy behind a reverse proxy or on a shared host into an open one.
   */
  usersFile?: string;
  /** Host patterns exempt from the loopback / link-local / private-address refusal. */
  allowTargets: string[];
  /** Ports a CONNECT may reach; default: any in local mode, 443 in gateway mode. */
  allowPorts?: number[];
  /** Requests per client per provider host. */
  rateLimit?: RateLimitSpec;
  /** Extra regular expressions whose matches are redacted from every stored and logged field. */
  redact: string[];
  /** Negotiated or extra prices (--prices FILE, JSON or YAML), over the built-in price data. */
  prices?: string;
  /** Delete what started more than this many days ago (at start, then hourly). */
  retainDays?: number;
  /** Policy file (YAML or JSON; --policy or the config file's `policy` key), reloaded on SIGHUP and on change. */
  policyFile?: string;
  /** The policy compiled from it; undefined: no policy, no policy stage. */
  policy?: CompiledPolicy;
  /** JSON config file (reloaded on SIGHUP). */
  configFile?: string;
  /** Serve Prometheus metrics at GET /metrics on the proxy's own port (--metrics). */
  metrics?: boolean;
  /** OTLP/HTTP traces endpoint (--otlp-endpoint): every recorded exchange is exported as a GenAI span. */
  otlpEndpoint?: string;
  /** Put prompt and answer text (redacted) on the spans (--otlp-content); off by default. */
  otlpContent?: boolean;
  /** Proxy users who see every exchange and session in the web UI (gateway mode); others see only their own. */
  uiAdmins?: string[];
  logLevel: string;
}

export { defaultHome } from './home.js';

export const DEFAULTS: Omit<ProxyConfig, 'home'> = {
  host: '127.0.0.1',
  port: 8080,
  intercept: [],
  passthrough: [],
  upstreamCa: [],
  connectTo: [],
  failClosed: false,
  maxRequestBody: 32 * 1024 * 1024,
  captureLimit: 16 * 1024 * 1024,
  drainTimeoutMs: 30_000,
  headersTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  keepAliveTimeoutMs: 60_000,
  leafCacheSize: 1000,
  upstreamConnectTimeoutMs: 10_000,
  upstreamHeadersTimeoutMs: 10 * 60_000,
  upstreamIdleTimeoutMs: 10 * 60_000,
  auth: [],
  allowTargets: [],
  redact: [],
  logLevel: 'info',
};

export function paths(home: string): { certs: string; archive: string; bundle: string } {
  return { certs: join(home, 'certs'), archive: join(home, 'llmtap.db'), bundle: join(home, 'certs', 'trust-bundle.pem') };
}

export { ConfigError };

/** Parses `HOST:PORT:ADDR:PORT`; IPv6 addresses go in brackets, as in curl. */
export function parseConnectTo(spec: string): ConnectTo {
  const parts = splitColons(spec);
  if (parts.length !== 4) throw new ConfigError(`--connect-to "${spec}": expected HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT`);
  const [host, port, toHost, toPort] = parts as [string, string, string, string];
  return {
    host: host ? unbracket(host).toLowerCase() : undefined,
    port: port ? parsePort(port, spec) : undefined,
    toHost: toHost ? unbracket(toHost) : undefined,
    toPort: toPort ? parsePort(toPort, spec) : undefined,
  };
}

/** Where a connection for host:port really goes after --connect-to rules (first match wins). */
export function resolveConnectTo(rules: readonly ConnectTo[], host: string, port: number): { host: string; port: number } {
  const h = unbracket(host).toLowerCase();
  for (const rule of rules) {
    if ((rule.host === undefined || rule.host === h) && (rule.port === undefined || rule.port === port)) {
      return { host: rule.toHost ?? host, port: rule.toPort ?? port };
    }
  }
  return { host, port };
}

function splitColons(spec: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inBracket = false;
  for (const ch of spec) {
    if (ch === '[') inBracket = true;
    if (ch === ']') inBracket = false;
    if (ch === ':' && !inBracket) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function parsePort(text: string, spec: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new ConfigError(`--connect-to "${spec}": "${text}" is not a port`);
  return n;
}

/** Checks a config built from flags; throws ConfigError naming the bad option. */
export function validateConfig(config: ProxyConfig): ProxyConfig {
  validateSettings(config);
  // A users file that holds no user is buildConfig's to judge: refused at start, nobody logs in after a reload.
  if (!isLoopbackListen(config.host) && config.auth.length === 0 && config.usersFile === undefined) {
    throw new ConfigError(`--host ${config.host}: listening beyond loopback (gateway mode) requires --auth USER:PASS or --auth-file FILE`);
  }
  return config;
}

/**
 * Each setting's own checks, naming its flag (`--retain-days 0: …`): what a config file is
 * checked against too (config-file.ts, which names its key and line instead), so
 * `check-config` refuses what `start` would.
 */
export function validateSettings(config: ProxyConfig): void {
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) throw new ConfigError(`--port ${config.port}: must be 0-65535`);
  for (const [flag, list] of [['--intercept', config.intercept], ['--passthrough', config.passthrough]] as const) {
    for (const pattern of list) {
      const problem = patternError(pattern);
      if (problem) throw new ConfigError(`${flag}: ${problem}`);
    }
  }
  for (const pattern of config.allowTargets) {
    const problem = patternError(pattern);
    if (problem) throw new ConfigError(`--allow-target: ${problem}`);
  }
  for (const port of config.allowPorts ?? []) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`--allow-port ${port}: must be 1-65535`);
  }
  for (const source of config.redact) {
    try {
      new RegExp(source, 'g');
    } catch (err) {
      throw new ConfigError(`--redact "${source}": not a valid regular expression (${(err as Error).message})`);
    }
  }
  for (const [flag, value] of [['--max-request-body', config.maxRequestBody], ['--capture-limit', config.captureLimit]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${flag} ${value}: must be a non-negative number of bytes`);
    if (!Number.isInteger(value)) throw new ConfigError(`${flag} ${value}: must be a whole number of bytes`);
  }
  const timeouts: Array<[string, number]> = [
    ['--drain-timeout', config.drainTimeoutMs], ['--headers-timeout', config.headersTimeoutMs], ['--handshake-timeout', config.handshakeTimeoutMs],
    ['--keep-alive-timeout', config.keepAliveTimeoutMs], ['--upstream-connect-timeout', config.upstreamConnectTimeoutMs],
    ['--upstream-headers-timeout', config.upstreamHeadersTimeoutMs], ['--upstream-idle-timeout', config.upstreamIdleTimeoutMs],
  ];
  for (const [flag, ms] of timeouts) {
    if (!Number.isFinite(ms) || ms <= 0) throw new ConfigError(`${flag}: must be a positive number of seconds`);
  }
  if (config.retainDays !== undefined && !(Number.isFinite(config.retainDays) && config.retainDays > 0)) {
    throw new ConfigError(`--retain-days ${config.retainDays}: must be a positive number of days`);
  }
  if (config.otlpEndpoint !== undefined) validateOtlpEndpoint(config.otlpEndpoint);
  if (config.otlpContent && config.otlpEndpoint === undefined) throw new ConfigError('--otlp-content: needs --otlp-endpoint URL');
  for (const file of config.upstreamCa) {
    // A raw ENOENT at start names neither the flag nor what to fix.
    if (!existsSync(file)) throw new FileError(`--upstream-ca ${file}: no such file`);
    if (!statSync(file).isFile()) throw new FileError(`--upstream-ca ${file}: not a file (expected a PEM file of CA certificates)`);
  }
  resolveParents(config); // a malformed URL or a parent that is llmtap itself stops the start, naming the flag
  if (config.prices !== undefined) {
    try {
      loadPriceOverrides(config.prices); // a bad file stops the start, naming file, line and key
    } catch (err) {
      if (err instanceof ConfigError) throw new FileError(`--prices ${err.message}`);
      throw err;
    }
  }
}

/** Loopback listen addresses keep the proxy local; anything else is gateway mode. */
export function isLoopbackListen(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** --otlp-endpoint: an http(s) URL without credentials (they would end up in logs; use a collector on loopback). */
function validateOtlpEndpoint(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`--otlp-endpoint ${value}: not a URL (e.g. http://127.0.0.1:4318/v1/traces)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--otlp-endpoint ${value}: must be an http:// or https:// URL`);
  if (url.username || url.password) throw new ConfigError('--otlp-endpoint: must not hold a user or password');
}
