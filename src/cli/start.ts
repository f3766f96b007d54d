import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { DEFAULTS } from '../config.js';
import type { StartFlags } from './build-config.js';
import { USAGE } from './command-table.js';

export type StartArgs = StartFlags & { pretty?: boolean };

const list = (describe: string) => ({ type: 'string', array: true, default: [] as string[], describe }) as const;
const secondsOption = (describe: string, ms: number) => ({ type: 'number', describe, defaultDescription: String(ms / 1000) }) as const;

/** Every `start` flag; `mock` takes them too (one code path: a mock is a proxy with another upstream). */
export function startOptions<T extends { home: string }>(y: Argv<T>) {
  return y
    .option('config', { type: 'string', describe: 'JSON config file (reloaded on SIGHUP); flags win over it' })
    .option('policy', { type: 'string', describe: 'policy file (YAML or JSON: allow/deny models, redaction, rate limits, budgets, limits); reloaded on SIGHUP and on change' })
    .option('host', { type: 'string', describe: 'address to listen on; beyond loopback needs --auth', defaultDescription: DEFAULTS.host })
    .option('port', { type: 'number', describe: 'port to listen on', defaultDescription: String(DEFAULTS.port) })
    .option('intercept', list('also intercept HOST, *.DOMAIN or HOST:PORT (repeatable)'))
    .option('passthrough', list('never intercept this host pattern (repeatable; wins over --intercept)'))
    .option('upstream-ca', list('PEM file of extra CAs trusted for upstream TLS (repeatable)'))
    .option('connect-to', list('HOST:PORT:ADDR:PORT, send HOST:PORT traffic to ADDR:PORT keeping SNI and Host (repeatable)'))
    .option('upstream-proxy', { type: 'string', describe: 'send upstream connections through this HTTP(S) proxy: http[s]://[user:pass@]host:port' })
    .option('upstream-proxy-env', { type: 'boolean', describe: "use llmtap's own HTTPS_PROXY/HTTP_PROXY/NO_PROXY as the upstream proxy" })
    .option('auth', list('USER:PASSWORD a client must send as Proxy-Authorization (repeatable)'))
    .option('auth-file', { type: 'string', describe: 'file of USER:scrypt$… lines (make them with "llmtap passwd USER")' })
    .option('allow-target', list('let connections reach this host pattern even on loopback/private addresses (repeatable)'))
    .option('allow-port', { type: 'number', array: true, default: [] as number[], describe: 'ports CONNECT may reach (repeatable; default any locally, 443 in gateway mode)' })
    .option('rate-limit', { type: 'string', describe: 'N/DURATION per client and provider host, e.g. 60/1m (429 beyond it)' })
    .option('redact', list('extra regular expression redacted from every stored and logged field (repeatable)'))
    .option('prices', { type: 'string', describe: 'JSON or YAML file of negotiated prices (USD per million tokens), over the built-in price data' })
    .option('retain-days', { type: 'number', describe: 'delete exchanges, sessions and stored parts older than N days (at start, then hourly)' })
    .option('metrics', { type: 'boolean', describe: 'serve Prometheus metrics at GET /metrics on the proxy port' })
    .option('otlp-endpoint', { type: 'string', describe: 'OTLP/HTTP traces URL (e.g. http://127.0.0.1:4318/v1/traces): export each exchange as a GenAI span' })
    .option('otlp-content', { type: 'boolean', describe: 'put prompt and answer text (redacted) on the OTLP spans' })
    .option('fail-closed', { type: 'boolean', describe: 'answer 503 instead of forwarding when the archive cannot write' })
    .option('max-request-body', { type: 'number', describe: 'largest request body in bytes (larger gets 413)', defaultDescription: String(DEFAULTS.maxRequestBody) })
    .option('capture-limit', { type: 'number', describe: 'bytes of each body kept in the archive', defaultDescription: String(DEFAULTS.captureLimit) })
    .option('drain-timeout', secondsOption('seconds in-flight exchanges get to finish on shutdown', DEFAULTS.drainTimeoutMs))
    .option('headers-timeout', secondsOption('seconds a client has to send a CONNECT or request head', DEFAULTS.headersTimeoutMs))
    .option('handshake-timeout', secondsOption('seconds a client has to complete TLS after CONNECT', DEFAULTS.handshakeTimeoutMs))
    .option('keep-alive-timeout', secondsOption('seconds an idle client connection is kept', DEFAULTS.keepAliveTimeoutMs))
    .option('upstream-connect-timeout', secondsOption('seconds to connect to a provider', DEFAULTS.upstreamConnectTimeoutMs))
    .option('upstream-headers-timeout', secondsOption('seconds a provider has to start answering', DEFAULTS.upstreamHeadersTimeoutMs))
    .option('upstream-idle-timeout', secondsOption('longest silence inside a streamed answer, in seconds', DEFAULTS.upstreamIdleTimeoutMs))
    .option('log-level', { type: 'string', choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'], defaultDescription: DEFAULTS.logLevel })
    .option('pretty', { type: 'boolean', describe: 'human-readable logs (default: when stderr is a terminal)' });
}

export const startCommand: CommandModule<{ home: string }, StartArgs> = {
  ...USAGE.start,
  builder: (y: Argv<{ home: string }>) => startOptions(y) as unknown as Argv<StartArgs>,
  // The proxy, its logger and what they load come in when it runs, not for `start --help` or a bad flag.
  handler: async (args: ArgumentsCamelCase<StartArgs>) => (await import('./run-proxy.js')).runProxy(args),
};
