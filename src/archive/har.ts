import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import type { ExchangeRow, WsMessageRow } from '../recorder/db.js';
import { bodyText, elapsed, exchangeRows, headerPairs, isoTime, jsonColumn, usageJson, type ArchiveDb, type ExportOptions } from './export.js';
import { exchangeUrl } from './row-scheme.js';
import { usdFigure } from './stats-json.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * Fields a caller adds to an entry's `_llmtap` (sessions, cost: computed elsewhere).
 * The named slots are the ones the read side is expected to fill.
 */
export type HarExtra = { session_id?: string; thread_id?: string; cost_usd?: number } & Record<string, unknown>;

export interface HarOptions extends ExportOptions {
  /** Called once per exchange; its fields are merged into the entry's `_llmtap`. */
  extra?: (row: ExchangeRow) => HarExtra | undefined;
}

interface HarHeader { name: string; value: string }

export interface HarTimings { blocked: number; dns: number; connect: number; ssl: number; send: number; wait: number; receive: number }

/**
 * The archive as one HAR 1.2 document, in pieces: the envelope's head, one entry
 * per piece (JSON.stringify of a single entry, so memory stays constant however
 * large the archive), then the envelope's tail. Joined in order they are one JSON
 * document; written one per line (writeLines) it is still the same document.
 */
export function* harLines(archive: ArchiveDb, options: HarOptions = {}): Generator<string> {
  yield `{"log":{"version":"1.2","creator":${JSON.stringify({ name: 'llmtap', version: VERSION })},"entries":[`;
  let first = true;
  for (const { row, ws } of exchangeRows(archive, options)) {
    const entry = JSON.stringify(harEntry(row, ws, options.extra?.(row)));
    yield first ? entry : `,${entry}`;
    first = false;
  }
  yield ']}}';
}

/** One exchange as a HAR 1.2 entry (llmtap's own fields under `_llmtap`). */
export function harEntry(row: ExchangeRow, wsMessages?: readonly WsMessageRow[], extra?: HarExtra): Record<string, unknown> {
  const timings = harTimings(row);
  const total = elapsed(row.started_at, row.ended_at);
  const entry: Record<string, unknown> = {
    startedDateTime: isoTime(row.started_at),
    // The whole exchange when its end is known, else the phases that were measured.
    time: total !== null ? Math.max(0, total) : Math.max(0, timings.send) + Math.max(0, timings.wait) + Math.max(0, timings.receive),
    request: harRequest(row),
    response: harResponse(row),
    cache: {},
    timings,
    connection: row.connection_id,
    _llmtap: llmtapFields(row, extra),
  };
  if (wsMessages) {
    // As Chrome DevTools exports a WebSocket: its resource type and messages beside the
    // upgrade, text and binary only (HAR viewers read every entry there as a message).
    entry._resourceType = 'websocket';
    entry._webSocketMessages = wsMessages.filter((m) => m.opcode === 1 || m.opcode === 2).map(chromeWsMessage);
    // How the session closed, each side's code and reason, is llmtap's own field; pings and pongs carry nothing to keep.
    const closes = wsMessages.filter((m) => m.opcode === 8).map(closeOf);
    if (closes.length > 0) (entry._llmtap as Record<string, unknown>).webSocketClose = closes;
  }
  return entry;
}

function harRequest(row: ExchangeRow): Record<string, unknown> {
  const headers = harHeaders(row.request_headers);
  const request: Record<string, unknown> = {
    method: row.method,
    url: exchangeUrl(row, row.status === 101),
    httpVersion: 'HTTP/1.1',
    cookies: [],
    headers,
    queryString: queryString(row.path),
    headersSize: -1,
    bodySize: row.request_body_size,
  };
  const mimeType = headerOf(headers, 'content-type') ?? '';
  if (row.request_body !== null && row.request_body.length > 0) {
    const { text, base64 } = bodyText(row.request_body);
    // HAR 1.2 has `encoding` only on response content: a custom field says so here.
    const postData: Record<string, unknown> = base64 ? { mimeType, text, _encoding: 'base64' } : { mimeType, text };
    // Stored decoded, while the headers stay as sent: a reader replaying it must not send the text as gzip.
    const coding = row.request_body_stored === 'decoded' || row.request_body_stored === 'decoded_prefix' ? headerOf(headers, 'content-encoding') : undefined;
    if (coding) postData.comment = `decoded from its content-encoding (${coding}): the text as the provider read it, not the bytes sent`;
    request.postData = postData;
  } else if (row.request_body_stored === 'digest') {
    request.postData = { mimeType, comment: 'body not stored (digest only)' };
  }
  return request;
}

function harResponse(row: ExchangeRow): Record<string, unknown> {
  // No answer (upstream unreachable, client left first): status 0, as browsers write it.
  const headers = row.response_headers === null ? [] : harHeaders(row.response_headers);
  const status = row.response_headers === null ? 0 : row.status ?? 0;
  const mimeType = headerOf(headers, 'content-type') ?? 'x-unknown';
  const content: Record<string, unknown> = { size: 0, mimeType };
  if (row.response_body !== null) {
    content.size = row.response_body.length;
    const { text, base64 } = bodyText(row.response_body);
    content.text = text;
    if (base64) content.encoding = 'base64';
    // Decoded from a content coding: what the coding saved.
    if (row.response_body_stored === 'decoded' && row.response_body_size !== null) {
      content.compression = Math.max(0, row.response_body.length - row.response_body_size);
    }
  } else if (row.response_body_stored === 'digest') {
    content.size = row.response_body_size ?? 0;
    content.comment = 'body not stored (digest only)';
  }
  return {
    status,
    statusText: STATUS_CODES[status] ?? '',
    httpVersion: 'HTTP/1.1',
    cookies: [],
    headers,
    content,
    redirectURL: headerOf(headers, 'location') ?? '',
    headersSize: -1,
    bodySize: row.response_body_size ?? -1,
  };
}

/** Phases between the recorded marks (ms): never negative, -1 when a mark is missing. */
export function harTimings(row: Pick<ExchangeRow, 'started_at' | 'request_end_at' | 'upstream_headers_at' | 'ended_at'>): HarTimings {
  const phase = (from: number | null, to: number | null): number => {
    if (from === null || to === null) return -1;
    return Math.max(0, elapsed(from, to)!);
  };
  return {
    blocked: -1,
    dns: -1,
    connect: -1,
    ssl: -1,
    send: phase(row.started_at, row.request_end_at),
    wait: phase(row.request_end_at, row.upstream_headers_at),
    receive: phase(row.upstream_headers_at, row.ended_at),
  };
}

function llmtapFields(row: ExchangeRow, extra: HarExtra | undefined): Record<string, unknown> {
  return {
    id: row.id,
    session_id: row.session_id,
    thread_id: row.thread_id,
    turn: row.turn,
    cost_usd: usdFigure(row.cost_usd),
    cost_source: row.cost_source,
    tool: row.tool_name === null ? null : { name: row.tool_name, version: row.tool_version },
    provider: row.provider,
    api: row.api,
    model: row.model,
    stream: row.stream === null ? null : row.stream === 1,
    usage: usageJson(row),
    outcome: row.outcome,
    error_code: row.error_code,
    client: { address: row.client_address, user: row.client_user, label: row.client_label ?? null, user_agent: row.user_agent },
    request_body: bodyMeta(row.request_body_stored, row.request_body_sha256, row.request_body_truncated),
    response_body: bodyMeta(row.response_body_stored, row.response_body_sha256, row.response_body_truncated),
    agent: jsonColumn(row.agent),
    quota: jsonColumn(row.quota),
    /** Policy decisions (policy/types.ts PolicyRecord), as in the JSONL export. */
    policy: jsonColumn(row.policy ?? null),
    ...extra,
  };
}

function bodyMeta(stored: string | null, sha256: string | null, truncated: number | null): Record<string, unknown> {
  return { stored, truncated: truncated === null ? null : truncated === 1, ...(sha256 ? { sha256 } : {}) };
}

/** As Chrome DevTools exports them: text as is, every other payload base64; time in epoch seconds. */
function chromeWsMessage(m: WsMessageRow): Record<string, unknown> {
  return {
    type: m.direction === 'client' ? 'send' : 'receive',
    time: m.at / 1000,
    opcode: m.opcode,
    data: m.text ?? (m.data === null ? '' : m.data.toString('base64')),
  };
}

/** A close frame: who sent it, when, its status code (null when it has none) and its reason. */
function closeOf(m: WsMessageRow): Record<string, unknown> {
  const data = m.data ?? Buffer.alloc(0);
  return {
    type: m.direction === 'client' ? 'send' : 'receive',
    time: m.at / 1000,
    code: data.length >= 2 ? data.readUInt16BE(0) : null,
    reason: data.length > 2 ? data.subarray(2).toString('utf8') : '',
  };
}

function harHeaders(json: string): HarHeader[] {
  return headerPairs(json).map(([name, value]) => ({ name, value }));
}

function headerOf(headers: readonly HarHeader[], name: string): string | undefined {
  return headers.find((h) => h.name.toLowerCase() === name)?.value;
}

function queryString(path: string): HarHeader[] {
  const q = path.indexOf('?');
  if (q < 0) return [];
  const out: HarHeader[] = [];
  for (const [name, value] of new URLSearchParams(path.slice(q + 1))) out.push({ name, value });
  return out;
}
