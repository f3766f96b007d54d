import type Database from 'better-sqlite3';
import type { PriceOverrides } from '../cost/override-match.js';
import type { Exchange } from '../exchange.js';
import type { ExchangeRow } from './row-types.js';
import { applyCost } from './row-cost.js';
import { ESTIMATED_COLUMN, estimatedPart, type EstimatedPart } from '../archive/estimated-part.js';

/** An exchange committed without (final) usage that the writer estimates (row-estimate.ts), with its row as written. */
export interface Estimable {
  ex: Exchange;
  row: ExchangeRow;
}

/**
 * What the writer's estimate adds to what an exchange counted when it ended: all of it for
 * an answer that reported no usage, the output past `message_start`'s count for an
 * Anthropic stream cut before its final usage. Whoever counted the exchange as it ended
 * (budgets, Prometheus) adds these figures, so nothing is counted twice.
 */
export interface EstimatedUsage {
  id: string;
  inputTokens: number;
  outputTokens: number;
  /** The price those tokens add; null when the model has no known price. */
  usd: number | null;
  /** What of the exchange's usage is now an estimate: all of it, or the output only. */
  part: EstimatedPart;
}

/** The writer's word on every estimable exchange of a committed batch: estimated, or not going to be. */
export interface EstimatePassResult {
  estimated: EstimatedUsage[];
  /** Ids the writer will not estimate (no readable prompt, the tokenizer failed): nothing is to wait for them. */
  none: string[];
}

/**
 * After a batch is committed: the exchanges among it whose answers reported no usage get
 * their estimate (`estimate` sets `ex.usage`, false when it cannot), then their rows, and
 * the totals of their sessions and threads, are amended in one transaction. The rows are
 * committed first on purpose: counting a long prompt, or loading the tokenizer the first
 * time (~0.5-1 s), must never hold a record back from the archive (a proxy killed in that
 * moment would lose it). They were committed with `usage_estimated = 0` (awaiting: `tail`
 * holds such a row back a moment); the same transaction settles every one of them, to 1
 * or back to NULL. Once it commits, the amended figures are written onto `row` too.
 */
export function amendWithEstimates(db: Database.Database, items: readonly Estimable[], prices: PriceOverrides | undefined, estimate: (ex: Exchange) => boolean): EstimatePassResult {
  const done: Estimable[] = [];
  const skipped: Estimable[] = [];
  for (const item of items) (estimate(item.ex) ? done : skipped).push(item);
  const updateRow = db.prepare('UPDATE exchanges SET input_tokens = @input, output_tokens = @output, cost_usd = @cost, cost_source = @source, usage_estimated = @estimated WHERE id = @id');
  const settleRow = db.prepare('UPDATE exchanges SET usage_estimated = NULL WHERE id = ? AND usage_estimated = 0');
  // Totals already hold what the row was committed with (nothing, or an Anthropic stream's
  // input): they take the difference. A row committed without a cost counted as unpriced.
  const addCost = 'cost_usd = CASE WHEN @usd IS NULL THEN cost_usd ELSE COALESCE(cost_usd, 0) + @usd END';
  const updateSession = db.prepare(`UPDATE sessions SET input_tokens = input_tokens + @input, output_tokens = output_tokens + @output, ${addCost},
    unpriced = unpriced - @nowPriced, api_equivalent = MAX(api_equivalent, @apiEquivalent) WHERE id = @id`);
  const updateThread = db.prepare(`UPDATE threads SET input_tokens = input_tokens + @input, output_tokens = output_tokens + @output, ${addCost} WHERE id = @id`);
  // Priced on a copy: the row keeps what is stored until the amendment commits.
  const amended = done.map(({ ex, row }) => {
    const copy: ExchangeRow = { ...row, input_tokens: ex.usage?.inputTokens ?? 0, output_tokens: ex.usage?.outputTokens ?? 0, usage_estimated: ESTIMATED_COLUMN[ex.usageEstimated ?? 'all'] };
    applyCost(copy, ex, prices);
    const added = {
      input: copy.input_tokens! - (row.input_tokens ?? 0),
      output: copy.output_tokens! - (row.output_tokens ?? 0),
      usd: copy.cost_usd === null ? null : copy.cost_usd - (row.cost_usd ?? 0),
      nowPriced: row.cost_usd === null && copy.cost_usd !== null ? 1 : 0,
    };
    return { row, copy, added };
  });
  db.transaction(() => {
    for (const { copy, added } of amended) {
      updateRow.run({ input: copy.input_tokens, output: copy.output_tokens, cost: copy.cost_usd, source: copy.cost_source, estimated: copy.usage_estimated, id: copy.id });
      if (copy.session_id !== null) updateSession.run({ ...added, apiEquivalent: copy.cost_source === 'api_equivalent' ? 1 : 0, id: copy.session_id });
      if (copy.thread_id !== null) updateThread.run({ input: added.input, output: added.output, usd: added.usd, id: copy.thread_id });
    }
    for (const { row } of skipped) settleRow.run(row.id);
  }).immediate();
  for (const { row } of skipped) row.usage_estimated = null;
  const estimated = amended.map(({ row, copy, added }) => {
    Object.assign(row, { input_tokens: copy.input_tokens, output_tokens: copy.output_tokens, usage_estimated: copy.usage_estimated, cost_usd: copy.cost_usd, cost_source: copy.cost_source });
    return { id: row.id, inputTokens: added.input, outputTokens: added.output, usd: added.usd, part: estimatedPart(copy.usage_estimated) ?? 'all' };
  });
  return { estimated, none: skipped.map(({ row }) => row.id) };
}
