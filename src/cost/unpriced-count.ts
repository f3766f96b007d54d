import type { ExchangeRow } from '../recorder/row-types.js';

/**
 * Whether an exchange without a cost leaves a cost out of a total (the `+` after a sum,
 * `unpriced` in stats and sessions). A request llmtap refused (outcome `blocked`: a policy
 * block, a rate limit, a forbidden target) never went upstream: it cost nothing, and a
 * platform team whose policy blocks anything would otherwise see every total marked
 * partial. The provider's own error answer (completed, status 400 and up) that counted no
 * tokens has nothing to price either: nobody is billed for one (cost/untokened-reason.ts),
 * and a total marked partial by a 404 could not say what it lacks. Any other exchange
 * without a cost may have been billed (an upstream error: the request may have been read
 * before the connection broke). One rule, in JS and SQL.
 */
export function leavesCostOut(row: Pick<ExchangeRow, 'cost_usd' | 'outcome' | 'status' | 'input_tokens' | 'output_tokens'>): boolean {
  if (row.cost_usd !== null || row.outcome === 'blocked') return false;
  return !(row.outcome === 'completed' && (row.status ?? 0) >= 400 && row.input_tokens === null && row.output_tokens === null);
}

/** leavesCostOut in SQL over the exchanges table: 1 or 0. */
export const LEAVES_COST_OUT_SQL = `(cost_usd IS NULL AND outcome IS NOT 'blocked'
  AND NOT (outcome IS 'completed' AND COALESCE(status, 0) >= 400 AND input_tokens IS NULL AND output_tokens IS NULL))`;

/**
 * What an exchange cost as far as is known: its price; 0 for one that leaves nothing out
 * of a total (a request llmtap refused, which never went upstream; the provider's error
 * answer that counted nothing), so `$0` is written where `–`, unknown, would not be true
 * (a refused request in a Codex session is its $0 share too); else null, unknown.
 */
export function knownCost(row: Pick<ExchangeRow, 'cost_usd' | 'outcome' | 'status' | 'input_tokens' | 'output_tokens'>): number | null {
  return row.cost_usd ?? (leavesCostOut(row) ? null : 0);
}

/** A sum's cost as far as is known: the sum; 0 when it has none and leaves no exchange out (all refused, say); else null. */
export function knownSum(costUsd: number | null, unpriced: number): number | null {
  return costUsd ?? (unpriced === 0 ? 0 : null);
}
