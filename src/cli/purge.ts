import type { Argv, CommandModule } from 'yargs';
import { openReader, printJson } from './open-reader.js';
import { parseTimeArg } from './render/format.js';

interface PurgeArgs {
  home: string;
  before: string;
  json: boolean;
}

export const purgeCommand: CommandModule<{ home: string }, PurgeArgs> = {
  command: 'purge',
  describe: 'delete everything recorded before a date (and stored parts nothing uses any more)',
  builder: (y: Argv<{ home: string }>) => y
    .option('before', { type: 'string', demandOption: true, describe: 'a date (2026-11-01) or a duration ago (30d)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the counts as JSON' })
    .check((a) => {
      parseTimeArg('before', a.before);
      return true;
    }) as unknown as Argv<PurgeArgs>,
  handler: (args) => {
    const before = parseTimeArg('before', args.before);
    const reader = openReader(args.home);
    try {
      const counts = reader.purge(before);
      if (args.json) return printJson({ before: new Date(before).toISOString(), ...counts });
      process.stdout.write(`purged before ${new Date(before).toISOString()}: ${counts.exchanges} exchanges, ${counts.wsMessages} WebSocket messages, ` +
        `${counts.tunnels} tunnels, ${counts.sessions} sessions, ${counts.bodyParts} stored body parts\n`);
    } finally {
      reader.close();
    }
  },
};
