import { hostname } from 'node:os';
import { startProxy } from '../app.js';
import { ConfigError, DEFAULTS, paths, type ProxyConfig } from '../config.js';
import { configExitCode, usersFileProblem, type UsersFileError } from '../config-error.js';
import { createLogger, type Logger } from '../log.js';
import { retentionWarnings } from '../policy/budget-retention.js';
import { summarize, type CompiledPolicy } from '../policy/compile.js';
import { PolicyWatcher } from '../policy/watch.js';
import { formatAuthority } from '../proxy/route.js';
import { builtInRedactor } from '../redact/redactor.js';
import type { MockUpstream } from '../mock/mock-upstream.js';
import { buildConfig, flagUsers } from './build-config.js';
import type { ProxyUser } from '../proxy/auth.js';
import { configKeyWhere, RELOADABLE } from '../config-file.js';
import { startHint } from './start-hint.js';
import { sameProxyFlags } from './options.js';
import { guardProcess } from './process-guard.js';
import { uiAdminWarnings } from '../ui/server/admin-warnings.js';
import type { StartArgs } from './start.js';

/** What `llmtap mock` adds to a start: its own record home, the CA home, the mock upstream and a summary at exit. */
export interface MockRun {
  /** The home recorded into (config.home); the CA comes from args.home. */
  recordHome: string;
  /** Made with the proxy's logger. */
  mock(logger: Logger): MockUpstream;
  /** Lines printed after the banner (what is replayed). */
  banner: string[];
  /** Printed to stderr when the proxy stops. */
  summary(): string;
}

/** Starts the proxy in the foreground until SIGINT/SIGTERM (reloads on SIGHUP). */
export async function runProxy(args: StartArgs, mockRun?: MockRun): Promise<void> {
  let config: ProxyConfig;
  try {
    config = buildConfig(mockRun ? { ...args, home: mockRun.recordHome } : args);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`llmtap: ${err.message}\n`);
      // A file that does not load ends as check-config ends on it (1); a bad flag value is 2.
      process.exit(configExitCode(err));
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, pretty: args.pretty });
  const proxy = await startProxy(config, logger, mockRun ? { caHome: args.home, mock: mockRun.mock(logger) } : {}).catch((err: NodeJS.ErrnoException) => {
    process.stderr.write(`llmtap: cannot start: ${err.code === 'EADDRINUSE' ? `${formatAuthority(config.host, config.port)} is already in use` : err.message}\n`);
    process.exit(1);
  });
  // The untrusted-CA warning names this home and port, as the banner's env line does (not on a gateway).
  const logins = config.auth.length > 0 || config.usersFile !== undefined;
  if (!logins) proxy.server.trust.fixFlags = { home: sameProxyFlags({ home: args.home, port: DEFAULTS.port }), proxy: sameProxyFlags({ home: args.home, port: proxy.address.port }) };
  const url = `http://${formatAuthority(proxy.address.address, proxy.address.port)}`;
  process.stdout.write([
    `llmtap listening on ${url}`,
    `  CA certificate: ${proxy.ca.certPath}`,
    `  CA SHA-256:     ${proxy.ca.fingerprint256}`,
    `  archive:        ${paths(config.home).archive}`,
    ...(mockRun?.banner ?? []),
    ...startHint({ home: args.home, address: proxy.address.address, port: proxy.address.port, users: logins, hostname: hostname() }),
    '',
  ].join('\n'));
  guardProcess(process, { logger, redactor: () => proxy.server.redactor, countInternal: () => proxy.server.metrics.count('internal') });
  logger.info({ url, ca: proxy.ca.certPath }, 'llmtap started');
  warnAdmins(logger, config);
  // Retention is a restart-only setting: the one the proxy started with, named where the config file set it (a flag wins over the file).
  const retention: Retention = { days: config.retainDays, where: config.configFile && args['retain-days'] === undefined ? configKeyWhere(config.configFile, 'retainDays') : undefined };
  warnNoUsers(logger, config);
  if (config.policy) {
    logger.info({ file: config.policyFile, policy: summarize(config.policy) }, 'policy loaded');
    warnPolicy(logger, config.policy, retention);
  }
  const policyWatch = new PolicyFollower(proxy.server, logger, retention).follow(config.policyFile);
  let running = config;
  process.on('SIGHUP', () => {
    if (!config.configFile) {
      // Each file on its own: a policy that does not load keeps the running policy, not the running users.
      const policy = policyWatch.reload();
      if (config.usersFile !== undefined) return reloadUsers(proxy.server, logger, args, config.usersFile);
      if (!policy) logger.warn('SIGHUP: nothing to reload (no --config, --policy or --auth-file)');
      return;
    }
    try {
      const next = buildConfig(args, { reloading: true });
      proxy.server.reload(next);
      // The config may name another policy file, or none, or one where there was none.
      policyWatch.follow(next.policyFile);
      const waiting = restartOnlyChanges(running, next);
      running = next;
      logger.info({ file: config.configFile }, 'config reloaded');
      warnAdmins(logger, next);
      warnNoUsers(logger, next);
      // Retention is a restart-only setting: the one the proxy started with is the one that purges.
      if (next.policy) warnPolicy(logger, next.policy, retention);
      if (waiting.length > 0) logger.warn({ file: config.configFile, keys: waiting }, `changed settings that apply only after a restart: ${waiting.join(', ')}`);
    } catch (err) {
      // A users file that does not load is said as without --config, naming its line; the config
      // waits for it (one note for the policy page: the users file's, saying the config waits).
      const users = usersFileProblem(err);
      if (users) return refuseUsers(proxy.server, logger, users, config.configFile);
      proxy.server.noteRefusedReload(config.configFile, (err as Error).message);
      logger.error({ file: config.configFile, err: builtInRedactor.text((err as Error).message) }, 'config reload refused; keeping the running config');
    }
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    policyWatch.follow(undefined);
    logger.info({ signal, inFlight: proxy.server.metrics.inFlight }, 'draining: no new connections, waiting for in-flight exchanges');
    void proxy.close().then(() => {
      const { recorded, lost } = proxy.recorder.stats();
      logger.info({ recorded, lost }, 'stopped');
      if (mockRun) process.stderr.write(mockRun.summary());
      logger.flush?.();
      setTimeout(() => process.exit(0), 50);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/**
 * Watches the policy file the running configuration names (reloaded when it changes on
 * disk), and follows the config file when a reload names another, or none: a file the
 * proxy no longer uses is never read again. A reload that fails keeps the running policy;
 * the message names file, line and key, never a value.
 */
class PolicyFollower {
  private watched?: { file: string; watcher: PolicyWatcher };

  constructor(private readonly server: { setPolicy(policy: CompiledPolicy | undefined, file?: string): void; noteRefusedReload(file: string, message: string): void }, private readonly logger: Logger, private readonly retention: Retention) {}

  follow(file: string | undefined): this {
    if (this.watched?.file === file) return this;
    this.watched?.watcher.close();
    this.watched = file === undefined ? undefined : { file, watcher: new PolicyWatcher(file, {
      loaded: (policy) => {
        this.server.setPolicy(policy, file);
        this.logger.info({ file, policy: summarize(policy) }, 'policy reloaded');
        warnPolicy(this.logger, policy, this.retention);
      },
      refused: (message) => {
        this.logger.error({ file, err: builtInRedactor.text(message) }, 'policy reload refused; keeping the running policy');
        this.server.noteRefusedReload(file, message);
      },
    }).start() };
    return this;
  }

  /** SIGHUP without a config file: the policy file read again; false when there is none. */
  reload(): boolean {
    if (!this.watched) return false;
    this.watched.watcher.reload();
    return true;
  }
}

interface UsersServer {
  setUsers(auth: ProxyUser[], usersFile: string): void;
  noteRefusedUsersReload(file: string, message: string, configFile?: string): void;
}

/**
 * SIGHUP without a config file: the users file (--auth-file) read again, with the --auth
 * users, and swapped in as a config reload swaps users. A file that does not load keeps the
 * running users (its error names file:line, never a line's hash); an emptied one lets
 * nobody in, on any listener: the file is the truth.
 */
function reloadUsers(server: UsersServer, logger: Logger, args: StartArgs, file: string): void {
  let users: ProxyUser[];
  try {
    users = flagUsers(args);
  } catch (err) {
    const problem = usersFileProblem(err);
    if (problem) return refuseUsers(server, logger, problem);
    return void logger.error({ file, err: builtInRedactor.text((err as Error).message) }, 'users file reload refused; keeping the running users');
  }
  server.setUsers(users, file);
  logger.info({ file, users: users.length - args.auth.length }, 'users reloaded');
  warnNoUsers(logger, { usersFile: file, auth: users });
}

/**
 * A users file reload refused (a bad line, unreadable): one error line naming the users
 * file and its `file:line: problem`, with `config` the config file whose reload waits for
 * it (with --config); noted for the web UI's policy page until a reload of it loads.
 */
function refuseUsers(server: UsersServer, logger: Logger, problem: UsersFileError, configFile?: string): void {
  logger.error({ file: problem.file, ...(configFile === undefined ? {} : { config: configFile }), err: builtInRedactor.text(problem.message) }, 'users file reload refused; keeping the running users');
  server.noteRefusedUsersReload(problem.file, problem.message, configFile);
}

/**
 * At every (re)load, what loads but will not always take effect, applied as written all the
 * same (compile.ts warnings): keys such as a route model on Bedrock, and each budget rule no
 * request reaches (budget-shadow.ts), and each budget rule whose period outlasts the retention
 * it is seeded from (budget-retention.ts). One line each, as check-config prints them.
 */
function warnPolicy(logger: Logger, policy: CompiledPolicy, retention: Retention): void {
  // The file's own words (rule ids, globs): through the redactor like every rule id the log names.
  for (const w of policy.warnings ?? []) logger.warn(`policy: ${builtInRedactor.text(w.text)}`);
  const where = retention.where === undefined ? '' : `${retention.where}: `;
  for (const line of retentionWarnings(policy.budget, retention.days)) logger.warn(`policy: ${builtInRedactor.text(`${where}${line}`)}`);
}

/** The retention the proxy started with, and `file:line` of the config file's retainDays when it came from there. */
interface Retention {
  days: number | undefined;
  where: string | undefined;
}

/** uiAdmins that are no proxy user (admin-warnings.ts), a line each, `file:line:` of the name in the config first: names from the file, through the redactor. */
function warnAdmins(logger: Logger, config: Pick<ProxyConfig, 'uiAdmins' | 'auth' | 'configFile'>): void {
  for (const { name, line } of uiAdminWarnings(config.uiAdmins, config.auth)) {
    const where = config.configFile ? `${configKeyWhere(config.configFile, 'uiAdmins', name)}: ` : '';
    logger.warn(builtInRedactor.text(`${where}${line}`));
  }
}

/**
 * A users file that holds no user (emptied, or only comments) keeps logins required
 * (ProxyAuth): nobody logs in until a user is added. Said at start and at each reload,
 * since every login is refused meanwhile.
 */
function warnNoUsers(logger: Logger, config: Pick<ProxyConfig, 'usersFile' | 'auth'>): void {
  if (config.usersFile !== undefined && config.auth.length === 0) {
    logger.warn({ file: config.usersFile }, 'users file holds no user: no user can log in until one is added (llmtap passwd USER >> FILE)');
  }
}

/** Settings a reload changed that the running proxy cannot take (RELOADABLE names those it can): they wait for a restart. */
export function restartOnlyChanges(before: ProxyConfig, after: ProxyConfig): string[] {
  const followed = new Set<string>([...RELOADABLE, 'policyFile', 'home', 'configFile']);
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => !followed.has(key) && JSON.stringify(before[key as keyof ProxyConfig]) !== JSON.stringify(after[key as keyof ProxyConfig]));
}
