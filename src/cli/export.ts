import { createWriteStream, existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { exchangeLines, tunnelLines, writeLines } from '../archive/export.js';
import { paths } from '../config.js';
import { openArchive } from '../recorder/db.js';

interface ExportArgs {
  home: string;
  format: string;
  tunnels: boolean;
  since?: string;
  limit?: number;
  out?: string;
}

export const exportCommand: CommandModule<{ home: string }, ExportArgs> = {
  command: 'export',
  describe: 'write the archive as JSON lines (one object per exchange)',
  builder: (y: Argv<{ home: string }>) => y
    .option('format', { type: 'string', choices: ['jsonl'], default: 'jsonl' })
    .option('tunnels', { type: 'boolean', default: false, describe: 'export the tunnel records instead of exchanges' })
    .option('since', { type: 'string', describe: 'only exchanges started at or after this ISO date/time' })
    .option('limit', { type: 'number', describe: 'at most this many records' })
    .option('out', { type: 'string', describe: 'write to FILE instead of stdout' })
    .check((a) => {
      if (a.since !== undefined && Number.isNaN(Date.parse(a.since))) throw new Error(`--since "${a.since}" is not a date`);
      if (a.limit !== undefined && (!Number.isInteger(a.limit) || a.limit < 0)) throw new Error('--limit must be a non-negative integer');
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
    const options = { since: args.since ? Date.parse(args.since) : undefined, limit: args.limit };
    try {
      const lines = args.tunnels ? tunnelLines(archive, options) : exchangeLines(archive, options);
      const { lines: count } = await writeLines(lines, out);
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
