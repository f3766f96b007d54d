import { createWriteStream, existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { countRecords, exchangeLines, tunnelLines, writeLines } from '../archive/export.js';
import { harLines } from '../archive/har.js';
import { paths } from '../config.js';
import { openArchive } from '../recorder/db.js';
import { counted } from './progress.js';
import { parseTimeArg } from './render/format.js';

interface ExportArgs {
  home: string;
  format: string;
  tunnels: boolean;
  since?: string;
  until?: string;
  limit?: number;
  session?: string;
  out?: string;
}

export const exportCommand: CommandModule<{ home: string }, ExportArgs> = {
  command: 'export',
  describe: 'write the archive as JSON lines (one object per exchange) or as HAR 1.2',
  builder: (y: Argv<{ home: string }>) => y
    .option('format', { type: 'string', choices: ['jsonl', 'har'], default: 'jsonl', describe: 'jsonl: one object per line; har: one HAR 1.2 document' })
    .option('tunnels', { type: 'boolean', default: false, describe: 'export the tunnel records instead of exchanges' })
    .option('since', { type: 'string', describe: 'only records started since a duration ago (10m, 2h, 7d) or a date' })
    .option('until', { type: 'string', describe: 'only records started before a duration ago (1h) or a date' })
    .option('limit', { type: 'number', describe: 'the newest N records (written oldest first)' })
    .alias('limit', 'last')
    .option('session', { type: 'string', describe: 'only the exchanges of this session (ids from `llmtap sessions`)' })
    .option('out', { type: 'string', describe: 'write to FILE instead of stdout' })
    .check((a) => {
      if (a.since !== undefined) parseTimeArg('since', a.since);
      if (a.until !== undefined) parseTimeArg('until', a.until);
      if (a.limit !== undefined && (!Number.isInteger(a.limit) || a.limit < 0)) throw new Error('--limit must be a non-negative integer');
      if (a.format === 'har' && a.tunnels) throw new Error('--tunnels has no HAR form (tunnels carry no requests); use --format jsonl');
      return true;
    }) as unknown as Argv<ExportArgs>,
  handler: async (args) => {
    const file = paths(args.home).archive;
    if (!existsSync(file)) {
      process.stderr.write(`llmtap: no archive at ${file} (start the proxy first, or pass --home)\n`);
      process.exit(1);
    }
    const archive = openArchive(file);
    const out = args.out ? createWriteStream(args.out) : process.stdout;
    const now = Date.now();
    const options = { since: args.since ? parseTimeArg('since', args.since, now) : undefined, until: args.until ? parseTimeArg('until', args.until, now) : undefined, limit: args.limit, session: args.session };
    const har = args.format === 'har';
    try {
      const lines = args.tunnels ? tunnelLines(archive, options) : har ? harLines(archive, options) : exchangeLines(archive, options);
      // Progress only into a file: on stdout the records may be going to a pager on the same terminal.
      const table = args.tunnels ? 'tunnels' : 'exchanges';
      const shown = args.out ? counted(lines, `exporting ${table}`, () => countRecords(archive, table, options) + (har ? 2 : 0)) : lines;
      const { lines: written } = await writeLines(shown, out);
      // A HAR document is its head line, one line per entry, and its tail line.
      const count = har ? Math.max(0, written - 2) : written;
      if (args.out) {
        // end()'s callback gets the error of a file that could not be opened or written.
        await new Promise<void>((resolve, reject) => (out as NodeJS.WritableStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
        process.stderr.write(`llmtap: wrote ${count} records to ${args.out}\n`);
      }
    } catch (err) {
      process.stderr.write(`llmtap: export failed: ${(err as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      archive.close();
    }
  },
};
