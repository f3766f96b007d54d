import { createInterface } from 'node:readline';
import type { Argv, CommandModule } from 'yargs';
import { replayTimeline, type ReplayStep } from '../sessions/replay-timeline.js';
import { sessionThreads } from '../sessions/turns.js';
import { openReader, pricesFlag, resolveSession, sessionReading } from './open-reader.js';
import { pricesOption } from './options.js';
import { counted, duration, terminalSafe } from './render/format.js';
import { renderTurnLines } from './render/session-text.js';
import { dim, useColor } from './render/table.js';
import { turnJson } from '../sessions/turns-json.js';
import { USAGE } from './command-table.js';

interface ReplayArgs {
  home: string;
  session: string;
  speed: number;
  'max-gap': number;
  wait: boolean;
  step: boolean;
  json: boolean;
  thinking: boolean;
  'max-text': number;
  prices?: string;
}

export const replayCommand: CommandModule<{ home: string }, ReplayArgs> = {
  ...USAGE.replay,
  builder: (y: Argv<{ home: string }>) => y
    .positional('session', { type: 'string', demandOption: true, describe: 'session id, or a unique prefix' })
    .option('speed', { type: 'number', default: 1, describe: 'playback speed: 1 = as recorded, 10 = ten times faster' })
    .option('max-gap', { type: 'number', default: 10, describe: 'never wait longer than this many seconds between turns' })
    .option('wait', { type: 'boolean', default: true, describe: '--no-wait prints every turn at once' })
    .option('step', { type: 'boolean', default: false, describe: 'wait for Enter before each turn (q then Enter stops)' })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON line per turn as it plays' })
    .option('thinking', { type: 'boolean', default: false, describe: 'show thinking in full' })
    .option('max-text', { type: 'number', default: 2000, describe: 'cut each text block after this many characters (0: never)' })
    .options(pricesOption)
    .check((a) => {
      if (!(a.speed > 0) || !Number.isFinite(a.speed)) throw new Error(`--speed must be a positive number (got ${String(a.speed)})`);
      if (!(a['max-gap'] >= 0) || !Number.isFinite(a['max-gap'])) throw new Error(`--max-gap must be a number of seconds, 0 or more (got ${String(a['max-gap'])})`);
      if (!Number.isInteger(a['max-text']) || a['max-text'] < 0) throw new Error('--max-text must be a non-negative integer');
      if (a.step && !process.stdin.isTTY) throw new Error('--step needs a terminal on standard input');
      return true;
    }) as unknown as Argv<ReplayArgs>,
  handler: async (args) => {
    const overrides = pricesFlag(args.prices);
    const reader = openReader(args.home);
    let steps: ReplayStep[];
    let header: string;
    try {
      const id = resolveSession(reader, args.session, `llmtap show ${args.session} prints it`);
      if (id === undefined) return;
      const detail = reader.session(id)!;
      steps = replayTimeline(sessionThreads(detail, sessionReading(reader, overrides)), { speed: args.wait && !args.step ? args.speed : Infinity, maxGapMs: args['max-gap'] * 1000 });
      const s = detail.session;
      // Turns as show and sessions count them: a retry is its turn again, counted apart.
      const retries = steps.filter((step) => step.retry).length;
      const turns = `${counted(steps.length - retries, 'turn')}${retries === 0 ? '' : ` (+${retries === 1 ? '1 retry' : `${retries} retries`})`}`;
      header = `replaying session ${s.id}: ${turns} in ${counted(s.threads, 'thread')}, recorded over ${duration(s.endedAt - s.startedAt)}${args.speed !== 1 && args.wait && !args.step ? ` at ${args.speed}× speed` : ''}`;
    } finally {
      reader.close();
    }
    await play(steps, header, args);
  },
};

async function play(steps: ReplayStep[], header: string, args: ReplayArgs): Promise<void> {
  const color = !args.json && useColor(process.stdout);
  const lines = args.step ? createInterface({ input: process.stdin }) : undefined;
  const nextLine = (): Promise<string> => new Promise((resolve) => lines!.once('line', resolve));
  if (!args.json) process.stdout.write(`${terminalSafe(color ? dim(header) : header)}\n\n`);
  try {
    for (const [i, step] of steps.entries()) {
      if (lines) {
        process.stderr.write(`[turn ${i + 1}/${steps.length}] Enter for the next turn, q to stop `);
        if ((await nextLine()).trim().toLowerCase() === 'q') return;
      } else if (step.waitMs > 0) {
        await new Promise((r) => setTimeout(r, step.waitMs));
      }
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ step: i + 1, threadId: step.turn.threadId, depth: step.depth, gapMs: step.gapMs, waitedMs: lines ? null : step.waitMs, turn: turnJson(step.turn) })}\n`);
        continue;
      }
      const when = `+${duration(step.gapMs)}${step.depth > 0 ? ` · subagent thread ${step.turn.threadId}` : ''}`;
      process.stdout.write(`${terminalSafe(color ? dim(when) : when)}\n${renderTurnLines(step.turn, step.depth, { markdown: false, color, thinking: args.thinking, maxText: args['max-text'] }, step.retry).join('\n')}\n`);
    }
  } finally {
    lines?.close();
  }
}
