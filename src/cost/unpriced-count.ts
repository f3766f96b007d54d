import type { ExchangeRow } from '../recorder/row-types.js';

/**
 * Whether an exchange without a cost leaves a cost out of a total (the `+` after a sum,
 * `unpriced` in stats and sessions). A request llmtap refused (outcome `blocked`: a policy
 * block, a rate limit, a forbidden target) never went upstream: it cost nothing, and a
 * platform team whose policy blocks anything would otherwise see every total marked
 * partial. Any other exchange without a cost may have been billed. One rule, in JS and SQL.
 */
export function leavesCostOut(row: Pick<ExchangeRow, 'cost_usd' | 'outcome'>): boolean {
  return row.cost_usd === null && row.outcome !== 'blocked';
}

/** leavesCostOut in SQL over the exchanges table: 1 or 0. */
export const LEAVES_COST_OUT_SQL = "(cost_usd IS NULL AND outcome IS NOT 'blocked')";
