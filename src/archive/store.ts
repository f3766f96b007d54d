import type { ExchangeRow, WsMessageRow } from '../recorder/db.js';
import type { ExchangePageQuery } from '../ui/server/exchange-page.js';
import type { UsagePage, UsagePageQuery } from '../ui/server/usage.js';
import type { SessionPageQuery } from '../ui/server/session-page.js';
import type { QuotaBurn } from '../sessions/quota-burn.js';
import type { SpendRow } from '../policy/budget.js';

export type { SpendRow } from '../policy/budget.js';
import type { ExchangeListEntry, ExchangeListQuery } from './exchange-list.js';
import type { PurgeProgress } from './purge.js';
import type { ExchangeFilter } from './exchange-filter.js';
import type { TextHit } from './text-search.js';
import type { SeriesQuery, TimeSeries } from './time-series.js';
import type { UnpricedGroup } from './unpriced-groups.js';
import type { PriceInput, PriceResult } from '../cost/price-exchange.js';

/**
 * The archive's read side, as the CLI (and later the web UI) use it. Together with
 * the write side (`Archive` in recorder/db.ts: insertExchanges, insertTunnels,
 * insertWsMessages, checkpoint, close) this is the store seam: SQLite implements both
 * today (sqlite-reader.ts, db.ts); a PostgreSQL store for teams is a second
 * implementation of the same two interfaces, not a rewrite of the commands.
 */
export interface ArchiveReader {
  sessions(query: SessionQuery): SessionSummary[];
  session(id: string): SessionDetail | undefined;
  /** When each exchange of these sessions that still awaits the writer's token estimate ended (see cli/estimate-wait.ts). */
  awaitingEstimates(sessionIds: readonly string[]): number[];
  /** The same for exchanges by id. */
  exchangesAwaitingEstimates(ids: readonly string[]): number[];
  /** One exchange with its bodies as stored (decoded from compact storage) and its WebSocket messages. */
  exchange(id: string): ExchangeDetail | undefined;
  /** A WebSocket session's message log in wire order ([] for anything else). */
  wsMessages(exchangeId: string): WsMessageRow[];
  /** Resolves a unique id prefix (as `show` accepts) to a session or an exchange. */
  resolve(idOrPrefix: string): { kind: 'session' | 'exchange'; id: string } | { kind: 'ambiguous'; matches: string[] } | undefined;
  /** One row per group, and one for the whole range (percentiles over all of it); no total when nothing matched. */
  statsTable(query: StatsQuery): { rows: StatsRow[]; total: StatsRow | undefined };
  /** The exchanges a filter covers that counted tokens and have no cost, grouped (by a stats dimension too, when given), with the reason for each group. */
  unpricedGroups(filter: ExchangeFilter, price: (input: PriceInput) => PriceResult, by?: StatsDimension): UnpricedGroup[];
  /** Requests, errors, tokens and cost per time bucket and group (the web UI's charts). */
  timeSeries(query: SeriesQuery): TimeSeries;
  /**
   * A report read off the calling thread: what the proxy's web UI asks for, whose event
   * loop a month of exchanges must not hold.
   */
  inBackground<K extends keyof BackgroundReads>(read: K, query: BackgroundReads[K]['query']): Promise<BackgroundReads[K]['result']>;
  /** Exchanges written after `cursor` (an opaque increasing position), oldest first, without bodies; only those `filter` covers when given. */
  exchangesAfter(cursor: number, limit: number, filter?: ExchangeFilter): { rows: ExchangeListRow[]; cursor: number };
  /**
   * Every exchange started at or after `since`, oldest first, bodies decoded (read in
   * pages, so an archive of any size streams through): what `policy test` and
   * `cache-report` replay.
   */
  exchangesWithBodies(since?: number): Iterable<ExchangeRow>;
  /** How many exchanges exchangesWithBodies(since) reads (a progress line's total). */
  countExchanges(since?: number): number;
  /** Exchanges newest first, filtered (the web UI's list); a text search reads a bounded number of rows. */
  listExchanges(query: ExchangeListQuery): ExchangeListEntry[];
  /**
   * The exchanges a filter covers, newest first, each with where `needle` (lower-case)
   * occurs in its answer or prompt (`hit` undefined when it does not), read one at a time:
   * the caller stops when it has enough (`llmtap search`).
   */
  searchText(filter: ExchangeFilter, needle: string): Iterable<TextSearchRow>;
  /** The position after the newest exchange (where `tail` starts). */
  endCursor(): number;
  /** Cost of exchanges since `since` (epoch ms), summed per UTC day and the facts policy rules match on (budgets). */
  spendSince(since: number): SpendRow[];
  /** The exchanges a filter covers as `export` writes them (JSON lines, a HAR document's lines, or CSV lines with the header first), oldest first, one row read at a time. */
  exportLines(format: 'jsonl' | 'har' | 'csv', filter: ExchangeFilter): Iterable<string>;
  /** Policy decisions since `since`, counted per rule (`stats --by rule`). */
  ruleStats(query: ExchangeFilter): RuleStatsRow[];
  /** Deletes everything that started before `before` (epoch ms), and body parts nothing refers to any more. */
  purge(before: number, progress?: PurgeProgress): PurgeCounts;
  /** What purge(before) would delete, deleting nothing (body parts are only known by sweeping them). */
  purgePreview(before: number): Omit<PurgeCounts, 'bodyParts'>;
  close(): void;
}

/** The reports `inBackground` reads: each a method of the reader, run in a worker thread. */
export interface BackgroundReads {
  statsTable: { query: StatsQuery; result: { rows: StatsRow[]; total: StatsRow | undefined } };
  ruleStats: { query: ExchangeFilter; result: RuleStatsRow[] };
  timeSeries: { query: SeriesQuery; result: TimeSeries };
  /** The web UI's list with a text search: it decodes up to TEXT_SCAN_LIMIT bodies. */
  listExchanges: { query: ExchangeListQuery; result: ExchangeListEntry[] };
  /** The web UI's session view as JSON text (ui/server/session-page.ts): it decodes every body of the session. */
  sessionPage: { query: SessionPageQuery; result: Uint8Array | undefined };
  /** The web UI's exchange view as UTF-8 JSON (ui/server/exchange-page.ts): its bodies decoded, a Codex session's message log parsed. */
  exchangePage: { query: ExchangePageQuery; result: Uint8Array | undefined };
  /** The web UI's usage table (ui/server/usage.ts): stats per group, and why some exchanges have no cost (the price data loaded for it). */
  usagePage: { query: UsagePageQuery; result: UsagePage };
}

export interface SessionQuery {
  since?: number;
  tool?: string;
  /** The proxy user (--auth) whose sessions to list. */
  user?: string;
  /** Sessions that used this model (one of their exchanges). */
  model?: string;
  /** Sessions of this run label (`llmtap run --label`). */
  label?: string;
  limit: number;
}

export interface SessionSummary {
  id: string;
  startedAt: number;
  endedAt: number;
  tool: string | null;
  clientAddress: string | null;
  clientUser: string | null;
  /** `llmtap run --label` of the run the session came from. */
  clientLabel: string | null;
  models: string[];
  threads: number;
  /** Requests: one per exchange, a Codex WebSocket session one per request in it (archives written by older builds counted it once); retries included. */
  exchanges: number;
  /** Of those, retries (the same request resent in its turn): the session's turns are exchanges - retries. */
  retries: number;
  errors: number;
  /** Every prompt token, cached or not. */
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd: number | null;
  /** Exchanges whose cost is unknown (not counted in costUsd). */
  unpriced: number;
  /** Subscription traffic priced at API rates. */
  apiEquivalent: boolean;
  quota: QuotaBurn | null;
}

export interface ThreadSummary {
  id: string;
  sessionId: string;
  parentThreadId: string | null;
  spawnedByToolCallId: string | null;
  agentId: string | null;
  startedAt: number;
  endedAt: number;
  models: string[];
  exchanges: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd: number | null;
  quota: QuotaBurn | null;
}

export interface SessionDetail {
  session: SessionSummary;
  threads: ThreadSummary[];
  /** Every exchange of the session, oldest first, bodies decoded. */
  exchanges: ExchangeRow[];
}

export interface ExchangeDetail {
  row: ExchangeRow;
  wsMessages: WsMessageRow[];
}

/** What `tail` prints: an exchange's metadata, no bodies. */
export type ExchangeListRow = Omit<ExchangeRow, 'request_body' | 'response_body' | 'request_headers' | 'response_headers'>;

export type StatsDimension = 'model' | 'tool' | 'host' | 'day' | 'session' | 'user' | 'label' | 'team';

export interface StatsQuery extends ExchangeFilter {
  by: StatsDimension;
  /** Proxy user → team (a policy file's `teams:`), for `by: 'team'`. */
  teams?: ReadonlyMap<string, string>;
}

export interface StatsRow {
  key: string | null;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd: number | null;
  unpriced: number;
  /** Exchanges whose tokens and cost llmtap estimated from the text (their answers reported no usage). */
  estimated: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
  /** Cached prompt tokens over all prompt tokens; null without prompt tokens. */
  cacheHitRatio: number | null;
}

export interface PurgeCounts {
  exchanges: number;
  tunnels: number;
  wsMessages: number;
  sessions: number;
  /** Answers of the response cache stored before the cut. */
  cacheEntries: number;
  bodyParts: number;
}

/** One policy rule's decisions over a range of exchanges. */
export interface RuleStatsRow {
  rule: string;
  kind: string;
  /** Exchanges the rule decided something on. */
  exchanges: number;
  /** Of those, recorded in monitor mode (nothing changed). */
  monitor: number;
  /** Refused by this rule (enforced). */
  blocked: number;
  /** Body changed by this rule: redacted or clamped (enforced). */
  changed: number;
  /** Budget decisions past the warning threshold. */
  warned: number;
  /** Enforced decisions per action (hit, miss, route, fallback, inject, clamp, deny, …): exchanges each. */
  actions: Record<string, number>;
}

/** One exchange a text search read (`searchText`). */
export interface TextSearchRow {
  exchangeId: string;
  sessionId: string | null;
  startedAt: number;
  tool: string | null;
  model: string | null;
  user: string | null;
  hit: TextHit | undefined;
}
