import type { CommandModule } from 'yargs';

/** Each command has its own argument type; yargs checks the arguments, so any of them will do here. */
export type AnyCommand = CommandModule<{ home: string }, any>;

/**
 * Every command's usage line and description, in the order `--help` lists them. The top-level
 * help and a mistyped command need only these, so they live here, apart from the command
 * modules (which take theirs from here): `llmtap --help` loads none of the commands' code.
 */
export const USAGE = {
  start: { command: 'start', describe: 'run the proxy' },
  env: { command: 'env', describe: 'print export lines that point tools at the proxy: eval "$(llmtap env)"' },
  run: { command: 'run [command..]', describe: 'run a command with its HTTP clients pointed at llmtap: llmtap run [--label L] -- CMD [ARGS…]' },
  pac: { command: 'pac', describe: 'print a proxy auto-config file: intercepted hosts through llmtap, the rest DIRECT (also served at /proxy.pac)' },
  ca: { command: 'ca', describe: 'show the CA certificate path and SHA-256 fingerprint (created if missing)' },
  export: { command: 'export', describe: 'write the archive as JSON lines (one object per exchange), HAR 1.2 or CSV (a row per exchange)' },
  sessions: { command: 'sessions', describe: 'list recorded sessions, newest first' },
  show: { command: 'show <id>', describe: 'a session turn by turn, or one exchange (ids from `sessions`/`tail`; a unique prefix is enough)' },
  stats: { command: 'stats', describe: 'requests, errors, tokens, cost, latency and cache hits, grouped' },
  search: { command: 'search <text>', describe: 'find the exchanges whose prompt or answer holds a text, newest first (one per session)' },
  tail: { command: 'tail', describe: 'print one line per exchange as the running proxy records it' },
  replay: { command: 'replay <session>', describe: 'play a recorded session back turn by turn, in its original order and timing' },
  mock: { command: 'mock', describe: 'a proxy that answers intercepted requests from recorded exchanges (offline; nothing reaches the provider)' },
  purge: { command: 'purge', describe: 'delete everything recorded before a date (and stored parts nothing uses any more)' },
  backup: { command: 'backup <file>', describe: 'write a consistent, compacted copy of the archive (safe while the proxy records)' },
  passwd: { command: 'passwd [user]', describe: 'print an --auth-file line for USER; the password is read from stdin' },
  'check-config': { command: 'check-config <file>', describe: 'validate a policy or config file without starting (exit 0 ok, 1 with the problem)' },
  policy: { command: 'policy <command>', describe: 'policy tools: test' },
  'cache-report': { command: 'cache-report', describe: 'repeated identical requests in the archive and what a response cache would have saved' },
  trust: { command: 'trust', describe: 'install the llmtap CA in the system trust store (and NSS databases with --nss); --remove undoes it' },
  doctor: { command: 'doctor', describe: 'check that the proxy runs, its CA is trusted and this shell points at it; prints the fix for each problem' },
} as const;

export type CommandName = keyof typeof USAGE;

/** Each command's module, loaded only when that command runs: one invocation loads one command's code. */
export const LOADERS: Record<CommandName, () => Promise<AnyCommand>> = {
  start: async () => (await import('./start.js')).startCommand,
  env: async () => (await import('./env.js')).envCommand,
  run: async () => (await import('./run.js')).runCommand,
  pac: async () => (await import('./pac.js')).pacCommand,
  ca: async () => (await import('./ca.js')).caCommand,
  export: async () => (await import('./export.js')).exportCommand,
  sessions: async () => (await import('./sessions.js')).sessionsCommand,
  show: async () => (await import('./show.js')).showCommand,
  stats: async () => (await import('./stats.js')).statsCommand,
  search: async () => (await import('./search.js')).searchCommand,
  tail: async () => (await import('./tail.js')).tailCommand,
  replay: async () => (await import('./replay.js')).replayCommand,
  mock: async () => (await import('./mock.js')).mockCommand,
  purge: async () => (await import('./purge.js')).purgeCommand,
  backup: async () => (await import('./backup.js')).backupCommand,
  passwd: async () => (await import('./passwd.js')).passwdCommand,
  'check-config': async () => (await import('./check-config.js')).checkConfigCommand,
  policy: async () => (await import('./policy-test.js')).policyCommand,
  'cache-report': async () => (await import('./cache-report.js')).cacheReportCommand,
  trust: async () => (await import('./trust.js')).trustCommand,
  doctor: async () => (await import('./doctor.js')).doctorCommand,
};
