import type Database from 'better-sqlite3';
import type { Quota } from '../providers/quota-headers.js';
import { promptTokens } from '../providers/usage-totals.js';
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
}

/** A session's models list stays short: the distinct names, first seen first. */
const MAX_MODELS = 16;

interface TotalsRow {
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

/**
 * Keeps the `sessions` and `threads` tables' totals up to date as each exchange row is
 * written, in the same transaction, so `llmtap sessions` reads one small table instead
 * of aggregating every exchange per query. A row re-recorded under the same id (the
 * archive's INSERT OR REPLACE) would be counted twice; the recorder writes each id once.
 */
export class SessionRollup {
  readonly #selectSession: Database.Statement;
  readonly #insertSession: Database.Statement;
  readonly #updateSession: Database.Statement;
  readonly #selectThread: Database.Statement;
  readonly #insertThread: Database.Statement;
  readonly #updateThread: Database.Statement;

  readonly #savepoint: (work: () => void) => void;

  constructor(db: Database.Database) {
    this.#savepoint = db.transaction((work: () => void) => work());
    this.#selectSession = db.prepare('SELECT * FROM sessions WHERE id = ?');
    this.#insertSession = db.prepare(`INSERT INTO sessions (id, started_at, ended_at, tool_name, client_address, client_user, models, threads, exchanges, errors,
      input_tokens, output_tokens, cached_input_tokens, cache_creation_input_tokens, reasoning_tokens, cost_usd, unpriced, api_equivalent, quota)
      VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#updateSession = db.prepare(`UPDATE sessions SET started_at = ?, ended_at = ?, models = ?, threads = threads + ?, exchanges = exchanges + 1,
      errors = errors + ?, input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, cached_input_tokens = cached_input_tokens + ?,
      cache_creation_input_tokens = cache_creation_input_tokens + ?, reasoning_tokens = reasoning_tokens + ?, cost_usd = ?,
      unpriced = unpriced + ?, api_equivalent = MAX(api_equivalent, ?), quota = ?, tool_name = COALESCE(tool_name, ?) WHERE id = ?`);
    this.#selectThread = db.prepare('SELECT * FROM threads WHERE id = ?');
    this.#insertThread = db.prepare(`INSERT INTO threads (id, session_id, parent_thread_id, spawned_by_tool_call_id, agent_id, started_at, ended_at, models,
      exchanges, input_tokens, output_tokens, cached_input_tokens, cost_usd, quota) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`);
    this.#updateThread = db.prepare(`UPDATE threads SET started_at = ?, ended_at = ?, models = ?, exchanges = exchanges + 1, input_tokens = input_tokens + ?,
      output_tokens = output_tokens + ?, cached_input_tokens = cached_input_tokens + ?, cost_usd = ?, quota = ? WHERE id = ?`);
  }

  /** Runs `work` in a savepoint (inside the caller's transaction): all of it lands or none. */
  inSavepoint(work: () => void): void {
    this.#savepoint(work);
  }

  add(row: ExchangeRow, g: RowGrouping): void {
    const start = row.started_at;
    const end = row.ended_at ?? row.started_at;
    const windows = quotaWindows(parseQuota(row.quota));
    const error = row.outcome !== null && row.outcome !== 'completed' ? 1 : row.status !== null && row.status >= 400 ? 1 : 0;
    // Every prompt token, cached or not, whichever way the provider counts them.
    const input = promptTokens(row);
    const output = row.output_tokens ?? 0;
    const cached = row.cached_input_tokens ?? 0;
    const apiEquivalent = row.cost_source === 'api_equivalent' ? 1 : 0;

    const thread = this.#selectThread.get(g.threadId) as TotalsRow | undefined;
    if (!thread) {
      this.#insertThread.run(g.threadId, g.sessionId, g.parentThreadId ?? null, g.spawnedByToolCallId ?? null, g.agentId ?? null, start, end,
        models('[]', row.model), input, output, cached, row.cost_usd, burnJson(addQuota(undefined, windows)));
    } else {
      this.#updateThread.run(Math.min(thread.started_at, start), Math.max(thread.ended_at, end), models(thread.models, row.model), input, output, cached,
        addCost(thread.cost_usd, row.cost_usd), burnJson(addQuota(parseBurn(thread.quota), windows)), g.threadId);
    }

    const session = this.#selectSession.get(g.sessionId) as TotalsRow | undefined;
    if (!session) {
      this.#insertSession.run(g.sessionId, start, end, row.tool_name, row.client_address, row.client_user, models('[]', row.model), error,
        input, output, cached, row.cache_creation_input_tokens ?? 0, row.reasoning_tokens ?? 0, row.cost_usd, row.cost_usd === null ? 1 : 0,
        apiEquivalent, burnJson(addQuota(undefined, windows)));
    } else {
      this.#updateSession.run(Math.min(session.started_at, start), Math.max(session.ended_at, end), models(session.models, row.model), thread ? 0 : 1,
        error, input, output, cached, row.cache_creation_input_tokens ?? 0, row.reasoning_tokens ?? 0, addCost(session.cost_usd, row.cost_usd),
        row.cost_usd === null ? 1 : 0, apiEquivalent, burnJson(addQuota(parseBurn(session.quota), windows)), row.tool_name, g.sessionId);
    }
  }
}

/** Known costs add up; an exchange without a known cost is counted in `unpriced`, never as 0. */
function addCost(total: number | null, cost: number | null): number | null {
  if (cost === null) return total;
  return (total ?? 0) + cost;
}

function models(json: string, model: string | null): string {
  const list = parseArray(json);
  if (model === null || list.includes(model) || list.length >= MAX_MODELS) return json;
  return JSON.stringify([...list, model]);
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

function parseBurn(json: string | null): QuotaBurn | undefined {
  return parseQuota(json) as QuotaBurn | undefined;
}

function burnJson(burn: QuotaBurn | undefined): string | null {
  return burn === undefined ? null : JSON.stringify(burn);
}
