#!/usr/bin/env node
import '../regexp-fallback.js';
import { readFileSync } from 'node:fs';
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { defaultHome } from '../config.js';
import { argumentProblem, closestCommand, commandPath, joinDashValues, missingValue, notANumber, repeatedFlag } from './argv.js';
import { archiveErrorLine } from './archive-error.js';

const args = joinDashValues(hideBin(process.argv), ['--der']);

// A reader that stops early (`llmtap sessions | head`, `llmtap tail | grep -m1 …`) ends the
// command quietly, as it ends other Unix tools, instead of an EPIPE stack trace; a command
// that watches its own output for this (export's writeLines) is left to do so.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  if (process.stdout.listenerCount('error') === 1) process.exit(0);
});
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Each command has its own argument type; yargs checks the arguments, so any of them will do here. */
type AnyCommand = CommandModule<{ home: string }, any>;

/**
 * Each command's module, loaded only when that command runs (or all of them for the
 * top-level help and for a command name llmtap does not know): one invocation loads one
 * command's code, not nineteen. In the order `--help` lists them.
 */
const COMMANDS: Record<string, () => Promise<AnyCommand>> = {
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

// The command words typed (`policy test`): which modules to load, and which usage an argument error names.
const typedPath = commandPath(args);
const word = typedPath[0];
const needed = word !== undefined && Object.hasOwn(COMMANDS, word) ? [word] : word === undefined && args.includes('--version') ? [] : Object.keys(COMMANDS);
const commands = await Promise.all(needed.map((name) => COMMANDS[name]!()));

/** Bad arguments end in one line on stderr and exit code 2, like other Unix tools (a file that does not load is 1: README "Exit codes"). */
const cli = yargs(args)
  .scriptName('llmtap')
  .option('home', { type: 'string', describe: 'where certs/ and llmtap.db live (env LLMTAP_HOME)', default: defaultHome(), defaultDescription: '$LLMTAP_HOME or ~/.llmtap', global: true });
for (const command of commands) cli.command(command);
/** The command line parsed and its command run; a failure it did not catch ends here. */
await parse().catch((err: unknown) => {
  // A file the user named that cannot be opened or written (`ca --der /no/such/dir/x`): one line, not a stack.
  const sqlite = archiveErrorLine(word, err);
  if (sqlite !== undefined) {
    process.stderr.write(`${sqlite}\n`);
    process.exit(1);
  }
  const sys = err as NodeJS.ErrnoException;
  if (typeof sys?.code !== 'string' || typeof sys.syscall !== 'string') throw err;
  process.stderr.write(`llmtap: ${sys.message}\n`);
  process.exit(1);
});

async function parse(): Promise<unknown> {
  return cli
    .demandCommand(1, 'name a command: start, env, run, pac, trust, doctor, ca, sessions, show, search, replay, mock, stats, tail, export, purge, backup, passwd, check-config, policy or cache-report')
    .strict()
    .check((argv) => {
      const declared = (cli as unknown as { getOptions(): { array: string[]; number: string[]; alias: Record<string, string[]> } }).getOptions();
      const problem = repeatedFlag(argv, args, declared.array, declared.alias) ?? notANumber(argv, args) ?? missingValue(argv, args, declared.number.flatMap((key) => [key, ...(declared.alias[key] ?? [])]));
      if (problem) throw new Error(problem);
      return true;
    }, true)
    .help()
    .version(version)
    .fail((message, error) => {
      const problem = unknownCommand(message) ?? (message ? unknownSubcommand() ?? argumentProblem(message, args, usageOf(commands, typedPath)) : undefined);
      process.stderr.write(`llmtap: ${problem ?? error?.message ?? 'invalid arguments'}\n`);
      process.exit(error && !message ? 1 : 2);
    })
    .parseAsync();
}

/** `llmtap policy tset FILE` → `unknown policy command "tset"; did you mean test?` (yargs blames FILE, or asks for a command). */
function unknownSubcommand(): string | undefined {
  const top = commands.find((c) => String(c.command).split(' ')[0] === typedPath[0]) as { subcommands?: readonly AnyCommand[] } | undefined;
  const typed = typedPath[1];
  if (!top?.subcommands || typed === undefined) return undefined;
  const names = top.subcommands.map((c) => String(c.command).split(' ')[0]!);
  if (names.includes(typed)) return undefined;
  const guess = closestCommand(typed, names);
  return `unknown ${typedPath[0]} command "${typed}"${guess ? `; did you mean ${guess}?` : ''} (llmtap ${typedPath[0]} --help lists them)`;
}

/** `llmtap sesions` → `unknown command "sesions"; did you mean sessions?` (yargs only says "Unknown argument"). */
function unknownCommand(message: string | null | undefined): string | undefined {
  const listed = /^Unknown arguments?: (.+)$/.exec(message ?? '')?.[1]?.split(', ') ?? [];
  // Only the command word itself: an extra argument after a known command is that command's problem.
  if (word === undefined || !listed.includes(word)) return undefined;
  const commands = (cli as unknown as { getInternalMethods(): { getCommandInstance(): { getCommands(): string[] } } }).getInternalMethods().getCommandInstance().getCommands();
  if (commands.includes(word)) return undefined;
  const guess = closestCommand(word, commands);
  return `unknown command "${word}"${guess ? `; did you mean ${guess}?` : ''} (llmtap --help lists them)`;
}

/** The usage of the command typed, its subcommand's when it names one (`policy test <file>`), for argumentProblem. */
function usageOf(list: readonly AnyCommand[], path: readonly string[]): string | undefined {
  const top = list.find((c) => String(c.command).split(' ')[0] === path[0]);
  if (!top) return undefined;
  const sub = (top as { subcommands?: readonly AnyCommand[] }).subcommands?.find((c) => String(c.command).split(' ')[0] === path[1]);
  return sub ? `${path[0]} ${String(sub.command)}` : String(top.command);
}
