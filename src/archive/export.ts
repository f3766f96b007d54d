import type { Archive, ExchangeRow, TunnelRow, WsMessageRow } from '../recorder/db.js';
import { USAGE_COLUMNS, type UsageColumns } from '../recorder/row-types.js';
import { usagePartsJson, type UsagePartKey } from './usage-parts.js';
import { decodeStoredBodies } from './stored-bodies.js';
import { rowUsesTls } from './row-scheme.js';
import { estimatedPart, type EstimatedPart } from './estimated-part.js';
import { exchangeWhere, type ExchangeFilter } from './exchange-filter.js';
import { usdFigure } from './stats-json.js';

/** What an export reads from: the archive's database (the writer's handle, or a reader's). */
export type ArchiveDb = Pick<Archive, 'db'>;

/** Which rows to write: the exchanges a filter covers (tunnels: only its time range). */
export interface ExportOptions extends ExchangeFilter {
  /** At most this many rows: the newest ones (still written oldest first). */
  limit?: number;
}

/** Headers as an object: lower-case name → value, or an array of values when repeated. */
export type ExportedHeaders = Record<string, string | string[]>;

export interface ExportedToolCall {
  id: string | null;
  name: string;
  arguments: string;
}

/** The token columns, then the usage parts, each null when not recorded. */
export type ExportedUsage = UsageColumns & Record<UsagePartKey, number | null>;

/** Columns exported as they are stored. */
type AsStored = Pick<ExchangeRow, 'id' | 'connection_id' | 'host' | 'port' | 'method' | 'path' | 'status' | 'provider' | 'api' | 'model'>;

export interface ExportedExchange extends AsStored {
  started_at: string;
  /** How the request went: over TLS (https, wss) or plain HTTP (row-scheme.ts). */
  scheme: 'https' | 'http';
  stream: boolean | null;
  /**
   * The row's token-count columns (the audio ones are parts of the others: Realtime, audio chat
   * completions, GPT-4o transcriptions), then its usage_parts (image and video parts of the
   * counts, whisper-1's audio seconds, web and file searches, 1-hour cache writes; archive/usage-parts.ts).
   */
  usage: ExportedUsage;
  /** True when llmtap estimated those counts (and the cost) from the text: the answer reported no usage, or was cut before its final usage. */
  usage_estimated: boolean;
  /** What was estimated: `all` the counts, or the `output` only (the input is as the provider reported it); null when nothing was. */
  usage_estimated_part: EstimatedPart | null;
  ttfb_ms: number | null;
  duration_ms: number | null;
  outcome: string | null;
  error_code: string | null;
  /** label: `llmtap run --label` (null without one, and in rows from before the column). */
  client: { address: string | null; user: string | null; label: string | null; user_agent: string | null };
  /** The program that sent the request; null in rows from before schema 4. */
  tool: { name: string; version: string | null } | null;
  /** Session, thread and chaining ids the agent sent (camelCase keys as recorded). */
  agent: Record<string, string> | null;
  /** Rate-limit and quota headers of the answer, by family (anthropic, openai, codex). */
  quota: Record<string, Record<string, number | string>> | null;
  /** Where the archive grouped it (null in rows from before schema 5). */
  session_id: string | null;
  thread_id: string | null;
  turn: number | null;
  /** USD at the exchange's time; null when unknown. `api_equivalent`: subscription traffic at API prices. */
  cost_usd: number | null;
  cost_source: string | null;
  /** Policy decisions: { decisions: [{ rule, kind, action, enforced, … }], blocked?, bodyChanged? } (see policy/types.ts). */
  policy: Record<string, unknown> | null;
  request: ExportedBody & { headers: ExportedHeaders };
  response: (ExportedBody & {
    status: number | null;
    headers: ExportedHeaders;
    text: string | null;
    thinking: string | null;
    tool_calls: ExportedToolCall[];
    stop_reason: string | null;
  }) | null;
  /** For a WebSocket session (upgrade answered 101): its messages, both directions, in order. */
  websocket?: { messages: ExportedWsMessage[] };
}

/** One WebSocket message of a session, in order. */
export interface ExportedWsMessage {
  seq: number;
  direction: 'client' | 'server';
  at: string;
  opcode: number;
  size: number;
  compressed: boolean;
  truncated: boolean;
  /** Text messages: the (inflated, redacted) text. */
  text?: string;
  /** Other payloads (binary, close, ping, pong), base64. */
  data_base64?: string;
  error?: string;
}

interface ExportedBody {
  /** UTF-8 text as sent (JSON bodies stay strings, byte-faithful), or base64 for binary. */
  body: string | null;
  body_encoding?: 'base64';
  body_size: number | null;
  body_truncated: boolean | null;
  /** What `body` holds: as_sent, decoded, decoded_prefix (truncated), digest (body null); null for rows from before it was recorded. */
  body_stored: string | null;
  /** SHA-256 (hex) of the captured bytes, for decoded_prefix and digest. */
  body_sha256?: string;
}

/**
 * Exchanges as JSON Lines, oldest first. Rows are read one at a time (iterate, not
 * all()), so an archive of any size exports in constant memory as long as the
 * consumer keeps up (writeLines waits for it).
 */
export function* exchangeLines(archive: ArchiveDb, options: ExportOptions = {}): Generator<string> {
  for (const { row, ws } of exchangeRows(archive, options)) yield JSON.stringify(exchangeToJson(row, ws));
}

/** Exchange rows oldest first, one at a time, each WebSocket session (101) with its messages. */
export function* exchangeRows(archive: ArchiveDb, options: ExportOptions = {}): Generator<{ row: ExchangeRow; ws?: WsMessageRow[] }> {
  const { sql, params } = selectSql('exchanges', options);
  const messages = archive.db.prepare('SELECT * FROM ws_messages WHERE exchange_id = ? ORDER BY seq');
  for (const stored of archive.db.prepare(sql).iterate(params) as IterableIterator<ExchangeRow>) {
    const row = decodeStoredBodies(stored, archive.db);
    yield { row, ws: row.status === 101 ? (messages.all(row.id) as WsMessageRow[]) : undefined };
  }
}

/** Tunnel records as JSON Lines, oldest first, one row at a time like exchangeLines. */
export function* tunnelLines(archive: ArchiveDb, options: ExportOptions = {}): Generator<string> {
  const { sql, params } = selectSql('tunnels', options);
  for (const row of archive.db.prepare(sql).iterate(params) as IterableIterator<TunnelRow>) {
    yield JSON.stringify({
      id: row.id,
      started_at: isoTime(row.started_at),
      ended_at: row.ended_at === null ? null : isoTime(row.ended_at),
      client: { address: row.client_address, user: row.client_user },
      host: row.host,
      port: row.port,
      bytes_up: row.bytes_up,
      bytes_down: row.bytes_down,
      duration_ms: elapsed(row.started_at, row.ended_at),
      outcome: row.outcome,
    });
  }
}

/** How writeLines ended: every line written, or the reader went away (EPIPE: `llmtap export | head`). */
export interface WriteLinesResult {
  lines: number;
  readerGone: boolean;
}

/**
 * Writes each line plus a newline, waiting for `out` to drain whenever it asks to, so
 * a slow reader (a pipe into less, a network share) holds the export back instead of
 * the whole archive piling up in memory. A reader that closes early ends the export
 * quietly; any other stream error is thrown.
 */
export async function writeLines(lines: Iterable<string>, out: NodeJS.WritableStream): Promise<WriteLinesResult> {
  let failure: NodeJS.ErrnoException | undefined;
  let wake: (() => void) | undefined;
  const onError = (err: NodeJS.ErrnoException): void => {
    failure ??= err;
    wake?.();
  };
  const onDrain = (): void => wake?.();
  // A reader that went away without an error (an HTTP download cancelled) never drains: it ends the export like EPIPE.
  const onClose = (): void => onError(Object.assign(new Error('reader closed'), { code: 'EPIPE' }));
  out.on('error', onError);
  out.on('drain', onDrain);
  out.on('close', onClose);
  let count = 0;
  try {
    for (const line of lines) {
      if (failure) break;
      const more = out.write(`${line}\n`);
      count++;
      if (!more && !failure) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    out.off('drain', onDrain);
    out.off('close', onClose);
  }
  // Errors after the last write still count; leave the listener so a late one is not thrown.
  if (failure && failure.code !== 'EPIPE') throw failure;
  return { lines: count, readerGone: failure?.code === 'EPIPE' };
}

export function exchangeToJson(row: ExchangeRow, wsMessages?: readonly WsMessageRow[]): ExportedExchange {
  const exported: ExportedExchange = {
    id: row.id,
    connection_id: row.connection_id,
    started_at: isoTime(row.started_at),
    host: row.host,
    port: row.port,
    scheme: rowUsesTls(row) ? 'https' : 'http',
    method: row.method,
    path: row.path,
    status: row.status,
    provider: row.provider,
    api: row.api,
    model: row.model,
    stream: row.stream === null ? null : row.stream === 1,
    usage: usageJson(row),
    usage_estimated: estimatedPart(row.usage_estimated) !== null,
    usage_estimated_part: estimatedPart(row.usage_estimated),
    ttfb_ms: elapsed(row.started_at, row.first_byte_at),
    duration_ms: elapsed(row.started_at, row.ended_at),
    outcome: row.outcome,
    error_code: row.error_code,
    client: { address: row.client_address, user: row.client_user, label: row.client_label ?? null, user_agent: row.user_agent },
    tool: row.tool_name === null ? null : { name: row.tool_name, version: row.tool_version },
    agent: jsonColumn(row.agent),
    quota: jsonColumn(row.quota),
    session_id: row.session_id ?? null,
    thread_id: row.thread_id ?? null,
    turn: row.turn ?? null,
    cost_usd: usdFigure(row.cost_usd),
    cost_source: row.cost_source ?? null,
    // Archives from before the policy column have no such field in their rows.
    policy: jsonColumn(row.policy ?? null),
    request: {
      headers: headersObject(row.request_headers),
      ...exportBody(row.request_body, row.request_body_size, row.request_body_truncated, row.request_body_stored, row.request_body_sha256),
    },
    response:
      row.response_headers === null
        ? null
        : {
            status: row.status,
            headers: headersObject(row.response_headers),
            ...exportBody(row.response_body, row.response_body_size, row.response_body_truncated, row.response_body_stored, row.response_body_sha256),
            text: row.response_text,
            thinking: row.response_thinking,
            tool_calls: toolCalls(row.tool_calls),
            stop_reason: row.stop_reason,
          },
  };
  if (wsMessages) exported.websocket = { messages: wsMessages.map(wsMessageToJson) };
  return exported;
}

export function jsonColumn<T>(text: string | null): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

function wsMessageToJson(m: WsMessageRow): ExportedWsMessage {
  const out: ExportedWsMessage = {
    seq: m.seq, direction: m.direction, at: isoTime(m.at), opcode: m.opcode, size: m.size,
    compressed: m.compressed === 1, truncated: m.truncated === 1,
  };
  if (m.text !== null) out.text = m.text;
  if (m.data !== null) out.data_base64 = m.data.toString('base64');
  if (m.error !== null) out.error = m.error;
  return out;
}

/** The query of an export: `columns` of the rows the options select, oldest first (the newest `limit` of them). */
export function selectSql(table: 'exchanges' | 'tunnels', options: ExportOptions, columns = '*'): { sql: string; params: unknown[] } {
  // A tunnel is a host and a byte count: only time narrows it.
  const { where, params } = exchangeWhere(table === 'exchanges' ? options : { since: options.since, until: options.until });
  const sql = `SELECT ${columns} FROM ${table} ${where}`.trimEnd();
  // id breaks ties so repeated exports of the same archive are identical.
  if (options.limit === undefined) return { sql: `${sql} ORDER BY started_at, id`, params };
  // A limit keeps the newest rows (what "the last 10 exchanges" means), written in time order.
  params.push(Math.max(0, Math.floor(options.limit)));
  return { sql: `SELECT * FROM (${sql} ORDER BY started_at DESC, id DESC LIMIT ?) ORDER BY started_at, id`, params };
}

/** How many records an export with these options writes (a progress line's total). */
export function countRecords(archive: ArchiveDb, table: 'exchanges' | 'tunnels', options: ExportOptions = {}): number {
  const { sql, params } = selectSql(table, options);
  return (archive.db.prepare(`SELECT COUNT(*) AS n FROM (${sql})`).get(params) as { n: number }).n;
}

export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** Milliseconds from start to a later mark, to 0.01 ms; null when the mark was never reached. */
export function elapsed(start: number, mark: number | null): number | null {
  if (mark === null) return null;
  return Math.round((mark - start) * 100) / 100;
}

/** A headers column (JSON [name, value] pairs, as received) as pairs; malformed entries skipped. */
export function headerPairs(json: string): [string, string][] {
  let pairs: unknown;
  try {
    pairs = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(pairs)) return [];
  return pairs.filter((p): p is [string, string] => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string');
}

function headersObject(json: string): ExportedHeaders {
  const out: ExportedHeaders = {};
  for (const pair of headerPairs(json)) {
    const name = pair[0].toLowerCase();
    const value = pair[1];
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else out[name] = [seen, value];
  }
  return out;
}

function exportBody(bytes: Buffer | null, size: number | null, truncated: number | null, stored: string | null | undefined, sha256: string | null | undefined): ExportedBody {
  const meta = { body_size: size, body_truncated: truncated === null ? null : truncated === 1, body_stored: stored ?? null, ...(sha256 ? { body_sha256: sha256 } : {}) };
  if (bytes === null) return { body: null, ...meta };
  const { text, base64 } = bodyText(bytes);
  return base64 ? { body: text, body_encoding: 'base64', ...meta } : { body: text, ...meta };
}

/** A stored body as text: UTF-8 when it is valid UTF-8, else base64 (flagged). */
export function bodyText(bytes: Buffer): { text: string; base64: boolean } {
  try {
    // Stored text bodies are valid UTF-8 (truncated ones were cut at a character boundary).
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), base64: false };
  } catch {
    return { text: bytes.toString('base64'), base64: true };
  }
}

function toolCalls(json: string | null): ExportedToolCall[] {
  if (json === null) return [];
  let calls: unknown;
  try {
    calls = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(calls)) return [];
  return calls.map((c: { id?: unknown; name?: unknown; arguments?: unknown }) => ({
    id: typeof c.id === 'string' ? c.id : null,
    name: typeof c.name === 'string' ? c.name : '',
    arguments: typeof c.arguments === 'string' ? c.arguments : '',
  }));
}

/** An exchange's token counts as export and HAR write them (rows from before a column existed give null, as does a part none was recorded of). */
export function usageJson(row: ExchangeRow): ExportedUsage {
  const columns = Object.fromEntries(USAGE_COLUMNS.map((column) => [column, row[column] ?? null])) as unknown as UsageColumns;
  return { ...columns, ...usagePartsJson(row.usage_parts) };
}
