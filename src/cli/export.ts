import { createWriteStream } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { countRecords, exchangeLines, tunnelLines, writeLines } from '../archive/export.js';
import { exchangeCsvLines } from '../archive/export-csv.js';
import { harLines } from '../archive/har.js';
import { openArchive } from '../recorder/db.js';
import { SqliteArchiveReader } from '../archive/sqlite-reader.js';
import { existingArchive, resolveSession } from './open-reader.js';
import { counted } from './progress.js';
import { counted as countedNoun } from './render/format.js';
import { filterFlags, filterOf, filterProblem, NARROWING_FLAGS, type FilterArgs } from './filter-flags.js';
import { USAGE } from './command-table.js';

type ExportArgs = FilterArgs & {
  home: string;
  format: string;
  tunnels: boolean;
  limit?: number;
  session?: string;
  out?: string;
};

export const exportCommand: CommandModule<{ home: string }, ExportArgs> = {
  ...USAGE.export,
  builder: (y: Argv<{ home: string }>) => filterFlags(y
    .option('format', { type: 'string', choices: ['jsonl', 'har', 'csv'], default: 'jsonl', describe: 'jsonl: one object per line; har: one HAR 1.2 document; csv: one row per exchange, no bodies' })
    .option('tunnels', { type: 'boolean', default: false, describe: 'export the tunnel records instead of exchanges' }), 'records')
    .option('limit', { type: 'number', describe: 'the newest N records (written oldest first)' })
    .alias('limit', 'last')
    .option('session', { type: 'string', describe: 'only the exchanges of this session (ids from `llmtap sessions`)' })
    .option('out', { type: 'string', describe: 'write to FILE instead of stdout' })
    .check((a) => {
      const problem = filterProblem(a);
      if (problem) throw new Error(problem);
      if (a.policy !== undefined && a.team === undefined) throw new Error('--policy is read by --team only');
      const narrowing = [...NARROWING_FLAGS, 'session' as const].filter((f) => a[f] !== undefined);
      if (a.tunnels && narrowing.length > 0) throw new Error(`--tunnels takes only --since, --until and --limit (tunnels carry no ${narrowing.map((f) => `--${f}`).join(', ')})`);
      // At least 1, as every other --limit: `--last 0` exported nothing and said nothing of it.
      if (a.limit !== undefined && (!Number.isInteger(a.limit) || a.limit < 1)) throw new Error(`${process.argv.some((w) => w === '--last' || w.startsWith('--last=')) ? '--last' : '--limit'} must be a positive integer`);
      if (a.format !== 'jsonl' && a.tunnels) throw new Error(`--tunnels has no ${a.format.toUpperCase()} form (tunnels carry no requests); use --format jsonl`);
      return true;
    }) as unknown as Argv<ExportArgs>,
  handler: async (args) => {
    const file = existingArchive(args.home);
    const read = filterOf(args);
    if (!read) return;
    // `--session` takes what `show` takes: the id or a unique prefix of it.
    const session = args.session === undefined ? undefined : sessionNamed(file, args.session);
    if (args.session !== undefined && session === undefined) return;
    const archive = openArchive(file);
    // Owner-only, like the archive and a backup: an export holds the prompts (mode applies to a file it creates).
    const out = args.out ? createWriteStream(args.out, { mode: 0o600 }) : process.stdout;
    const options = { ...read.filter, limit: args.limit, session };
    // Lines that are not records: a HAR document's head and tail, a CSV file's header.
    const framing = args.format === 'har' ? 2 : args.format === 'csv' ? 1 : 0;
    try {
      const lines = args.tunnels ? tunnelLines(archive, options) : args.format === 'har' ? harLines(archive, options) : args.format === 'csv' ? exchangeCsvLines(archive, options) : exchangeLines(archive, options);
      // Progress only into a file: on stdout the records may be going to a pager on the same terminal.
      const table = args.tunnels ? 'tunnels' : 'exchanges';
      const shown = args.out ? counted(lines, `exporting ${table}`, () => countRecords(archive, table, options) + framing) : lines;
      const { lines: written } = await writeLines(shown, out);
      const count = Math.max(0, written - framing);
      if (args.out) {
        // end()'s callback gets the error of a file that could not be opened or written.
        await new Promise<void>((resolve, reject) => (out as NodeJS.WritableStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
        process.stderr.write(`llmtap: wrote ${countedNoun(count, 'record')} to ${args.out}\n`);
      }
    } catch (err) {
      process.stderr.write(`llmtap: export failed: ${(err as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      archive.close();
    }
  },
};

function sessionNamed(file: string, typed: string): string | undefined {
  const reader = new SqliteArchiveReader(file);
  try {
    return resolveSession(reader, typed, 'its session is in `llmtap show ID`');
  } finally {
    reader.close();
  }
}
