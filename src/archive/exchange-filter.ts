import { isErrorSql } from '../failed-exchange.js';

/**
 * Which exchanges a read covers: one set of filters for `stats`, `export` and the web
 * UI's list, each optional, all of them holding at once. Values are always parameters,
 * never SQL.
 */
export interface ExchangeFilter {
  /** Epoch ms: exchanges started at or after it. */
  since?: number;
  /** Epoch ms: exchanges started before it. */
  until?: number;
  /** One exchange. */
  id?: string;
  tool?: string;
  model?: string;
  /**
   * Any model that answered in the exchange: its own, or one a WebSocket session that
   * switched models used before its last (model_usage, model-parts.ts). The CLI's `--model`
   * and the web UI's list filter; readers that split such a session by model keep only
   * this model's part of it (stats-model-split.ts). `model` is the row's own column alone.
   */
  anyModel?: string;
  host?: string;
  session?: string;
  /** The proxy user (`--auth`). */
  user?: string;
  /** Any of these proxy users (a team's members); none matches an empty list. */
  users?: readonly string[];
  /** The run label (`llmtap run --label`). */
  label?: string;
  /** An exact status, or a class: "2xx", "4xx", "5xx"; "error" for any failed exchange; anything else filters nothing. */
  status?: string;
}

/** A failed exchange: not completed, answered with a status of 400 or more, or ended by the provider's error (failed-exchange.ts). */
export const IS_ERROR_SQL = isErrorSql();

/** The value a filter names a missing tool, model, host, user or label by. */
export const NONE = '(none)';
const NONE_FILTERABLE: ReadonlySet<string> = new Set(['tool', 'model', 'host', 'user', 'label']);

const COLUMNS = { id: 'id', tool: 'tool_name', model: 'model', host: 'host', session: 'session_id', user: 'client_user', label: 'client_label' } as const;

/**
 * The filter as SQL conditions over the exchanges table (pure): `where` is a whole clause
 * (or ''), `and` the same conditions to append to a query that has its own WHERE. `alias`
 * names the table when the query joins others (`e.`). `window`: the query reads a short
 * range of rows by another index (tail's next rows by rowid), so `anyModel` is tested on
 * each of them; its indexed form reads every row of the model first, on every look.
 */
export function exchangeWhere(filter: ExchangeFilter, alias = '', window = false): { where: string; and: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.since !== undefined) {
    conditions.push(`${alias}started_at >= ?`);
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    conditions.push(`${alias}started_at < ?`);
    params.push(filter.until);
  }
  for (const [key, column] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, string][]) {
    const value = filter[key];
    if (value === undefined || value === '') continue;
    // `(none)` is how `stats` shows a group without a value (no tool recognised, no proxy user): it selects that group.
    if (value === NONE && NONE_FILTERABLE.has(key)) {
      conditions.push(`${alias}${column} IS NULL`);
      continue;
    }
    conditions.push(`${alias}${column} = ?`);
    params.push(value);
  }
  const usedModel = `EXISTS (SELECT 1 FROM json_each(${window ? alias : ''}model_usage) p WHERE json_extract(p.value, '$.model') = ?)`;
  if (filter.anyModel === NONE) conditions.push(`${alias}model IS NULL`);
  else if (filter.anyModel && window) {
    conditions.push(`(${alias}model = ? OR (${alias}model_usage IS NOT NULL AND ${usedModel}))`);
    params.push(filter.anyModel, filter.anyModel);
  } else if (filter.anyModel) {
    // Rows by model (its index), plus the few sessions with a model_usage (its partial index)
    // that used it. Written as an OR, the planner scanned every row by time for a model seldom
    // or never used (300k rows in memory: ~75 ms against ~0.5 ms).
    conditions.push(`${alias}rowid IN (SELECT rowid FROM exchanges WHERE model = ?`
      + ` UNION ALL SELECT rowid FROM exchanges WHERE model_usage IS NOT NULL AND ${usedModel})`);
    params.push(filter.anyModel, filter.anyModel);
  }
  if (filter.users) {
    conditions.push(filter.users.length === 0 ? '0' : `${alias}client_user IN (${filter.users.map(() => '?').join(', ')})`);
    params.push(...filter.users);
  }
  const status = filter.status?.toLowerCase();
  if (status === 'error') conditions.push(isErrorSql(alias));
  else if (status && /^[1-5]xx$/.test(status)) {
    conditions.push(`${alias}status >= ? AND ${alias}status < ?`);
    params.push(Number(status[0]) * 100, Number(status[0]) * 100 + 100);
  } else if (status && /^\d{3}$/.test(status)) {
    conditions.push(`${alias}status = ?`);
    params.push(Number(status));
  }
  const joined = conditions.join(' AND ');
  return { where: joined ? `WHERE ${joined}` : '', and: joined ? `AND ${joined}` : '', params };
}
