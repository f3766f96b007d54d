import { leavesCostOut } from '../cost/unpriced-count.js';
import type { Argv, CommandModule } from 'yargs';
import { exchangeToJson, headerPairs } from '../archive/export.js';
import { rowUsesTls } from '../archive/row-scheme.js';
import type { SqliteArchiveReader } from '../archive/sqlite-reader.js';
import type { PriceOverrides } from '../cost/override-match.js';
import type { ExchangeRow, WsMessageRow } from '../recorder/db.js';
import { isAsideRow, sessionThreads, threadTurns } from '../sessions/turns.js';
import { ambiguous, openReader, pricesFlag, printJson, sessionReading } from './open-reader.js';
import { pricesOption } from './options.js';
import { renderSession } from './render/session-text.js';
import { useColor } from './render/table.js';
import { wsRawLine } from './render/ws-raw.js';
import { sessionJson } from './sessions.js';
import { threadsJson, turnJson } from '../sessions/turns-json.js';
import { outputTokens } from '../providers/usage-totals.js';
import { USAGE } from './command-table.js';
import { waitForEstimates } from './estimate-wait.js';

interface ShowArgs {
  home: string;
  id: string;
  raw: boolean;
  json: boolean;
  format: 'text' | 'md';
  thinking: boolean;
  'max-text': number;
  prices?: string;
}

export const showCommand: CommandModule<{ home: string }, ShowArgs> = {
  ...USAGE.show,
  builder: (y: Argv<{ home: string }>) => y
    .positional('id', { type: 'string', demandOption: true, describe: 'session or exchange id, or a unique prefix' })
    .option('raw', { type: 'boolean', default: false, describe: 'print the exact stored request and response' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
    .option('format', { type: 'string', choices: ['text', 'md'], default: 'text', describe: 'md: Markdown, for pasting into an issue' })
    .option('thinking', { type: 'boolean', default: false, describe: 'show thinking in full (collapsed to one line by default)' })
    .option('max-text', { type: 'number', default: 2000, describe: 'cut each text block after this many characters (0: never)' })
    .options(pricesOption)
    .check((a) => {
      if (!Number.isInteger(a['max-text']) || a['max-text'] < 0) throw new Error('--max-text must be a non-negative integer');
      if (a.raw && a.json) throw new Error('--raw and --json cannot be combined');
      if (a.format !== 'text' && (a.raw || a.json)) throw new Error(`--format ${a.format} is for the text view: not with --${a.raw ? 'raw' : 'json'}`);
      return true;
    }) as unknown as Argv<ShowArgs>,
  handler: async (args) => {
    const overrides = pricesFlag(args.prices);
    const reader = openReader(args.home);
    try {
      const found = reader.resolve(args.id);
      if (!found) return fail(`no session or exchange "${args.id}"`);
      if (found.kind === 'ambiguous') return fail(ambiguous(args.id, found.matches));
      // An answer that reported no usage is committed a moment before the writer's estimate
      // of it: shown then, it would read 0 tokens. Wait for it (bounded), as `sessions` does.
      await waitForEstimates(() => found.kind === 'session' ? reader.awaitingEstimates([found.id]) : reader.exchangesAwaitingEstimates([found.id]));
      if (found.kind === 'session') showSession(reader, found.id, args, overrides);
      else showExchange(reader, found.id, args, overrides);
    } finally {
      reader.close();
    }
  },
};

function showSession(reader: SqliteArchiveReader, id: string, args: ShowArgs, overrides: PriceOverrides | undefined): void {
  const detail = reader.session(id)!;
  if (args.raw) {
    for (const row of detail.exchanges) writeRaw(row, row.status === 101 ? reader.wsMessages(row.id) : []);
    return;
  }
  const threads = sessionThreads(detail, sessionReading(reader, overrides));
  // Token counts asked in the session: no turns (sessions/group-aside.ts), counted beside them.
  const asides = detail.exchanges.filter(isAsideRow).length;
  if (args.json) return printJson({ session: sessionJson(detail.session), threads: threadsJson(threads), token_counts: asides });
  const color = args.format === 'text' && useColor(process.stdout);
  process.stdout.write(renderSession(detail.session, threads, { markdown: args.format === 'md', color, thinking: args.thinking, maxText: args['max-text'] }, asides));
}

function showExchange(reader: SqliteArchiveReader, id: string, args: ShowArgs, overrides: PriceOverrides | undefined): void {
  const { row, wsMessages } = reader.exchange(id)!;
  if (args.raw) return writeRaw(row, wsMessages);
  // A Codex session's requests are its turns; `turn` stays the first of them (what it was before there were several).
  const turns = threadTurns([row], { ...sessionReading(reader, overrides), messagesOf: () => wsMessages });
  if (args.json) {
    return printJson({ ...exchangeToJson(row, row.status === 101 ? wsMessages : undefined), turn: turns[0] && turnJson(turns[0]), ...(turns.length > 1 ? { turns: turns.map(turnJson) } : {}) });
  }
  // One exchange reads like a one-turn session.
  const summary = {
    id: row.session_id ?? row.id, startedAt: row.started_at, endedAt: row.ended_at ?? row.started_at, tool: row.tool_name, clientAddress: row.client_address,
    clientUser: row.client_user, clientLabel: row.client_label ?? null, models: row.model ? [row.model] : [], threads: 1, exchanges: 1, retries: 0, errors: 0, inputTokens: 0, outputTokens: outputTokens(row) ?? 0,
    cachedInputTokens: row.cached_input_tokens ?? 0, costUsd: row.cost_usd, unpriced: leavesCostOut(row) ? 1 : 0, apiEquivalent: row.cost_source === 'api_equivalent', quota: null,
  };
  summary.inputTokens = turns.reduce((n, t) => n + (t.promptTokens ?? 0), 0);
  const thread = { id: row.thread_id ?? '-', sessionId: summary.id, parentThreadId: null, spawnedByToolCallId: null, agentId: null, startedAt: row.started_at, endedAt: summary.endedAt, models: summary.models, exchanges: 1, inputTokens: summary.inputTokens, outputTokens: summary.outputTokens, cachedInputTokens: summary.cachedInputTokens, costUsd: row.cost_usd, quota: null };
  const color = args.format === 'text' && useColor(process.stdout);
  const text = renderSession(summary, [{ thread, turns, children: [] }], { markdown: args.format === 'md', color, thinking: args.thinking, maxText: args['max-text'] });
  process.stdout.write(text.replace(/^.*\n/, `exchange ${row.id}${row.session_id ? ` (session ${row.session_id})` : ''}\n`));
}

/**
 * The request and response as stored: head lines, headers, then the body bytes untouched;
 * a WebSocket session's messages after its 101, one a line (render/ws-raw.ts).
 */
function writeRaw(row: ExchangeRow, wsMessages: readonly WsMessageRow[]): void {
  const head = (headersJson: string | null): string => headerPairs(headersJson ?? '[]').map(([n, v]) => `${n}: ${v}\r\n`).join('');
  const headers = head(row.request_headers);
  // The stored headers hold the client's own Host line; name the target only when they do not.
  const host = /^host:/im.test(headers) ? '' : `Host: ${row.host}${row.port === (rowUsesTls(row) ? 443 : 80) ? '' : `:${row.port}`}\r\n`;
  process.stdout.write(`${row.method} ${row.path} HTTP/1.1\r\n${host}${headers}\r\n`);
  if (row.request_body) process.stdout.write(row.request_body);
  process.stdout.write('\r\n\r\n');
  if (row.status !== null) {
    process.stdout.write(`HTTP/1.1 ${row.status}\r\n${head(row.response_headers)}\r\n`);
    if (row.response_body) process.stdout.write(row.response_body);
    process.stdout.write('\r\n');
  }
  if (wsMessages.length > 0) process.stdout.write(wsMessages.map(wsRawLine).join(''));
}

function fail(message: string): void {
  process.stderr.write(`llmtap: ${message}\n`);
  process.exitCode = 1;
}
