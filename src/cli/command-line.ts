import yargs from 'yargs';
import { defaultHome } from '../home.js';
import { argumentProblem, closestCommand, commandPath, missingValue, notANumber, repeatedFlag } from './argv.js';
import { archiveErrorLine } from './archive-error.js';
import { LOADERS, USAGE, type AnyCommand, type CommandName } from './command-table.js';

/**
 * The command line parsed by yargs and its command run: only the typed command's module is
 * loaded (one invocation loads one command's code, not twenty-one).
 */
export async function runCommandLine(args: string[], version: string): Promise<void> {
  // The command words typed (`policy test`): which module to load, and which usage an argument error names.
  const typedPath = commandPath(args);
  const word = typedPath[0];
  const commands = await commandsFor(args, word);

  /** Bad arguments end in one line on stderr and exit code 2, like other Unix tools (a file that does not load is 1: README "Exit codes"). */
  const cli = yargs(args)
    .scriptName('llmtap')
    .option('home', { type: 'string', describe: 'where certs/ and llmtap.db live (env LLMTAP_HOME)', default: defaultHome(), defaultDescription: '$LLMTAP_HOME or ~/.llmtap', global: true });
  for (const command of commands) cli.command(command);
  // Once a command's handler starts, yargs renders that command's whole help text and keeps
  // it (cacheHelpMessage), for a handler that would call showHelp. None of llmtap's does
  // (`--help` renders its own), and that render, a string width per option line, was a
  // third of a read command's startup CPU.
  (cli as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } }).getInternalMethods().getUsageInstance().cacheHelpMessage = () => {};
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
}

/**
 * The commands yargs is given: the typed command's module alone, as it has always been.
 * Without a known command word (the top-level help, a mistyped or missing command, a flag
 * before the command) every command is listed by its usage line from the command table,
 * and only those named on the command line are loaded (`llmtap --since 1h stats` runs
 * stats); a usage line alone is never run, since yargs runs only a command that was named.
 * A bare `--version` among other flags lists none.
 */
async function commandsFor(args: readonly string[], word: string | undefined): Promise<AnyCommand[]> {
  const known = (name: string): name is CommandName => Object.hasOwn(USAGE, name);
  if (word !== undefined && known(word)) return [await LOADERS[word]()];
  if (word === undefined && args.includes('--version')) return [];
  const end = args.indexOf('--');
  const named = new Set((end === -1 ? args : args.slice(0, end)).filter(known));
  return Promise.all((Object.keys(USAGE) as CommandName[]).map(async (name) => named.has(name) ? LOADERS[name]() : { ...USAGE[name], handler: unreachable }));
}

function unreachable(): never {
  throw new Error('llmtap: a command listed by its usage line alone was run');
}
