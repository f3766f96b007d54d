import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { startProxy } from '../app.js';
import { ConfigError, DEFAULTS, parseConnectTo, paths, validateConfig, type ProxyConfig } from '../config.js';
import { createLogger } from '../log.js';
import { formatAuthority } from '../proxy/route.js';
import { listenOptions } from './options.js';

interface StartArgs {
  home: string;
  host: string;
  port: number;
  intercept: string[];
  passthrough: string[];
  'upstream-ca': string[];
  'connect-to': string[];
  'fail-closed': boolean;
  'max-request-body': number;
  'capture-limit': number;
  'drain-timeout': number;
  'log-level': string;
  pretty?: boolean;
}

export const startCommand: CommandModule<{ home: string }, StartArgs> = {
  command: 'start',
  describe: 'run the proxy',
  builder: (y: Argv<{ home: string }>) => y
    .options(listenOptions)
    .option('intercept', { type: 'string', array: true, default: [], describe: 'also intercept HOST, *.DOMAIN or HOST:PORT (repeatable)' })
    .option('passthrough', { type: 'string', array: true, default: [], describe: 'never intercept this host pattern (repeatable; wins over --intercept)' })
    .option('upstream-ca', { type: 'string', array: true, default: [], describe: 'PEM file of extra CAs trusted for upstream TLS (repeatable)' })
    .option('connect-to', { type: 'string', array: true, default: [], describe: 'HOST:PORT:ADDR:PORT, send HOST:PORT traffic to ADDR:PORT keeping SNI and Host (repeatable)' })
    .option('fail-closed', { type: 'boolean', default: false, describe: 'answer 503 instead of forwarding when the archive cannot write' })
    .option('max-request-body', { type: 'number', default: DEFAULTS.maxRequestBody, describe: 'largest request body in bytes (larger gets 413)' })
    .option('capture-limit', { type: 'number', default: DEFAULTS.captureLimit, describe: 'bytes of each body kept in the archive' })
    .option('drain-timeout', { type: 'number', default: DEFAULTS.drainTimeoutMs / 1000, describe: 'seconds in-flight exchanges get to finish on shutdown' })
    .option('log-level', { type: 'string', default: DEFAULTS.logLevel, choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'] })
    .option('pretty', { type: 'boolean', describe: 'human-readable logs (default: when stderr is a terminal)' }) as unknown as Argv<StartArgs>,
  handler: async (args: ArgumentsCamelCase<StartArgs>) => {
    let config: ProxyConfig;
    try {
      config = validateConfig({
        ...DEFAULTS,
        home: args.home,
        host: args.host,
        port: args.port,
        intercept: args.intercept,
        passthrough: args.passthrough,
        upstreamCa: args['upstream-ca'],
        connectTo: args['connect-to'].map(parseConnectTo),
        failClosed: args['fail-closed'],
        maxRequestBody: args['max-request-body'],
        captureLimit: args['capture-limit'],
        drainTimeoutMs: args['drain-timeout'] * 1000,
        logLevel: args['log-level'],
      });
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`llmtap: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    const logger = createLogger({ level: config.logLevel, pretty: args.pretty });
    const proxy = await startProxy(config, logger).catch((err: NodeJS.ErrnoException) => {
      process.stderr.write(`llmtap: cannot start: ${err.code === 'EADDRINUSE' ? `${formatAuthority(config.host, config.port)} is already in use` : err.message}\n`);
      process.exit(1);
    });
    const url = `http://${formatAuthority(proxy.address.address, proxy.address.port)}`;
    const homeFlag = args.home === process.env.LLMTAP_HOME || args.home === undefined ? '' : ` --home '${args.home}'`;
    process.stdout.write([
      `llmtap listening on ${url}`,
      `  CA certificate: ${proxy.ca.certPath}`,
      `  CA SHA-256:     ${proxy.ca.fingerprint256}`,
      `  archive:        ${paths(config.home).archive}`,
      'Point tools at it (in the shell that runs them):',
      `  eval "$(npx llmtap env${homeFlag} --port ${proxy.address.port})"`,
      '',
    ].join('\n'));
    logger.info({ url, ca: proxy.ca.certPath }, 'llmtap started');

    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (++signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      logger.info({ signal, inFlight: proxy.server.metrics.inFlight }, 'draining: no new connections, waiting for in-flight exchanges');
      void proxy.close().then(() => {
        const { recorded, lost } = proxy.recorder.stats();
        logger.info({ recorded, lost }, 'stopped');
        logger.flush?.();
        setTimeout(() => process.exit(0), 50);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  },
};
