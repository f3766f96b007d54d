import type Database from 'better-sqlite3';
import { outputTokens, promptTokens } from '../providers/usage-totals.js';
import { exchangeWhere, NONE, type ExchangeFilter } from './exchange-filter.js';
import { modelParts } from './model-parts.js';

/** The figures a split moves between models: every prompt token, every output token (usage-totals.ts), cached tokens, cost. */
export interface SplitFigures {
  input: number;
  output: number;
  cached: number;
  /** null: not priced. */
  cost: number | null;
}

/** One WebSocket session that switched models, as the split readers see it. */
export interface SplitSession {
  startedAt: number;
  /** The row's model, under which the SQL sums counted the whole session. */
  model: string | null;
  /** Whether the SQL sums (filtered by model) counted the row at all. */
  counted: boolean;
  whole: SplitFigures;
  /** Each model's part that the filter keeps. */
  parts: { model: string; figures: SplitFigures }[];
}

interface SplitRow {
  started_at: number;
  model: string | null;
  api: string | null;
  cost_usd: number | null;
  input_tokens: number | null;
  cached_input_tokens: number | null;
  cache_creation_input_tokens: number | null;
  output_tokens: number | null;
  reasoning_tokens: number | null;
  model_usage: string;
}

/**
 * The sessions a filter covers that more than one model answered (their `model_usage`,
 * model-parts.ts), for the readers grouped by model (`stats --by model`, the web UI's
 * charts): the SQL sums counted each whole under its last model; these say what to take
 * back out and what each model gets instead. With a model (`stats --model`: `anyModel`,
 * the session found by any of its models), a session that used it counts for it alone,
 * whichever model came last: only that model's part is kept.
 */
export function* switchedSessions(db: Database.Database, filter: ExchangeFilter): Generator<SplitSession> {
  const { model, anyModel, ...rest } = filter;
  const only = anyModel ?? model;
  if (only === NONE) return;
  // The sessions that used the model, by the list's indexed query (exchange-filter.ts); `anyModel`'s
  // sums counted each of them, `model`'s (the row's own column) only those it came last in.
  const { and, params } = exchangeWhere(only === undefined ? rest : { ...rest, anyModel: only });
  const rows = db.prepare(`SELECT started_at, model, api, cost_usd, input_tokens, cached_input_tokens, cache_creation_input_tokens, output_tokens, reasoning_tokens,
    model_usage FROM exchanges WHERE model_usage IS NOT NULL ${and}`).iterate(...params) as IterableIterator<SplitRow>;
  for (const row of rows) {
    const parts = modelParts(row.model_usage);
    if (!parts) continue;
    yield {
      startedAt: row.started_at,
      model: row.model,
      counted: only === undefined || anyModel !== undefined || row.model === only,
      whole: { input: promptTokens(row), output: outputTokens(row) ?? 0, cached: row.cached_input_tokens ?? 0, cost: row.cost_usd },
      parts: parts.filter((p) => only === undefined || p.model === only).map((p) => {
        const columns = { ...p, api: row.api };
        return { model: p.model, figures: { input: promptTokens(columns), output: outputTokens(columns) ?? 0, cached: p.cached_input_tokens ?? 0, cost: p.cost_usd } };
      }),
    };
  }
}

/** The sums of one `stats` group that a split moves between models. */
export interface ModelSums {
  key: string | null;
  requests: number;
  input: number;
  output: number;
  cached: number;
  cost: number | null;
  unpriced: number;
}

/**
 * `stats --by model` with each session that switched models split among them: each
 * model that answered in it gets its tokens and cost and counts the session as one of
 * its requests (the total row, summed before, still counts it once). Errors and timings
 * stay with the row's model (its last), so a model filter that is not the last keeps none of them.
 */
export function splitSessionsByModel<G extends ModelSums>(db: Database.Database, filter: ExchangeFilter, groups: Map<string | null, G>, open: (key: string) => G): void {
  for (const s of switchedSessions(db, filter)) {
    const counted = s.counted ? groups.get(s.model) : undefined;
    if (counted) add(counted, s.whole, -1);
    for (const part of s.parts) {
      let g = groups.get(part.model);
      if (!g) groups.set(part.model, (g = open(part.model)));
      add(g, part.figures, 1);
    }
    // A row's model that no response named (the upgrade's model, say) keeps nothing of it.
    if (counted && counted.requests <= 0) groups.delete(s.model);
  }
}

function add(g: ModelSums, f: SplitFigures, sign: 1 | -1): void {
  g.requests += sign;
  g.input += sign * f.input;
  g.output += sign * f.output;
  g.cached += sign * f.cached;
  if (f.cost === null) g.unpriced += sign;
  else g.cost = (g.cost ?? 0) + sign * f.cost;
}
