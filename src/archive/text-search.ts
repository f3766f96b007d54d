import type Database from 'better-sqlite3';
import type { ExchangeRow } from '../recorder/row-types.js';
import type { ExchangeFilter } from './exchange-filter.js';
import { pageWhere, type ListCursor } from './list-cursor.js';
import { decodeStoredBodies } from './stored-bodies.js';

/** Where a text was found in one exchange, and the words around it. */
export interface TextHit {
  in: 'answer' | 'prompt';
  snippet: string;
}

/** Finds a text in one exchange after another, as findText says; one per search. */
export type TextFinder = (raw: ExchangeRow, needle: string) => TextHit | undefined;

/**
 * The finder of one search over `db`: the WebSocket sessions' statement is prepared once,
 * at the first session the search reads, not once per row (a search reads up to
 * thousands of rows).
 */
export function textFinder(db: Database.Database): TextFinder {
  let clientTexts: Database.Statement<[string]> | undefined;
  const wsPrompts = (exchangeId: string): string[] => {
    clientTexts ??= db.prepare<[string]>("SELECT text FROM ws_messages WHERE exchange_id = ? AND direction = 'client' AND text IS NOT NULL ORDER BY seq");
    return (clientTexts.all(exchangeId) as { text: string }[]).map((r) => r.text);
  };
  return (raw, needle) => findText(raw, needle, db, wsPrompts);
}

/**
 * Where `needle` (lower-case) occurs in an exchange: its answer's text first (stored as
 * text), then its request (decoded: it may be stored compressed or in shared parts). A
 * JSON request is searched in its string values (the messages, the system prompt, tool
 * descriptions), never its keys, and the snippet is that string's own text. A
 * WebSocket session's prompts are the text messages its client sent (`wsPrompts`, stored redacted).
 */
function findText(raw: ExchangeRow, needle: string, db: Database.Database, wsPrompts: (exchangeId: string) => string[]): TextHit | undefined {
  const answer = raw.response_text;
  const inAnswer = answer ? answer.toLowerCase().indexOf(needle) : -1;
  if (inAnswer >= 0) return { in: 'answer', snippet: snippetAround(answer!, inAnswer, needle.length) };
  // A WebSocket session (Codex's Responses over WebSocket) has no request body: its
  // prompts are the client's text messages (each `response.create`).
  const prompts = raw.status === 101 ? wsPrompts(raw.id) : [decodeStoredBodies(raw, db).request_body?.toString('utf8') ?? ''];
  // Printable ASCII other than " \ / is never escaped in JSON: a text without it as is cannot hold it.
  const plain = /^[ !#-.0-[\]-~]*$/.test(needle);
  const searched = prompts.filter((text) => text.length > 0 && (!plain || text.toLowerCase().includes(needle)));
  const jsons: unknown[] = [];
  for (const text of searched) {
    const json = parsed(text);
    if (json !== undefined) {
      jsons.push(json);
      continue;
    }
    const at = text.toLowerCase().indexOf(needle);
    if (at >= 0) return { in: 'prompt', snippet: snippetAround(text, at, needle.length) };
  }
  // The conversation before the tool definitions the request carries along with every turn.
  const found = firstHolding(jsons.map(withoutTools), needle) ?? firstHolding(jsons, needle);
  return found ? { in: 'prompt', snippet: snippetAround(found.text, found.at, needle.length) } : undefined;
}

function firstHolding(values: readonly unknown[], needle: string): { text: string; at: number } | undefined {
  for (const value of values) {
    const found = stringHolding(value, needle);
    if (found) return found;
  }
  return undefined;
}

/** A request object without its top-level tool definitions (OpenAI `tools`/`functions`, Gemini `tools`). */
function withoutTools(json: unknown): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  const { tools: _t, functions: _f, ...rest } = json as Record<string, unknown>;
  return rest;
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The first string value (in document order) that holds `needle`, and where. */
function stringHolding(value: unknown, needle: string): { text: string; at: number } | undefined {
  if (typeof value === 'string') {
    const at = value.toLowerCase().indexOf(needle);
    return at >= 0 ? { text: value, at } : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    const found = stringHolding(item, needle);
    if (found) return found;
  }
  return undefined;
}

/** About `width` characters around a match on one line (pure): runs of white space as one space, `…` where the text was cut. */
export function snippetAround(text: string, at: number, length: number, width = 100): string {
  const side = Math.max(0, Math.floor((width - length) / 2));
  let start = Math.max(0, at - side);
  let end = Math.min(text.length, at + length + side);
  // Not between the two halves of a surrogate pair (an emoji): half of one prints as �.
  if (start > 0 && isLowSurrogate(text.charCodeAt(start))) start--;
  if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end++;
  const piece = text.slice(start, end).replace(/\s+/g, ' ').trim();
  return `${start > 0 ? '…' : ''}${piece}${end < text.length ? '…' : ''}`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Exchanges the filter covers, newest first (at most `limit`; after `page` when given), read
 * one row at a time with their bodies (a text search has to read them): the caller stops
 * when it has enough.
 */
export function* newestRows(db: Database.Database, filter: ExchangeFilter, limit = -1, page?: ListCursor): Generator<ExchangeRow> {
  const { sql, params } = pageWhere(filter, page);
  yield* db.prepare(`SELECT * FROM exchanges ${sql} ORDER BY started_at DESC, id DESC LIMIT ?`).iterate(...params, limit) as IterableIterator<ExchangeRow>;
}
