import type { Argv, CommandModule } from 'yargs';
import type { PurgeCounts } from '../archive/store.js';
import { openReader, printJson } from './open-reader.js';
import { progressDrawer } from './progress.js';
import { parseTimeArg } from './render/format.js';
import { USAGE } from './command-table.js';

interface PurgeArgs {
  home: string;
  before: string;
  json: boolean;
  'dry-run': boolean;
}

export const purgeCommand: CommandModule<{ home: string }, PurgeArgs> = {
  ...USAGE.purge,
  builder: (y: Argv<{ home: string }>) => y
    .option('before', { type: 'string', demandOption: true, describe: 'a date (2026-11-01) or a duration ago (30d)' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'count what would be deleted, delete nothing' })
    .option('json', { type: 'boolean', default: false, describe: 'print the counts as JSON' })
    .check((a) => {
      parseTimeArg('before', a.before);
      return true;
    }) as unknown as Argv<PurgeArgs>,
  handler: (args) => {
    const before = parseTimeArg('before', args.before);
    const reader = openReader(args.home);
    try {
      const at = new Date(before).toISOString();
      if (args['dry-run']) {
        const counts = reader.purgePreview(before);
        if (args.json) return printJson({ before: at, dry_run: true, ...countsJson(counts) });
        process.stdout.write(`would purge before ${at}: ${countsText(counts)} (stored body parts no other exchange uses go too; nothing was deleted)\n`);
        return;
      }
      // A minute or more on a large archive: a line on a terminal says how far it is.
      const line = progressDrawer();
      let counts: PurgeCounts;
      try {
        counts = reader.purge(before, (step, done, total) => line.draw(`purging: ${step}`, done, total));
      } finally {
        line.end();
      }
      if (args.json) return printJson({ before: at, dry_run: false, ...countsJson(counts), body_parts: counts.bodyParts });
      process.stdout.write(`purged before ${at}: ${countsText(counts)}, ${counts.bodyParts} stored body parts\n`);
    } finally {
      reader.close();
    }
  },
};

/** The counts in the snake_case of every other --json. */
function countsJson(c: Omit<PurgeCounts, 'bodyParts'>): Record<string, number> {
  return { exchanges: c.exchanges, ws_messages: c.wsMessages, tunnels: c.tunnels, sessions: c.sessions, cache_entries: c.cacheEntries };
}

function countsText(c: Omit<PurgeCounts, 'bodyParts'>): string {
  return `${c.exchanges} exchanges, ${c.wsMessages} WebSocket messages, ${c.tunnels} tunnels, ${c.sessions} sessions, ${c.cacheEntries} cached answers`;
}
