import { HOLD_MS } from './tail-hold.js';

/**
 * Until when a command that prints once (`sessions`, `show`) waits for the writer's estimates of
 * the exchanges still awaiting one (committed before the estimate, recorder/estimate-pass.ts),
 * given when each ended: HOLD_MS after the last of them, as `tail` holds such a line. A row
 * older than that was left by a proxy killed before amending it and is not waited for
 * (the time is then already past). Pure.
 */
export function estimateWaitUntil(endedAt: readonly number[], holdMs = HOLD_MS): number {
  return endedAt.reduce((until, at) => Math.max(until, at + holdMs), Number.NEGATIVE_INFINITY);
}

/** Whether any of these exchanges' estimates is still due (the web UI then asks again shortly). Pure. */
export function estimatesDue(endedAt: readonly number[], now = Date.now()): boolean {
  return estimateWaitUntil(endedAt) > now;
}

/**
 * Looks again every `pollMs` while `awaiting` (re-read each time) names exchanges whose
 * estimate is still due; true when it waited at all (what was read before is stale).
 */
export async function waitForEstimates(awaiting: () => readonly number[], pollMs = 50, now: () => number = Date.now): Promise<boolean> {
  let waited = false;
  for (;;) {
    const left = estimateWaitUntil(awaiting()) - now();
    if (left <= 0) return waited;
    waited = true;
    await new Promise((r) => setTimeout(r, Math.min(pollMs, left)));
  }
}
