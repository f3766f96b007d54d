/**
 * Argument fixes applied before yargs sees the command line, and the checks yargs
 * does not make itself. Pure, so they are unit-tested without a process.
 */

/** Flags taking a time whose value may be written `-1d` (a day ago, as journalctl reads it). */
export const TIME_FLAGS: readonly string[] = ['--since', '--until', '--before'];

/**
 * `--der -` (stdout) reads to yargs as an unknown positional "-", and `--since -1d` as
 * the flags -1 and -d: join such a flag (`flags`, `timeFlags`) and the value that follows
 * it into `--der=-`, `--since=-1d`, which yargs passes through as the value.
 */
export function joinDashValues(args: readonly string[], flags: readonly string[], timeFlags: readonly string[] = TIME_FLAGS): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if ((flags.includes(arg) && next === '-') || (timeFlags.includes(arg) && next !== undefined && /^-\d/.test(next))) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * yargs turns `--port abc` into NaN and lets it through. Finds the first number
 * option that did not parse and names it with what the user typed.
 */
export function notANumber(parsed: Record<string, unknown>, args: readonly string[]): string | undefined {
  for (const [key, value] of Object.entries(parsed)) {
    if (key.length < 2 || /[A-Z]/.test(key)) continue; // the kebab-case flag, not its camelCase twin or alias
    const values = Array.isArray(value) ? value : [value];
    if (!values.some((v) => typeof v === 'number' && Number.isNaN(v))) continue;
    return `--${key} ${JSON.stringify(typedValue(args, key) ?? '')}: not a number`;
  }
  return undefined;
}

/**
 * yargs collects a flag given twice into a list, which only the repeatable options
 * (`repeatable`: those declared as arrays, with their aliases) expect; any other would
 * reach a query as a list and crash it (`stats --tool a --tool b`) or quietly lose to the
 * default (`export --format har --format csv` wrote JSON lines). Names the first such flag
 * as typed; `aliases` maps a key to its other names (`--limit` and `--last`).
 */
export function repeatedFlag(parsed: Record<string, unknown>, args: readonly string[], repeatable: readonly string[], aliases: Readonly<Record<string, readonly string[]>>): string | undefined {
  for (const [key, value] of Object.entries(parsed)) {
    if (!Array.isArray(value) || key === '_' || repeatable.includes(key)) continue;
    const names = new Set([key, ...(aliases[key] ?? [])]);
    if ([...names].some((name) => repeatable.includes(name))) continue;
    const typed = [...new Set(optionWords(args).filter((name) => names.has(name)))].map((name) => `--${name}`);
    if (typed.length === 0) continue; // a camelCase twin or a one-letter alias: its dashed key is named
    return typed.length > 1 ? `${typed.join(' and ')} are one option: give it once` : `${typed[0]} given ${value.length} times: it takes one value`;
  }
  return undefined;
}

/** The long options typed before any `--`, by name (`--since=1d` → since). */
function optionWords(args: readonly string[]): string[] {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).filter((a) => a.startsWith('--') && a.length > 2).map((a) => a.slice(2).split('=')[0]!);
}

/**
 * yargs turns a string option given without its value (`--budgets` last, or followed by
 * another flag) into '' and lets it through, to fail later as "cannot read ''", or into
 * the option's default (`export --format` exports JSON lines). Names the first such
 * option typed before any `--` (positionals, such as `run`'s command and its arguments,
 * may well be empty); no llmtap option means anything by an empty value. `numbers`: the
 * number options, which yargs fills with their default instead.
 */
export function missingValue(parsed: Record<string, unknown>, args: readonly string[], numbers: readonly string[] = []): string | undefined {
  const end = args.indexOf('--');
  const typed = end < 0 ? args : args.slice(0, end);
  for (let i = 0; i < typed.length; i++) {
    const arg = typed[i]!;
    if (!arg.startsWith('--')) continue;
    const [key, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const next = typed[i + 1];
    // A number option given no value reads as its default (`export --last` exported everything).
    if (numbers.includes(key)) {
      if (inline === '' || (inline === undefined && (next === undefined || (next.startsWith('-') && !/^-\d/.test(next))))) return `--${key} needs a value`;
      continue;
    }
    const value = parsed[key];
    const values = Array.isArray(value) ? value : [value];
    // Only options that take text (a boolean flag stands alone; numbers are above, and notANumber's).
    if (!values.some((v) => typeof v === 'string')) continue;
    const given = inline ?? (next !== undefined && !next.startsWith('-') ? next : undefined);
    if (given === undefined || given === '' || values.includes('')) return `--${key} needs a value`;
  }
  return undefined;
}

function typedValue(args: readonly string[], key: string): string | undefined {
  const flag = `--${key}`;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
    if (arg === flag && args[i + 1] !== undefined && Number.isNaN(Number(args[i + 1]))) return args[i + 1];
  }
  return undefined;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known command closest to what was typed, if it is close enough to be a typo (or a prefix). */
export function closestCommand(typed: string, commands: readonly string[]): string | undefined {
  const word = typed.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const name of commands) {
    const d = name.startsWith(word) && word.length >= 2 ? 0 : distance(word, name);
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

/**
 * yargs' argument errors as one line that names what is wrong (its own take several
 * lines for a bad choice, and say "non-option arguments" for a missing one): a bad
 * choice names the flag, what was given and the choices; an unknown option is named with
 * its dashes; a missing positional is named from the command's usage (`show <id>` →
 * `show needs <id>`). `argv` is what was typed, `usage` the usage of the command run,
 * subcommand included (`'show <id>'`, `'policy test <file>'`).
 */
export function argumentProblem(message: string, argv: readonly string[], usage: string | undefined): string {
  const path = commandPath(argv);
  // The usage's leading plain words name the command (and subcommand); the rest are its arguments.
  const words = (usage ?? '').split(' ').filter((w) => w !== '');
  const firstArgument = words.findIndex((w) => w.startsWith('<') || w.startsWith('['));
  const depth = Math.max(1, firstArgument < 0 ? words.length : firstArgument);
  const command = path.slice(0, depth).join(' ');
  if (message.startsWith('Invalid values:')) {
    const bad = [...message.matchAll(/Argument: ([^,]+), Given: (.+?), Choices: (.+)$/gm)];
    if (bad.length > 0) return bad.map((m) => `--${m[1]} ${m[2]}: expected one of ${m[3]!.replace(/"/g, '')}`).join('; ');
  }
  const missing = /^Missing required arguments?: (.+)$/.exec(message);
  if (missing) return `${command}: ${missing[1]!.split(', ').map((name) => `--${name}`).join(', ')} ${missing[1]!.includes(',') ? 'are' : 'is'} required (llmtap ${command} --help)`;
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown) {
    // yargs lists a dashed name and its camelCase twin (dry-run, dryRun): the twin goes.
    const listed = unknown[1]!.split(', ');
    const twin = (name: string): boolean => /[A-Z]/.test(name) && listed.includes(name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
    // An option as typed (`--format`, `-z`); a stray word in quotes.
    const asTyped = (name: string): string => argv.find((a) => a.startsWith('-') && a.replace(/^-+/, '').split('=')[0] === name)?.split('=')[0] ?? `"${name}"`;
    const names = listed.filter((name) => !twin(name)).map(asTyped);
    return `${command}: unknown ${names.every((n) => n.startsWith('-')) ? 'option' : 'argument'}${names.length > 1 ? 's' : ''} ${names.join(', ')} (llmtap ${command} --help lists what it takes)`;
  }
  if (message.startsWith('Not enough non-option arguments')) {
    const missing = [...(usage ?? '').matchAll(/<[^>]+>/g)].map((m) => m[0]).slice(Math.max(0, path.length - depth));
    return missing.length > 0 && path.length <= depth
      ? `${command} needs ${missing.join(' ')} (usage: llmtap ${usage})`
      : `${command}: a required argument is missing (llmtap ${command} --help shows the usage)`;
  }
  return message.split('\n').map((line) => line.trim()).filter((line) => line !== '').join(' ');
}

/** The command words typed: the command and any subcommand, up to the first option (--home and its value skipped). */
export function commandPath(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === '--home') i++;
    else if (arg.startsWith('-')) {
      if (words.length > 0) break;
    } else words.push(arg);
  }
  return words;
}
