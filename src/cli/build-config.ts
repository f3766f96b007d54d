import { ConfigError, DEFAULTS, isLoopbackListen, parseConnectTo, validateConfig, type ProxyConfig } from '../config.js';
import { FileError, fromFile } from '../config-error.js';
import { loadConfigFile } from '../config-file.js';
import { loadPolicyFile } from '../policy/load.js';
import { parseRateLimit } from '../policy/rate-limit.js';
import { parseAuthSpec, readAuthFile, type ProxyUser } from '../proxy/auth.js';

/** The `start` flags as yargs gives them; scalars are undefined when not given. */
export interface StartFlags {
  home: string;
  config?: string;
  host?: string;
  port?: number;
  intercept: string[];
  passthrough: string[];
  'upstream-ca': string[];
  'connect-to': string[];
  'upstream-proxy'?: string;
  'upstream-proxy-env'?: boolean;
  'fail-closed'?: boolean;
  'max-request-body'?: number;
  'capture-limit'?: number;
  'drain-timeout'?: number;
  'headers-timeout'?: number;
  'handshake-timeout'?: number;
  'keep-alive-timeout'?: number;
  'upstream-connect-timeout'?: number;
  'upstream-headers-timeout'?: number;
  'upstream-idle-timeout'?: number;
  auth: string[];
  'auth-file'?: string;
  'allow-target': string[];
  'allow-port': number[];
  'rate-limit'?: string;
  redact: string[];
  prices?: string;
  'retain-days'?: number;
  'log-level'?: string;
  policy?: string;
  metrics?: boolean;
  'otlp-endpoint'?: string;
  'otlp-content'?: boolean;
}

const seconds = (s: number | undefined): number | undefined => (s === undefined ? undefined : s * 1000);

/**
 * Defaults, then the config file, then flags: a flag given on the command line
 * wins over the file; list flags add to the file's lists. A file that does not load
 * (config, policy, auth file) throws a FileError; a bad flag value a ConfigError.
 * `reloading`: the proxy runs already, and a users file that holds no user means nobody
 * logs in (on every listener) instead of a gateway that does not start.
 */
export function buildConfig(flags: StartFlags, { reloading = false } = {}): ProxyConfig {
  const file = flags.config ? fromFile(() => loadConfigFile(flags.config!)) : {};
  const pick = <K extends keyof ProxyConfig>(key: K, flag: ProxyConfig[K] | undefined): ProxyConfig[K] => flag ?? (file[key] as ProxyConfig[K] | undefined) ?? (DEFAULTS as ProxyConfig)[key];
  const policyFile = flags.policy ?? file.policyFile;
  const auth = [...(file.auth ?? []), ...flagUsers(flags)];
  const host = pick('host', flags.host);
  // A users file was given but holds no user (blank, only comments): say that, not "requires --auth-file".
  const usersFile = flags['auth-file'] ?? file.usersFile;
  if (!reloading && !isLoopbackListen(host) && auth.length === 0 && usersFile !== undefined) {
    throw new ConfigError(`--host ${host}: listening beyond loopback (gateway mode) requires a proxy user, and ${flags['auth-file'] ?? `the config's authFile`} holds none (add one with "llmtap passwd USER >> FILE")`);
  }
  return validateConfig({
    home: flags.home,
    configFile: flags.config,
    host,
    port: pick('port', flags.port),
    intercept: [...(file.intercept ?? []), ...flags.intercept],
    passthrough: [...(file.passthrough ?? []), ...flags.passthrough],
    upstreamCa: [...(file.upstreamCa ?? []), ...flags['upstream-ca']],
    connectTo: [...flags['connect-to'].map(parseConnectTo), ...(file.connectTo ?? [])],
    upstreamProxy: flags['upstream-proxy'] ?? file.upstreamProxy,
    upstreamProxyEnv: flags['upstream-proxy-env'] ?? file.upstreamProxyEnv,
    failClosed: pick('failClosed', flags['fail-closed']),
    maxRequestBody: pick('maxRequestBody', flags['max-request-body']),
    captureLimit: pick('captureLimit', flags['capture-limit']),
    drainTimeoutMs: pick('drainTimeoutMs', seconds(flags['drain-timeout'])),
    headersTimeoutMs: pick('headersTimeoutMs', seconds(flags['headers-timeout'])),
    handshakeTimeoutMs: pick('handshakeTimeoutMs', seconds(flags['handshake-timeout'])),
    keepAliveTimeoutMs: pick('keepAliveTimeoutMs', seconds(flags['keep-alive-timeout'])),
    upstreamConnectTimeoutMs: pick('upstreamConnectTimeoutMs', seconds(flags['upstream-connect-timeout'])),
    upstreamHeadersTimeoutMs: pick('upstreamHeadersTimeoutMs', seconds(flags['upstream-headers-timeout'])),
    upstreamIdleTimeoutMs: pick('upstreamIdleTimeoutMs', seconds(flags['upstream-idle-timeout'])),
    auth,
    usersFile,
    allowTargets: [...(file.allowTargets ?? []), ...flags['allow-target']],
    allowPorts: flags['allow-port'].length > 0 ? flags['allow-port'] : file.allowPorts,
    rateLimit: flags['rate-limit'] ? parseRateLimit(flags['rate-limit']) : file.rateLimit,
    redact: [...(file.redact ?? []), ...flags.redact],
    prices: flags.prices ?? file.prices,
    retainDays: flags['retain-days'] ?? file.retainDays,
    metrics: flags.metrics ?? file.metrics,
    otlpEndpoint: flags['otlp-endpoint'] ?? file.otlpEndpoint,
    otlpContent: flags['otlp-content'] ?? file.otlpContent,
    uiAdmins: file.uiAdmins,
    logLevel: pick('logLevel', flags['log-level']),
    policyFile,
    policy: policyFile ? fromFile(() => loadPolicyFile(policyFile)) : undefined,
  });
}

/** The users the flags give: `--auth` ones, then `--auth-file`'s (read again at each call). */
export function flagUsers(flags: Pick<StartFlags, 'auth' | 'auth-file'>): ProxyUser[] {
  return [...flags.auth.map(parseAuthSpec), ...(flags['auth-file'] ? authFileFlag(flags['auth-file']) : [])];
}

/** `--auth-file FILE`: its problems name the flag, as every other flag's do. */
function authFileFlag(file: string): ReturnType<typeof readAuthFile> {
  try {
    return readAuthFile(file);
  } catch (err) {
    if (err instanceof ConfigError) throw new FileError(`--auth-file ${err.message}`, { cause: err });
    throw err;
  }
}
