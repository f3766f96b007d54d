import type Database from 'better-sqlite3';
import type { PriceOverrides } from '../cost/override-match.js';
import type { Exchange } from '../exchange.js';
import type { ExchangeRow } from './row-types.js';
import { applyCost } from './row-cost.js';

/** An exchange committed without usage that the writer estimates (row-estimate.ts), with its row as written. */
export interface Estimable {
  ex: Exchange;
  row: ExchangeRow;
}

/** The usage and price the writer estimated for an exchange whose answer reported none. */
export interface EstimatedUsage {
  id: string;
  inputTokens: number;
  outputTokens: number;
  /** Its price from those tokens; null when the model has no known price. */
  usd: number | null;
}

/**
 * After a batch is committed: the exchanges among it whose answers reported no usage get
 * their estimate (`estimate` sets `ex.usage`, false when it cannot), then their rows, and
 * the totals of their sessions and threads, are amended in one transaction. The rows are
 * committed first on purpose: counting a long prompt, or loading the tokenizer the first
 * time (~0.5-1 s), must never hold a record back from the archive (a proxy killed in that
 * moment would lose it). The amended rows' figures are written onto `row` too.
 */
export function amendWithEstimates(db: Database.Database, items: readonly Estimable[], prices: PriceOverrides | undefined, estimate: (ex: Exchange) => boolean): EstimatedUsage[] {
  const done = items.filter((item) => estimate(item.ex));
  if (done.length === 0) return [];
  const updateRow = db.prepare('UPDATE exchanges SET input_tokens = @input, output_tokens = @output, cost_usd = @usd, cost_source = @source, usage_estimated = 1 WHERE id = @id');
  // The row was added to its totals with no tokens and no cost (counted unpriced): add what it has now.
  const addCost = 'cost_usd = CASE WHEN @usd IS NULL THEN cost_usd ELSE COALESCE(cost_usd, 0) + @usd END';
  const updateSession = db.prepare(`UPDATE sessions SET input_tokens = input_tokens + @input, output_tokens = output_tokens + @output, ${addCost},
    unpriced = unpriced - (@usd IS NOT NULL), api_equivalent = MAX(api_equivalent, @apiEquivalent) WHERE id = @id`);
  const updateThread = db.prepare(`UPDATE threads SET input_tokens = input_tokens + @input, output_tokens = output_tokens + @output, ${addCost} WHERE id = @id`);
  const estimates: EstimatedUsage[] = [];
  db.transaction(() => {
    for (const { ex, row } of done) {
      const input = ex.usage?.inputTokens ?? 0;
      const output = ex.usage?.outputTokens ?? 0;
      applyCost(row, ex, prices);
      row.input_tokens = input;
      row.output_tokens = output;
      row.usage_estimated = 1;
      const figures = { input, output, usd: row.cost_usd };
      updateRow.run({ ...figures, source: row.cost_source, id: row.id });
      if (row.session_id !== null) updateSession.run({ ...figures, apiEquivalent: row.cost_source === 'api_equivalent' ? 1 : 0, id: row.session_id });
      if (row.thread_id !== null) updateThread.run({ ...figures, id: row.thread_id });
      estimates.push({ id: row.id, inputTokens: input, outputTokens: output, usd: row.cost_usd });
    }
  }).immediate();
  return estimates;
}
