import type { StatsDimension, StatsRow } from './store.js';

/** A group with nothing in it: the columns of an empty CSV. */
export const NO_ROW: StatsRow = {
  key: null, requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: null, unpriced: 0, estimated: 0,
  latencyP50Ms: null, latencyP95Ms: null, ttftP50Ms: null, ttftP95Ms: null, cacheHitRatio: null,
};

/** A stats group as `stats --json`, `--csv` and the web UI's usage page give it. */
export function statsJson(by: StatsDimension, r: StatsRow): Record<string, unknown> {
  return {
    [by]: r.key, requests: r.requests, errors: r.errors,
    tokens: { input: r.inputTokens, output: r.outputTokens, cached_input: r.cachedInputTokens },
    cost_usd: usdFigure(r.costUsd), unpriced_exchanges: r.unpriced, estimated_exchanges: r.estimated,
    latency_ms: { p50: r.latencyP50Ms, p95: r.latencyP95Ms }, ttft_ms: { p50: r.ttftP50Ms, p95: r.ttftP95Ms },
    cache_hit_ratio: r.cacheHitRatio,
  };
}

/** A dollar figure for JSON and CSV: 12 significant digits, the sum of a price's parts without its binary noise (0.00019920000000000002). */
export function usdFigure(usd: number | null | undefined): number | null {
  return usd === null || usd === undefined ? null : Number(usd.toPrecision(12));
}
