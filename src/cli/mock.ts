import { resolve, join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadRecordings, type LoadedRecordings } from '../mock/load-recordings.js';
import { MockUpstream } from '../mock/mock-upstream.js';
import { openReader } from './open-reader.js';
import { counted, parseTimeArg } from './render/format.js';
import { runProxy } from './run-proxy.js';
import { startOptions, type StartArgs } from './start.js';
import { USAGE } from './command-table.js';

type MockArgs = StartArgs & { session?: string; since?: string; timing: boolean; 'record-home'?: string };

export const mockCommand: CommandModule<{ home: string }, MockArgs> = {
  ...USAGE.mock,
  builder: (y: Argv<{ home: string }>) => startOptions(y)
    .option('session', { type: 'string', describe: 'replay this session (id or unique prefix)' })
    .option('since', { type: 'string', describe: 'replay every exchange since a duration ago (2h, 7d) or a date' })
    .option('timing', { type: 'boolean', default: false, describe: 'wait the recorded time to headers and to first byte before answering, and between WebSocket messages' })
    .option('record-home', { type: 'string', describe: "home the mock's own exchanges are recorded in (default: <home>/mock); never the replayed one" })
    .check((a) => {
      if ((a.session === undefined) === (a.since === undefined)) throw new Error('mock needs exactly one of --session ID or --since DURATION');
      if (a.since !== undefined) parseTimeArg('since', a.since);
      if (a['record-home'] !== undefined && resolve(a['record-home']) === resolve(a.home)) throw new Error('--record-home must differ from --home: the mock never writes into the archive it replays');
      return true;
    }) as unknown as Argv<MockArgs>,
  handler: async (args: ArgumentsCamelCase<MockArgs>) => {
    const reader = openReader(args.home);
    let loaded: LoadedRecordings;
    try {
      loaded = loadRecordings(reader, args.session !== undefined ? { session: args.session } : { since: parseTimeArg('since', args.since!) });
    } catch (err) {
      // A session the archive does not hold ends as it does for show and replay (exit 1).
      process.stderr.write(`llmtap: ${(err as Error).message}\n`);
      process.exit(1);
    } finally {
      reader.close();
    }
    let mock: MockUpstream | undefined;
    const skipped = Object.entries(loaded.skipped).map(([why, n]) => `${n} ${why.replace('_', ' ')}`).join(', ');
    const what = loaded.sessionId ? `session ${loaded.sessionId}` : `exchanges since ${new Date(parseTimeArg('since', args.since!)).toISOString()}`;
    await runProxy(args, {
      recordHome: args['record-home'] ?? join(args.home, 'mock'),
      mock: (logger) => (mock = new MockUpstream(loaded.index, { timing: args.timing, logger }, loaded.ws)),
      banner: [`  mock of:        ${what} in ${args.home}: ${loaded.index.size} recorded answers, ${loaded.ws.size} WebSocket sessions${skipped ? ` (left out: ${skipped})` : ''}${args.timing ? ', recorded timing' : ''}`],
      summary: () => (mock ? mockSummary(mock) : ''),
    });
  },
};

/** What the mock did, printed when it stops: answers served, requests it had nothing for, recordings never asked for. */
export function mockSummary(mock: MockUpstream): string {
  const lines = [`llmtap mock: ${mock.served} answered from recordings, ${mock.misses.length} with no recording, ${counted(mock.index.unused().length, 'recording')} never asked for`];
  const ws = mock.ws;
  if (mock.wsIndex.size > 0 || ws.sessions > 0) lines.push(`llmtap mock: ${ws.sessions} WebSocket sessions replayed, ${ws.answered} messages answered, ${ws.misses.length} with no recording, ${mock.wsIndex.unusedTurns()} recorded messages never sent`);
  for (const m of [...mock.misses, ...ws.misses].slice(0, 20)) lines.push(`  no_recording ${m.method} ${m.host}${m.path} key ${m.key.slice(0, 16)}${m.nearest ? `, nearest ${m.nearest.exchangeId}: ${m.nearest.difference}` : ''}`);
  return `${lines.join('\n')}\n`;
}
