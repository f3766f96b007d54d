import { leavesCostOut } from '../cost/unpriced-count.js';
import type Database from 'better-sqlite3';
import { exchangeFailed } from '../failed-exchange.js';
import type { Quota } from '../providers/quota-headers.js';
import { outputTokens, promptTokens } from '../providers/usage-totals.js';
import { addQuota, quotaWindows, type QuotaBurn } from '../sessions/quota-burn.js';
import type { ExchangeRow } from './db.js';

/** Where the grouper put one exchange, plus what a new thread records about its origin. */
export interface RowGrouping {
  sessionId: string;
  threadId: string;
  turn: number;
  parentThreadId?: string;
  spawnedByToolCallId?: string;
  agentId?: string;
  /** The same request again in its turn (sessions/group.ts): an attempt, not a turn. */
  retry?: boolean;
}

/** A session's models list stays short: the distinct names, first seen first. */
const MAX_MODELS = 16;

const SESSION_COLUMNS = ['id', 'started_at', 'ended_at', 'tool_name', 'client_address', 'client_user', 'models', 'threads', 'exchanges', 'retries', 'errors',
  'input_tokens', 'output_tokens', 'cached_input_tokens', 'cache_creation_input_tokens', 'reasoning_tokens', 'cost_usd', 'unpriced', 'api_equivalent', 'quota'] as const;
const THREAD_COLUMNS = ['id', 'session_id', 'parent_thread_id', 'spawned_by_tool_call_id', 'agent_id', 'started_at', 'ended_at', 'models',
  'exchanges', 'input_tokens', 'output_tokens', 'cached_input_tokens', 'cost_usd', 'quota'] as const;

/** A `sessions` row as stored; `threads` rows share the columns they have in common. */
interface SessionRow {
  id: string;
  started_at: number;
  ended_at: number;
  tool_name: string | null;
  client_address: string | null;
  client_user: string | null;
  models: string;
  threads: number;
  /** Requests (a Codex WebSocket session: one per request in it), retries included. */
  exchanges: number;
  /** Of those, resends of a turn already counted: turns = exchanges - retries. */
  retries: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cache_creation_input_tokens: number;
  reasoning_tokens: number;
  cost_usd: number | null;
  unpriced: number;
  api_equivalent: number;
  quota: string | null;
}

interface ThreadRow {
  id: string;
  session_id: string;
  parent_thread_id: string | null;
  spawned_by_tool_call_id: string | null;
  agent_id: string | null;
  started_at: number;
  ended_at: number;
  models: string;
  exchanges: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cost_usd: number | null;
  quota: string | null;
}

/** A row being totalled in memory: the models list and the quota burn kept parsed until written. */
interface Open<Row> {
  row: Row;
  models: string[];
  burn: QuotaBurn | undefined;
  /** started_at as stored (undefined: not stored yet), to leave the index on it alone when it did not move. */
  storedStart: number | undefined;
}

/** How a touched row is written: inserted, updated with its indexed start, or updated without touching any index. */
type WriteKind = 'insert' | 'update' | 'totals';

function writeKind(open: Open<{ started_at: number }>): WriteKind {
  return open.storedStart === undefined ? 'insert' : open.storedStart === open.row.started_at ? 'totals' : 'update';
}

/**
 * Keeps the `sessions` and `threads` tables' totals up to date as exchange rows are
 * written, in the same transaction, so `llmtap sessions` reads one small table instead
 * of aggregating every exchange per query. Totals are added up in memory over a batch
 * (begin → add per row → write): each session and thread touched is read once and
 * written once per batch, not per exchange. A row re-recorded under the same id (the
 * archive's INSERT OR REPLACE) would be counted twice; the recorder writes each id once.
 */
export class SessionRollup {
  readonly #selectSession: Database.Statement;
  readonly #selectThread: Database.Statement;
  readonly #writeSession: Record<WriteKind, Database.Statement>;
  readonly #writeThread: Record<WriteKind, Database.Statement>;

  constructor(db: Database.Database) {
    this.#selectSession = db.prepare('SELECT * FROM sessions WHERE id = ?');
    this.#selectThread = db.prepare('SELECT * FROM threads WHERE id = ?');
    this.#writeSession = writeStatements(db, 'sessions', SESSION_COLUMNS, ['started_at']);
    this.#writeThread = writeStatements(db, 'threads', THREAD_COLUMNS, ['session_id', 'started_at']);
  }

  /** Adds one exchange and writes its totals at once (tests, and callers with one row at a time). */
  add(row: ExchangeRow, g: RowGrouping, turns?: number, models?: readonly string[]): void {
    const batch = this.begin();
    batch.add(row, g, turns, models);
    batch.write();
  }

  /** Totals for one batch; nothing reaches the tables until its write(). */
  begin(): RollupBatch {
    return new RollupBatch(
      (id) => this.#selectSession.get(id) as SessionRow | undefined,
      (id) => this.#selectThread.get(id) as ThreadRow | undefined,
      (kind, row) => this.#writeSession[kind].run(row),
      (kind, row) => this.#writeThread[kind].run(row),
    );
  }
}

export class RollupBatch {
  readonly #sessions = new Map<string, Open<SessionRow>>();
  readonly #threads = new Map<string, Open<ThreadRow>>();

  constructor(
    private readonly readSession: (id: string) => SessionRow | undefined,
    private readonly readThread: (id: string) => ThreadRow | undefined,
    private readonly writeSession: (kind: WriteKind, row: SessionRow) => void,
    private readonly writeThread: (kind: WriteKind, row: ThreadRow) => void,
  ) {}

  /**
   * Adds one exchange to its thread's and session's totals. Reads first, then changes
   * memory only: if a read throws, nothing of this exchange was counted. `turns`: what
   * it counts for in the turns (the `exchanges` columns): a Codex WebSocket session, one per request;
   * `models`: every model that answered in it (the row names only the last).
   */
  add(row: ExchangeRow, g: RowGrouping, turns = 1, models: readonly string[] = []): void {
    const knownThread = this.#threads.get(g.threadId) ?? open(this.readThread(g.threadId));
    const knownSession = this.#sessions.get(g.sessionId) ?? open(this.readSession(g.sessionId));

    const start = row.started_at;
    const end = row.ended_at ?? row.started_at;
    const windows = quotaWindows(parseQuota(row.quota));
    const error = exchangeFailed({ outcome: row.outcome, status: row.status, stopReason: row.stop_reason }) ? 1 : 0;
    // Every prompt token, cached or not, whichever way the provider counts them.
    const input = promptTokens(row);
    const output = outputTokens(row) ?? 0;
    const cached = row.cached_input_tokens ?? 0;

    let thread = knownThread;
    if (!thread) {
      thread = {
        row: { id: g.threadId, session_id: g.sessionId, parent_thread_id: g.parentThreadId ?? null, spawned_by_tool_call_id: g.spawnedByToolCallId ?? null,
          agent_id: g.agentId ?? null, started_at: start, ended_at: end, models: '[]', exchanges: 0, input_tokens: 0, output_tokens: 0,
          cached_input_tokens: 0, cost_usd: null, quota: null },
        models: [], burn: undefined, storedStart: undefined,
      };
    }
    const t = thread.row;
    t.started_at = Math.min(t.started_at, start);
    t.ended_at = Math.max(t.ended_at, end);
    for (const m of [...models, row.model]) addModel(thread, m);
    t.exchanges += turns;
    t.input_tokens += input;
    t.output_tokens += output;
    t.cached_input_tokens += cached;
    t.cost_usd = addCost(t.cost_usd, row.cost_usd);
    thread.burn = addQuota(thread.burn, windows);
    this.#threads.set(g.threadId, thread);

    let session = knownSession;
    if (!session) {
      session = {
        row: { id: g.sessionId, started_at: start, ended_at: end, tool_name: row.tool_name, client_address: row.client_address, client_user: row.client_user,
          models: '[]', threads: 0, exchanges: 0, retries: 0, errors: 0, input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, cache_creation_input_tokens: 0,
          reasoning_tokens: 0, cost_usd: null, unpriced: 0, api_equivalent: 0, quota: null },
        models: [], burn: undefined, storedStart: undefined,
      };
    }
    const s = session.row;
    s.started_at = Math.min(s.started_at, start);
    s.ended_at = Math.max(s.ended_at, end);
    for (const m of [...models, row.model]) addModel(session, m);
    if (!knownThread) s.threads += 1;
    s.exchanges += turns;
    if (g.retry) s.retries += 1;
    s.errors += error;
    s.input_tokens += input;
    s.output_tokens += output;
    s.cached_input_tokens += cached;
    s.cache_creation_input_tokens += row.cache_creation_input_tokens ?? 0;
    s.reasoning_tokens += row.reasoning_tokens ?? 0;
    s.cost_usd = addCost(s.cost_usd, row.cost_usd);
    if (leavesCostOut(row)) s.unpriced += 1;
    if (row.cost_source === 'api_equivalent') s.api_equivalent = 1;
    s.tool_name ??= row.tool_name;
    session.burn = addQuota(session.burn, windows);
    this.#sessions.set(g.sessionId, session);
  }

  /** One UPSERT per thread and per session the batch touched. */
  write(): void {
    for (const thread of this.#threads.values()) this.writeThread(writeKind(thread), closed(thread));
    for (const session of this.#sessions.values()) this.writeSession(writeKind(session), closed(session));
  }
}

function open<Row extends { models: string; quota: string | null; started_at: number }>(row: Row | undefined): Open<Row> | undefined {
  return row === undefined ? undefined : { row, models: parseArray(row.models), burn: parseQuota(row.quota) as QuotaBurn | undefined, storedStart: row.started_at };
}

/** The row with its models and burn back in their JSON columns. */
function closed<Row extends { models: string; quota: string | null }>(open: Open<Row>): Row {
  open.row.quota = open.burn === undefined ? null : JSON.stringify(open.burn);
  return open.row;
}

function addModel(open: Open<{ models: string }>, model: string | null): void {
  if (model === null || open.models.includes(model) || open.models.length >= MAX_MODELS) return;
  open.models.push(model);
  open.row.models = JSON.stringify(open.models);
}

/** Known costs add up; an exchange without a known cost is counted in `unpriced`, never as 0. */
function addCost(total: number | null, cost: number | null): number | null {
  if (cost === null) return total;
  return (total ?? 0) + cost;
}

/**
 * Named parameters (the row object binds as is). An UPDATE that sets an indexed column
 * rewrites its index entry even when the value is the same, one more page in the commit:
 * `totals` sets only what the batch changed apart from the indexed columns, which stay
 * as stored unless a row's start moved earlier (`update`).
 */
function writeStatements(db: Database.Database, table: string, columns: readonly string[], indexed: readonly string[]): Record<WriteKind, Database.Statement> {
  const set = (cols: readonly string[]): string => cols.filter((c) => c !== 'id').map((c) => `${c} = @${c}`).join(', ');
  return {
    insert: db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`),
    update: db.prepare(`UPDATE ${table} SET ${set(columns)} WHERE id = @id`),
    totals: db.prepare(`UPDATE ${table} SET ${set(columns.filter((c) => !indexed.includes(c)))} WHERE id = @id`),
  };
}

function parseArray(json: string): string[] {
  try {
    const value = JSON.parse(json) as unknown;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function parseQuota(json: string | null): Quota | undefined {
  if (json === null) return undefined;
  try {
    return JSON.parse(json) as Quota;
  } catch {
    return undefined;
  }
}
