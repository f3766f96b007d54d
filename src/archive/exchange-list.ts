import type Database from 'better-sqlite3';
import type { ExchangeRow } from '../recorder/db.js';
import type { ExchangeFilter } from './exchange-filter.js';
import { pageWhere, type ListCursor } from './list-cursor.js';
import { newestRows, textFinder, type TextHit } from './text-search.js';

/** Filters of the web UI's exchange list; every one optional. */
export interface ExchangeListQuery extends ExchangeFilter {
  /** Case-insensitive text searched in request bodies (the prompts) and answers. */
  text?: string;
  /** The next page: the last listed row's started_at (epoch ms). Alone, the exchanges that started before it. */
  before?: number;
  /** With `before`, the last listed row's id: the page holds the rows after that one (list-cursor.ts), none skipped or repeated. */
  beforeId?: string;
  limit: number;
}

/** Columns of a list row: no bodies or headers (megabytes); the policy column is small. */
const COLUMNS = `id, started_at, first_byte_at, ended_at, client_user, host, method, path, status, provider, api, model, input_tokens, output_tokens,
  reasoning_tokens, cached_input_tokens, cache_creation_input_tokens, outcome, error_code, stop_reason, tool_name, session_id, thread_id, turn, cost_usd, cost_source, policy, usage_estimated, model_usage`;

export type ExchangeListEntry = Pick<ExchangeRow, 'id' | 'started_at' | 'first_byte_at' | 'ended_at' | 'client_user' | 'host' | 'method' | 'path' | 'status'
  | 'provider' | 'api' | 'model' | 'input_tokens' | 'output_tokens' | 'reasoning_tokens' | 'cached_input_tokens' | 'cache_creation_input_tokens' | 'outcome' | 'error_code'
  | 'stop_reason' | 'tool_name' | 'session_id' | 'thread_id' | 'turn' | 'cost_usd' | 'cost_source' | 'policy' | 'usage_estimated' | 'model_usage'> & {
  /** With a text search: where the text was found, and the words around it. */
  match?: TextHit;
};

/** Rows a text search decodes and reads at most: a search over a huge archive answers from its newest part. */
export const TEXT_SCAN_LIMIT = 2000;

/**
 * The structured filters of a list query, and where its page starts. Its model is any
 * model that answered: a session that switched models is listed under each, as tail and
 * the CSV name them all.
 */
function listParts(query: ExchangeListQuery): { filter: ExchangeFilter; page: ListCursor | undefined } {
  const { before, beforeId, text: _text, limit: _limit, model, ...rest } = query;
  const filter: ExchangeFilter = model === undefined ? rest : { ...rest, anyModel: model };
  return { filter, page: before === undefined ? undefined : { before, beforeId } };
}

/** The WHERE clause and its parameters for the structured filters and the page (pure; unit-tested). */
export function listWhere(query: ExchangeListQuery): { sql: string; params: unknown[] } {
  const { filter, page } = listParts(query);
  return pageWhere(filter, page);
}

/** Newest first. A text search decodes bodies (they may be stored compressed), so it reads at most TEXT_SCAN_LIMIT rows. */
export function listExchanges(db: Database.Database, query: ExchangeListQuery): ExchangeListEntry[] {
  const needle = query.text?.trim().toLowerCase();
  if (!needle) {
    const { sql, params } = listWhere(query);
    return db.prepare(`SELECT ${COLUMNS} FROM exchanges ${sql} ORDER BY started_at DESC, id DESC LIMIT ?`).all(...params, query.limit) as ExchangeListEntry[];
  }
  const found: ExchangeListEntry[] = [];
  const { filter, page } = listParts(query);
  const findText = textFinder(db);
  for (const raw of newestRows(db, filter, TEXT_SCAN_LIMIT, page)) {
    const match = findText(raw, needle);
    if (!match) continue;
    const { request_body: _q, response_body: _a, request_headers: _qh, response_headers: _ah, ...entry } = raw;
    found.push({ ...(entry as ExchangeListEntry), match });
    if (found.length >= query.limit) break;
  }
  return found;
}
