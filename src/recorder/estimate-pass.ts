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
 * moment would lose it). Once it commits, the amended figures are written onto `row` too.
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
  // Priced on a copy: the row keeps what is stored until the amendment commits.
  const amended = done.map(({ ex, row }) => {
    const copy: ExchangeRow = { ...row, input_tokens: ex.usage?.inputTokens ?? 0, output_tokens: ex.usage?.outputTokens ?? 0, usage_estimated: 1 };
    applyCost(copy, ex, prices);
    return { row, copy };
  });
  db.transaction(() => {
    for (const { copy } of amended) {
      const figures = { input: copy.input_tokens, output: copy.output_tokens, usd: copy.cost_usd };
      updateRow.run({ ...figures, source: copy.cost_source, id: copy.id });
      if (copy.session_id !== null) updateSession.run({ ...figures, apiEquivalent: copy.cost_source === 'api_equivalent' ? 1 : 0, id: copy.session_id });
      if (copy.thread_id !== null) updateThread.run({ ...figures, id: copy.thread_id });
    }
  }).immediate();
  return amended.map(({ row, copy }) => {
    Object.assign(row, { input_tokens: copy.input_tokens, output_tokens: copy.output_tokens, usage_estimated: 1, cost_usd: copy.cost_usd, cost_source: copy.cost_source });
    return { id: row.id, inputTokens: copy.input_tokens ?? 0, outputTokens: copy.output_tokens ?? 0, usd: copy.cost_usd };
  });
}
