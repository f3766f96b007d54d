import { exchangeWhere, type ExchangeFilter } from './exchange-filter.js';

/**
 * Where the next page of the exchange list starts. The list is newest first, ordered
 * by (started_at DESC, id DESC): a page ends at its last row, and the next one holds
 * the rows after it in that order. Many exchanges can share one millisecond (a burst of
 * parallel agent calls, a batch replayed), so the time alone cannot say where a page
 * stopped: `started_at < t` skips the rest of that millisecond, `started_at <= t`
 * repeats it and, with a page's worth of rows in it, never gets past.
 */
export interface ListCursor {
  /** The last listed row's started_at (epoch ms, as stored). */
  before: number;
  /** The last listed row's id. Without it, `before` alone: the rows that started before it (the older API). */
  beforeId?: string;
}

/**
 * The cursor as a condition on the exchanges table (pure). The redundant `started_at <= ?`
 * gives the planner a range on the started_at index; the OR then settles the rows of the
 * cursor's own millisecond by id.
 */
export function olderThan(cursor: ListCursor): { sql: string; params: unknown[] } {
  if (cursor.beforeId === undefined) return { sql: 'started_at < ?', params: [cursor.before] };
  return {
    sql: 'started_at <= ? AND (started_at < ? OR id < ?)',
    params: [cursor.before, cursor.before, cursor.beforeId],
  };
}

/** The filters and the cursor as one WHERE clause (or '') with its parameters (pure). */
export function pageWhere(filter: ExchangeFilter, page?: ListCursor): { sql: string; params: unknown[] } {
  const { where, params } = exchangeWhere(filter);
  if (page === undefined) return { sql: where, params };
  const older = olderThan(page);
  return { sql: where ? `${where} AND ${older.sql}` : `WHERE ${older.sql}`, params: [...params, ...older.params] };
}
