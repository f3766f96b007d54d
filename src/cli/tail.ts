import { paths } from '../config.js';
import type { Argv, CommandModule } from 'yargs';
import { FollowedReader } from '../archive/followed-reader.js';
import type { SqliteArchiveReader } from '../archive/sqlite-reader.js';
import type { ExchangeFilter } from '../archive/exchange-filter.js';
import type { ExchangeListRow } from '../archive/store.js';
import { modelLabel, rowModels } from '../archive/model-parts.js';
import { estimatedPart } from '../archive/estimated-part.js';
import { outputTokens, promptTokens } from '../providers/usage-totals.js';
import { HeldRows } from './tail-hold.js';
import { filterFlags, filterOf, filterProblem, type FilterArgs } from './filter-flags.js';
import { openReader } from './open-reader.js';
import { duration, statusLabel, terminalSafe, tokens, usd } from './render/format.js';
import { dim, fitted, red, useColor } from './render/table.js';
import { exchangeFailed } from '../failed-exchange.js';
import { usdFigure } from '../archive/stats-json.js';
import { USAGE } from './command-table.js';

type TailArgs = FilterArgs & {
  home: string;
  json: boolean;
  interval: number;
  all: boolean;
  lines?: number;
};

export const tailCommand: CommandModule<{ home: string }, TailArgs> = {
  ...USAGE.tail,
  builder: (y: Argv<{ home: string }>) => filterFlags(y
    .option('json', { type: 'boolean', default: false, describe: 'one JSON object per line' })
    .option('all', { type: 'boolean', default: false, describe: 'start from the oldest exchange instead of now' })
    .option('lines', { alias: 'n', type: 'number', describe: 'start with the last N exchanges (that the filters keep)' })
    .option('interval', { type: 'number', default: 250, describe: 'ms between looks at the archive' }), 'exchanges')
    .check((a) => {
      if (!(a.interval >= 20)) throw new Error('--interval must be at least 20 (ms)');
      if (a.until !== undefined) throw new Error('tail follows what is recorded from now on: --until has no place here (export --until reads a closed range)');
      if (a.all && a.since !== undefined) throw new Error('--all and --since both say where to start; give one');
      if (a.lines !== undefined && !(Number.isInteger(a.lines) && a.lines >= 0)) throw new Error('--lines must be a whole number of exchanges, 0 or more');
      if (a.lines !== undefined && a.all) throw new Error('--lines and --all both say where to start; give one');
      const problem = filterProblem(a);
      if (problem) throw new Error(problem);
      return true;
    }) as unknown as Argv<TailArgs>,
  handler: async (args) => {
    const file = paths(args.home).archive;
    openReader(args.home).close(); // one line and exit 1 without an archive; an older schema brought up to date
    const read = filterOf(args);
    if (!read) return;
    const { filter } = read;
    // The file at the path, followed: the proxy re-creates an archive deleted under it.
    const archive = new FollowedReader(file);
    const color = useColor(process.stdout);
    // The proxy writes the archive from its own process; a reader sees each committed
    // batch (every ~10 ms) on its next look. Reading by rowid keeps each look one index range.
    let reading = archive.current();
    // --since is a condition of the filter, so -n with it is the last N since then.
    let cursor = args.lines !== undefined ? (reading ? lastRowsCursor(reading, args.lines, filter) : 0) : args.all || args.since !== undefined ? 0 : (reading?.endCursor() ?? 0);
    // Rows read but not printed yet: one awaiting its estimate waits for it a moment (tail-hold.ts).
    const held = new HeldRows<ExchangeListRow>();
    const print = (rows: readonly ExchangeListRow[]): void => {
      for (const row of rows) process.stdout.write(`${args.json ? JSON.stringify(tailJson(row)) : tailLine(row, color)}\n`);
    };
    let stop = false;
    const onSignal = (): void => {
      stop = true;
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.stdout.on('error', () => (stop = true)); // reader gone (| head)
    // On stderr, so the data on stdout stays clean; it also tells a script when tail is watching.
    const matching = Object.values(filter).some((value) => value !== undefined) ? 'matching ' : '';
    const from = args.lines !== undefined ? `from its last ${args.lines} ${matching}${args.lines === 1 ? 'exchange' : 'exchanges'}` : args.all ? 'from the oldest exchange' : args.since !== undefined ? `from ${new Date(read.filter.since!).toISOString()}` : 'from now';
    process.stderr.write(`llmtap: following ${file} ${from}; Ctrl-C stops\n`);
    try {
      while (!stop) {
        const reader = archive.current();
        if (reader !== reading) {
          // Another file at the path: everything in it came after the one followed so far.
          print(held.drain());
          reading = reader;
          cursor = 0;
          if (reader) process.stderr.write(`llmtap: ${file} was re-created; following the new file from its first exchange\n`);
        }
        // While a page's worth waits behind a held row, no more is read (memory stays bounded).
        const page = reader && held.size < PAGE ? newRows(reader, cursor, filter) : undefined;
        if (page) cursor = page.cursor;
        held.add(page?.rows ?? [], Date.now());
        const awaiting = held.awaiting();
        const fresh = reader && awaiting.length > 0 ? reread(reader, awaiting) : [];
        print(held.release(new Map(fresh.map((row) => [row.id, row])), Date.now()));
        if ((page?.rows.length ?? 0) < PAGE) await new Promise((r) => setTimeout(r, args.interval));
      }
    } finally {
      print(held.drain()); // stopped (Ctrl-C): what was held, as it stands
      archive.close();
    }
  },
};

const PAGE = 500;

/** The next rows after `cursor`; none yet from a file the proxy is still creating (no table in it yet). */
function newRows(reader: SqliteArchiveReader, cursor: number, filter: ExchangeFilter): ReturnType<SqliteArchiveReader['exchangesAfter']> | undefined {
  try {
    return reader.exchangesAfter(cursor, PAGE, filter);
  } catch (error) {
    if (/no such table/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** Where `-n N` starts; a file the proxy is still creating has no rows to go back over. */
function lastRowsCursor(reader: SqliteArchiveReader, count: number, filter: ExchangeFilter): number {
  try {
    return reader.cursorBeforeLast(count, filter);
  } catch (error) {
    if (/no such table/.test((error as Error).message)) return 0;
    throw error;
  }
}

/** The held rows awaiting their estimate, read again (a few ids at a time: they are the rows of one moment). */
function reread(reader: SqliteArchiveReader, ids: readonly string[]): ExchangeListRow[] {
  try {
    return reader.listRows(ids.slice(0, PAGE));
  } catch {
    return []; // the file is being replaced: the rows print as they stand once held long enough
  }
}

/** "14:03:07 claude-code  claude-sonnet-4-5  200  1.2s  in 12.3k out 345  $0.0123  POST api.anthropic.com/v1/messages". */
export function tailLine(row: ExchangeListRow, color: boolean): string {
  const time = new Date(row.started_at).toTimeString().slice(0, 8);
  const status = statusLabel(row.status, row.outcome, row.stop_reason);
  const part = estimatedPart(row.usage_estimated);
  const est = part ? '~' : '';
  // The input of a stream cut after the provider reported it is the provider's: only the output is marked.
  const estIn = part === 'all' ? '~' : '';
  const parts = [
    time, fitted(row.tool_name ?? '-', 18), fitted(modelLabel(row) ?? '-', 20), color && status.failed ? red(status.text) : status.text,
    duration(row.ended_at === null ? null : row.ended_at - row.started_at).padStart(6),
    // `~`: estimated by llmtap (the answer reported no usage; or, before the output alone, a stream cut after its input was reported).
    `in ${row.input_tokens === null && row.cached_input_tokens === null ? '-' : `${estIn}${tokens(promptTokens(row))}`} out ${est}${tokens(outputTokens(row))}`, usd(row.cost_usd, { apiEquivalent: row.cost_source === 'api_equivalent' }),
    `${row.method} ${row.host}${row.path}`,
  ];
  const line = parts.join('  ');
  return terminalSafe(color ? `${line}${row.session_id ? dim(`  ${row.session_id}`) : ''}` : line);
}

export function tailJson(row: ExchangeListRow): Record<string, unknown> {
  return {
    id: row.id, started_at: new Date(row.started_at).toISOString(), tool: row.tool_name, model: row.model, models: rowModels(row), status: row.status, outcome: row.outcome,
    // The one rule of stats and `--status error` (failed-exchange.ts): a consumer need not know stop reasons.
    failed: exchangeFailed({ outcome: row.outcome, status: row.status, stopReason: row.stop_reason }), stop_reason: row.stop_reason,
    duration_ms: row.ended_at === null ? null : Math.round(row.ended_at - row.started_at), host: row.host, method: row.method, path: row.path,
    // No usage reported is null (as the line's "in -" and export's prompt_tokens), not 0 tokens.
    tokens: { input: row.input_tokens === null && row.cached_input_tokens === null ? null : promptTokens(row), output: outputTokens(row), cached_input: row.cached_input_tokens }, cost_usd: usdFigure(row.cost_usd),
    session_id: row.session_id, thread_id: row.thread_id, usage_estimated: estimatedPart(row.usage_estimated) !== null, usage_estimated_part: estimatedPart(row.usage_estimated),
  };
}
