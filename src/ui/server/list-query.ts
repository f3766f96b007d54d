import type { ExchangeListQuery } from '../../archive/exchange-list.js';
import { queriedUser, type Viewer } from './access.js';

export const DEFAULT_LIST_LIMIT = 200;
export const MAX_LIST_LIMIT = 1000;
const MAX_TEXT = 200;

/** A query parameter as a filter value: trimmed, bounded, undefined when empty. */
export function queryText(params: URLSearchParams, name: string): string | undefined {
  return params.get(name)?.trim().slice(0, MAX_TEXT) || undefined;
}

/** How far back the sessions list pages (`offset`): each page reads the sessions before it again. */
const MAX_SESSION_OFFSET = 100_000;

/** The sessions list's page: `limit` sessions (200 unless asked, at most 1000) after the newest `offset`. */
export function parseSessionPage(params: URLSearchParams): { offset: number; limit: number } {
  const limitParam = Number(params.get('limit'));
  const offsetParam = Number(params.get('offset'));
  return {
    limit: Number.isInteger(limitParam) && limitParam > 0 ? Math.min(limitParam, MAX_LIST_LIMIT) : DEFAULT_LIST_LIMIT,
    offset: Number.isInteger(offsetParam) && offsetParam > 0 ? Math.min(offsetParam, MAX_SESSION_OFFSET) : 0,
  };
}

/** The list API's query string as an archive query; a non-admin viewer is always limited to their own exchanges. */
export function parseListQuery(params: URLSearchParams, viewer: Viewer): ExchangeListQuery {
  const text = (name: string): string | undefined => queryText(params, name);
  const limitParam = Number(params.get('limit'));
  const limit = Number.isInteger(limitParam) && limitParam > 0 ? Math.min(limitParam, MAX_LIST_LIMIT) : DEFAULT_LIST_LIMIT;
  const before = Number(params.get('before'));
  return {
    tool: text('tool'), model: text('model'), host: text('host'), status: text('status'), session: text('session'), text: text('q'),
    before: params.has('before') && Number.isFinite(before) ? before : undefined,
    // The last listed row's id beside its `before`: rows sharing its millisecond are neither skipped nor repeated.
    beforeId: text('before_id'),
    user: queriedUser(viewer, text('user')),
    limit,
  };
}
