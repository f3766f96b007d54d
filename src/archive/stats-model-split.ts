import type Database from 'better-sqlite3';
import { outputTokens, promptTokens } from '../providers/usage-totals.js';
import { exchangeWhere, NONE, type ExchangeFilter } from './exchange-filter.js';
import { modelParts } from './model-parts.js';

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

interface SplitRow {
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
 * `stats --by model` with each WebSocket session that switched models split among them
 * (its `model_usage`, model-parts.ts): the SQL sums counted the whole session under its
 * last model; here it is taken back out and each model that answered in it gets its own
 * tokens and cost, and counts the session as one of its requests (the total row, summed
 * before, still counts it once). Errors and timings stay with the row's model. With
 * `--model`, a session that used that model counts for it, whichever model came last.
 */
export function splitSessionsByModel<G extends ModelSums>(db: Database.Database, filter: ExchangeFilter, groups: Map<string | null, G>, open: (key: string) => G): void {
  if (filter.model === NONE) return;
  const { model: only, ...rest } = filter;
  const { and, params } = exchangeWhere(rest);
  const rows = db.prepare(`SELECT model, api, cost_usd, input_tokens, cached_input_tokens, cache_creation_input_tokens, output_tokens, reasoning_tokens, model_usage
    FROM exchanges WHERE model_usage IS NOT NULL ${and}`).iterate(...params) as IterableIterator<SplitRow>;
  for (const row of rows) {
    const parts = modelParts(row.model_usage);
    if (!parts) continue;
    const counted = only === undefined || row.model === only ? groups.get(row.model) : undefined;
    if (counted) {
      counted.requests--;
      counted.input -= promptTokens(row);
      counted.output -= outputTokens(row) ?? 0;
      counted.cached -= row.cached_input_tokens ?? 0;
      if (row.cost_usd === null) counted.unpriced--;
      else counted.cost = (counted.cost ?? 0) - row.cost_usd;
    }
    for (const part of parts) {
      if (only !== undefined && part.model !== only) continue;
      let g = groups.get(part.model);
      if (!g) groups.set(part.model, (g = open(part.model)));
      const columns = { ...part, api: row.api };
      g.requests++;
      g.input += promptTokens(columns);
      g.output += outputTokens(columns) ?? 0;
      g.cached += part.cached_input_tokens ?? 0;
      if (part.cost_usd === null) g.unpriced++;
      else g.cost = (g.cost ?? 0) + part.cost_usd;
    }
    // A row's model that no response named (the upgrade's model, say) keeps nothing of it.
    if (counted && counted.requests <= 0) groups.delete(row.model);
  }
}
