import { modelLabel } from './model-parts.js';
import Database from 'better-sqlite3';
import type { ExchangeRow, WsMessageRow } from '../recorder/db.js';
import type { QuotaBurn } from '../sessions/quota-burn.js';
import { listExchanges, type ExchangeListEntry, type ExchangeListQuery } from './exchange-list.js';
import { purgeArchive, purgePreview, type PurgeProgress } from './purge.js';
import type {
  ArchiveReader, BackgroundReads, ExchangeDetail, ExchangeListRow, PurgeCounts, RuleStatsRow, SessionDetail, SpendRow, SessionQuery, SessionSummary, StatsDimension, StatsQuery, StatsRow, TextSearchRow, ThreadSummary,
} from './store.js';
import { decodeStoredBodies } from './stored-bodies.js';
import { statsTable } from './stats-table.js';
import { unpricedGroups, type UnpricedGroup } from './unpriced-groups.js';
import type { PriceInput, PriceResult } from '../cost/price-exchange.js';
import { exchangeCsvLines } from './export-csv.js';
import { newestRows, textFinder } from './text-search.js';
import { ReportThread } from './report-off-thread.js';
import { timeSeries, type SeriesQuery, type TimeSeries } from './time-series.js';
import { exchangeWhere, NONE, type ExchangeFilter } from './exchange-filter.js';
import { exchangeLines } from './export.js';
import { harLines } from './har.js';

/** Columns `tail` needs: everything but bodies and headers (which can be megabytes). */
const LIST_COLUMNS = `rowid AS cursor, id, connection_id, started_at, request_end_at, upstream_headers_at, first_byte_at, ended_at, client_address, client_user, client_label,
  user_agent, host, port, method, path, status, provider, api, model, stream, request_body_size, request_body_truncated, request_body_stored,
  request_body_sha256, response_body_size, response_body_truncated, response_body_stored, response_body_sha256, response_text, response_thinking,
  tool_calls, stop_reason, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, cache_creation_input_tokens, outcome, error_code,
  tool_name, tool_version, agent, quota, session_id, thread_id, turn, cost_usd, cost_source, model_usage, usage_estimated`;

/** A session's run label: its exchanges carry it (one index probe per listed session). */
export const LABEL_OF_SESSION = '(SELECT client_label FROM exchanges e WHERE e.session_id = sessions.id AND e.client_label IS NOT NULL LIMIT 1) AS client_label';

/** The archive's read side over SQLite (see store.ts). Opens its own connection. */
export class SqliteArchiveReader implements ArchiveReader {
  readonly db: Database.Database;
  /** Where inBackground's reads run: started on the first, kept while they come. */
  private reportThread: ReportThread | undefined;

  constructor(private readonly file: string, options: { readonly?: boolean } = {}) {
    this.db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: true });
    // The proxy may be writing: wait for its short transactions rather than failing.
    this.db.pragma('busy_timeout = 2000');
  }

  sessions(query: SessionQuery): SessionSummary[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.since !== undefined) {
      where.push('ended_at >= ?');
      params.push(query.since);
    }
    // `(none)` selects the sessions without one, as for the exchange filters.
    for (const [value, column] of [[query.tool, 'tool_name'], [query.user, 'client_user']] as const) {
      if (value === undefined) continue;
      if (value === NONE) where.push(`${column} IS NULL`);
      else {
        where.push(`${column} = ?`);
        params.push(value);
      }
    }
    if (query.model !== undefined) {
      where.push('EXISTS (SELECT 1 FROM json_each(sessions.models) WHERE value = ?)');
      params.push(query.model);
    }
    if (query.label !== undefined) {
      where.push('EXISTS (SELECT 1 FROM exchanges e WHERE e.session_id = sessions.id AND e.client_label = ?)');
      params.push(query.label);
    }
    const sql = `SELECT *, ${LABEL_OF_SESSION} FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id LIMIT ?`;
    return (this.db.prepare(sql).all(...params, query.limit) as SessionTableRow[]).map(sessionSummary);
  }

  session(id: string): SessionDetail | undefined {
    const row = this.db.prepare(`SELECT *, ${LABEL_OF_SESSION} FROM sessions WHERE id = ?`).get(id) as SessionTableRow | undefined;
    if (!row) return undefined;
    const threads = (this.db.prepare('SELECT * FROM threads WHERE session_id = ? ORDER BY started_at, id').all(id) as ThreadTableRow[]).map(threadSummary);
    const exchanges = (this.db.prepare('SELECT * FROM exchanges WHERE session_id = ? ORDER BY started_at, id').all(id) as ExchangeRow[]).map((r) => decodeStoredBodies(r, this.db));
    return { session: sessionSummary(row), threads, exchanges };
  }

  exchange(id: string): ExchangeDetail | undefined {
    const row = this.db.prepare('SELECT * FROM exchanges WHERE id = ?').get(id) as ExchangeRow | undefined;
    if (!row) return undefined;
    const wsMessages = row.status === 101 ? this.wsMessages(id) : [];
    return { row: decodeStoredBodies(row, this.db), wsMessages };
  }

  resolve(idOrPrefix: string): ReturnType<ArchiveReader['resolve']> {
    for (const kind of ['session', 'exchange'] as const) {
      const table = kind === 'session' ? 'sessions' : 'exchanges';
      if (this.db.prepare(`SELECT 1 FROM ${table} WHERE id = ?`).get(idOrPrefix)) return { kind, id: idOrPrefix };
    }
    // A prefix: ids are case-sensitive text; the range scan uses the primary key.
    const matches: { kind: 'session' | 'exchange'; id: string }[] = [];
    for (const kind of ['session', 'exchange'] as const) {
      const table = kind === 'session' ? 'sessions' : 'exchanges';
      const rows = this.db.prepare(`SELECT id FROM ${table} WHERE id >= ? AND id < ? ORDER BY id LIMIT 6`).all(idOrPrefix, `${idOrPrefix}\uffff`) as { id: string }[];
      // A session without ids on the wire is named after its first exchange: the session wins.
      for (const r of rows) if (!matches.some((m) => m.id === r.id)) matches.push({ kind, id: r.id });
    }
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) return { kind: 'ambiguous', matches: matches.map((m) => `${m.kind} ${m.id}`) };
    return undefined;
  }

  statsTable(query: StatsQuery): { rows: StatsRow[]; total: StatsRow | undefined } {
    return statsTable(this.db, query);
  }

  unpricedGroups(filter: ExchangeFilter, price: (input: PriceInput) => PriceResult, by?: StatsDimension): UnpricedGroup[] {
    return unpricedGroups(this.db, filter, price, by);
  }

  exchangesAfter(cursor: number, limit: number, filter: ExchangeFilter = {}): { rows: ExchangeListRow[]; cursor: number } {
    // Up to the end as it is now: a page short of `limit` moves the cursor past the rows the
    // filter left out too, so the next look does not scan them again.
    const end = this.endCursor();
    const { and, params } = exchangeWhere(filter, '', true);
    const rows = this.db.prepare(`SELECT ${LIST_COLUMNS} FROM exchanges WHERE rowid > ? AND rowid <= ? ${and} ORDER BY rowid LIMIT ?`).all(cursor, end, ...params, limit) as (ExchangeListRow & { cursor: number })[];
    const next = rows.length === limit ? rows[rows.length - 1]!.cursor : Math.max(cursor, end);
    return { rows: rows.map(({ cursor: _c, ...row }) => row), cursor: next };
  }

  /** The cursor just before the last `count` rows the filter keeps (`tail -n`): 0 when it keeps fewer. */
  cursorBeforeLast(count: number, filter: ExchangeFilter = {}): number {
    if (count === 0) return this.endCursor();
    const { and, params } = exchangeWhere(filter, '', true);
    const row = this.db.prepare(`SELECT rowid AS cursor FROM exchanges WHERE rowid > 0 ${and} ORDER BY rowid DESC LIMIT 1 OFFSET ?`).get(...params, count - 1) as { cursor: number } | undefined;
    return row ? row.cursor - 1 : 0;
  }

  /** Rows by id, as exchangesAfter gives them (`tail` re-reads a row it holds back for its estimate); ids not found are left out. */
  listRows(ids: readonly string[]): ExchangeListRow[] {
    if (ids.length === 0) return [];
    const rows = this.db.prepare(`SELECT ${LIST_COLUMNS} FROM exchanges WHERE id IN (${ids.map(() => '?').join(',')})`).all(...ids) as (ExchangeListRow & { cursor: number })[];
    return rows.map(({ cursor: _c, ...row }) => row);
  }

  /**
   * When each exchange of these sessions that still awaits the writer's estimate ended (its
   * start if it has no end): `sessions` and `show` wait a moment for them, the web UI asks again. One index range per session.
   */
  awaitingEstimates(sessionIds: readonly string[]): number[] {
    if (sessionIds.length === 0) return [];
    const rows = this.db.prepare(`SELECT COALESCE(ended_at, started_at) AS at FROM exchanges WHERE session_id IN (${sessionIds.map(() => '?').join(',')}) AND usage_estimated = 0`).all(...sessionIds) as { at: number }[];
    return rows.map((r) => r.at);
  }

  /** awaitingEstimates for exchanges by id (`show` of one exchange). */
  exchangesAwaitingEstimates(ids: readonly string[]): number[] {
    if (ids.length === 0) return [];
    const rows = this.db.prepare(`SELECT COALESCE(ended_at, started_at) AS at FROM exchanges WHERE id IN (${ids.map(() => '?').join(',')}) AND usage_estimated = 0`).all(...ids) as { at: number }[];
    return rows.map((r) => r.at);
  }

  wsMessages(exchangeId: string): WsMessageRow[] {
    return this.db.prepare('SELECT * FROM ws_messages WHERE exchange_id = ? ORDER BY seq').all(exchangeId) as WsMessageRow[];
  }

  countExchanges(since?: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM exchanges WHERE started_at >= ?').get(since ?? -Infinity) as { n: number }).n;
  }

  *exchangesWithBodies(since?: number): Iterable<ExchangeRow> {
    // Pages by rowid: an open iterator would keep the connection busy, and decoding bodies needs it.
    const page = this.db.prepare('SELECT rowid AS cursor, * FROM exchanges WHERE rowid > ? AND started_at >= ? ORDER BY rowid LIMIT 200');
    for (let cursor = 0; ;) {
      const rows = page.all(cursor, since ?? -Infinity) as (ExchangeRow & { cursor: number })[];
      if (rows.length === 0) return;
      for (const { cursor: c, ...row } of rows) {
        cursor = c;
        yield decodeStoredBodies(row as ExchangeRow, this.db);
      }
    }
  }

  listExchanges(query: ExchangeListQuery): ExchangeListEntry[] {
    return listExchanges(this.db, query);
  }

  *searchText(filter: ExchangeFilter, needle: string): Generator<TextSearchRow> {
    const findText = textFinder(this.db);
    for (const raw of newestRows(this.db, filter)) {
      const hit = findText(raw, needle);
      // A session that switched models under every model that answered (`gpt-5-codex+gpt-5-mini`), as tail and the CSV name it.
      yield { exchangeId: raw.id, sessionId: raw.session_id ?? null, startedAt: raw.started_at, tool: raw.tool_name, model: modelLabel(raw), user: raw.client_user, hit };
    }
  }

  endCursor(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(rowid), 0) AS n FROM exchanges').get() as { n: number }).n;
  }

  spendSince(since: number): SpendRow[] {
    return this.db.prepare(SPEND_SQL).all(since, since) as SpendRow[];
  }

  timeSeries(query: SeriesQuery): TimeSeries {
    return timeSeries(this.db, query);
  }

  inBackground<K extends keyof BackgroundReads>(read: K, query: BackgroundReads[K]['query']): Promise<BackgroundReads[K]['result']> {
    this.reportThread ??= new ReportThread(this.file);
    return this.reportThread.read(read, query);
  }

  exportLines(format: 'jsonl' | 'har' | 'csv', filter: ExchangeFilter): Iterable<string> {
    return format === 'har' ? harLines(this, filter) : format === 'csv' ? exchangeCsvLines(this, filter) : exchangeLines(this, filter);
  }

  ruleStats(query: ExchangeFilter): RuleStatsRow[] {
    const { and: where, params: args } = exchangeWhere(query, 'e.');
    const rows = this.db.prepare(RULE_STATS_SQL.replace('/*where*/', where)).all(...args) as Omit<RuleStatsRow, 'actions'>[];
    // Every kind's own actions (cache hit/miss, route, fallback, inject, clamp, warn, …), enforced ones only.
    const actions = this.db.prepare(RULE_ACTIONS_SQL.replace('/*where*/', where)).all(...args) as { rule: string; kind: string; action: string; n: number }[];
    return rows.map((r) => ({
      ...r,
      actions: Object.fromEntries(actions.filter((a) => a.rule === r.rule && a.kind === r.kind).map((a) => [a.action, a.n])),
    }));
  }

  purgePreview(before: number): Omit<PurgeCounts, 'bodyParts'> {
    return purgePreview(this.db, before);
  }

  purge(before: number, progress?: PurgeProgress): PurgeCounts {
    return purgeArchive(this.db, before, progress);
  }

  close(): void {
    this.reportThread?.close();
    if (this.db.open) this.db.close();
  }
}

/**
 * Budgets start from the archive: one row per UTC day and the facts a rule matches on,
 * summed in SQL, so a month of traffic is read as a few hundred rows at start or reload.
 * A WebSocket session that switched models counts each model's part under that model
 * (model_usage), as its responses were charged live.
 */
const SPEND_SQL = `SELECT day, provider, host, path, api, model, tool, client, user, session, SUM(usd) AS usd FROM (
  SELECT CAST(started_at / 86400000 AS INTEGER) * 86400000 AS day, provider, host, path, api, model, tool_name AS tool, client_address AS client,
    client_user AS user, json_extract(agent, '$.sessionId') AS session, cost_usd AS usd
    FROM exchanges WHERE started_at >= ? AND cost_usd > 0 AND model_usage IS NULL
  UNION ALL
  SELECT CAST(e.started_at / 86400000 AS INTEGER) * 86400000, e.provider, e.host, e.path, e.api, json_extract(p.value, '$.model'), e.tool_name, e.client_address,
    e.client_user, json_extract(e.agent, '$.sessionId'), json_extract(p.value, '$.cost_usd')
    FROM exchanges e, json_each(e.model_usage) p WHERE e.model_usage IS NOT NULL AND e.started_at >= ? AND e.cost_usd > 0
) WHERE usd > 0 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`;

/** A decision blocks when enforced with deny/block/limit, changes the body when enforced with replace/clamp. */
const RULE_STATS_SQL = `SELECT json_extract(d.value, '$.rule') AS rule, json_extract(d.value, '$.kind') AS kind, COUNT(DISTINCT e.id) AS exchanges,
  COUNT(DISTINCT CASE WHEN json_extract(d.value, '$.enforced') = 0 THEN e.id END) AS monitor,
  COUNT(DISTINCT CASE WHEN json_extract(d.value, '$.enforced') = 1 AND json_extract(d.value, '$.action') IN ('deny', 'block', 'limit') THEN e.id END) AS blocked,
  COUNT(DISTINCT CASE WHEN json_extract(d.value, '$.enforced') = 1 AND json_extract(d.value, '$.action') IN ('replace', 'clamp') THEN e.id END) AS changed,
  COUNT(DISTINCT CASE WHEN json_extract(d.value, '$.action') = 'warn' THEN e.id END) AS warned
  FROM exchanges e, json_each(e.policy, '$.decisions') d WHERE e.policy IS NOT NULL /*where*/
  GROUP BY 1, 2 ORDER BY exchanges DESC, rule`;

/** Exchanges per rule, kind and action, enforced decisions only (monitor ones are counted apart). */
// A fallback decision is its plan: it counts as `fallback` only for an exchange that did go on to another upstream (more than one attempt).
const RULE_ACTIONS_SQL = `SELECT json_extract(d.value, '$.rule') AS rule, json_extract(d.value, '$.kind') AS kind,
  CASE WHEN json_extract(d.value, '$.kind') = 'fallback' AND COALESCE(json_array_length(e.policy, '$.attempts'), 0) < 2 THEN 'not needed' ELSE json_extract(d.value, '$.action') END AS action,
  COUNT(DISTINCT e.id) AS n
  FROM exchanges e, json_each(e.policy, '$.decisions') d WHERE e.policy IS NOT NULL AND json_extract(d.value, '$.enforced') = 1 /*where*/
  GROUP BY 1, 2, 3 ORDER BY n DESC, action`;

interface SessionTableRow {
  id: string; started_at: number; ended_at: number; tool_name: string | null; client_address: string | null; client_user: string | null; client_label: string | null;
  models: string; threads: number; exchanges: number; retries: number; errors: number; input_tokens: number; output_tokens: number; cached_input_tokens: number;
  cost_usd: number | null; unpriced: number; api_equivalent: number; quota: string | null;
}

interface ThreadTableRow {
  id: string; session_id: string; parent_thread_id: string | null; spawned_by_tool_call_id: string | null; agent_id: string | null;
  started_at: number; ended_at: number; models: string; exchanges: number; input_tokens: number; output_tokens: number;
  cached_input_tokens: number; cost_usd: number | null; quota: string | null;
}

function sessionSummary(r: SessionTableRow): SessionSummary {
  return {
    id: r.id, startedAt: r.started_at, endedAt: r.ended_at, tool: r.tool_name, clientAddress: r.client_address, clientUser: r.client_user, clientLabel: r.client_label,
    models: jsonOr<string[]>(r.models, []), threads: r.threads, exchanges: r.exchanges, retries: r.retries, errors: r.errors, inputTokens: r.input_tokens,
    outputTokens: r.output_tokens, cachedInputTokens: r.cached_input_tokens, costUsd: r.cost_usd, unpriced: r.unpriced,
    apiEquivalent: r.api_equivalent === 1, quota: jsonOr<QuotaBurn | null>(r.quota, null),
  };
}

function threadSummary(r: ThreadTableRow): ThreadSummary {
  return {
    id: r.id, sessionId: r.session_id, parentThreadId: r.parent_thread_id, spawnedByToolCallId: r.spawned_by_tool_call_id, agentId: r.agent_id,
    startedAt: r.started_at, endedAt: r.ended_at, models: jsonOr<string[]>(r.models, []), exchanges: r.exchanges, inputTokens: r.input_tokens,
    outputTokens: r.output_tokens, cachedInputTokens: r.cached_input_tokens, costUsd: r.cost_usd, quota: jsonOr<QuotaBurn | null>(r.quota, null),
  };
}

function jsonOr<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
