import { createWriteStream, existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { exportJsonl, exportTunnelsJsonl } from '../archive/export.js';
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
    const write = (line: string): void => void out.write(`${line}\n`);
    const options = { since: args.since ? Date.parse(args.since) : undefined, limit: args.limit };
    const count = args.tunnels ? exportTunnelsJsonl(archive, write, options) : exportJsonl(archive, write, options);
    archive.close();
    if (args.out) {
      await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(resolve));
      process.stderr.write(`llmtap: wrote ${count} records to ${args.out}\n`);
    }
  },
};
