import { describe, expect, it } from 'vitest';
import { cacheReport } from '../../src/cache/cache-report.js';
import { makeExchange } from '../../src/exchange.js';
import { archivedRequest, UpstreamCosts } from '../../src/policy/archived-request.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { simulatePolicy } from '../../src/policy/simulate.js';
import type { ExchangeRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/**
 * An archive where llmtap's response cache already answered repeats: those rows cost
 * nothing, and what the cache saved is the cost of the answer it replayed.
 */
const T0 = Date.UTC(2026, 11, 1, 12);
function row(i: number, over: Partial<ExchangeRow>): ExchangeRow {
  const ex = makeExchange({ provider: 'openai', api: 'chat.completions', request: { model: 'gpt-4o-mini', path: '/v1/chat/completions' }, timings: { start: T0 + i * 1000, end: T0 + i * 1000 + 500 } });
  ex.request.body = { bytes: Buffer.from('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"same question"}]}'), size: 74, truncated: false };
  return { ...exchangeToRow(ex), status: 200, outcome: 'completed', input_tokens: 10, output_tokens: 5, ...over };
}
const paid = row(0, { cost_usd: 0.002, cost_source: 'api' });
const hit = (i: number) => row(i, { cost_usd: 0, cost_source: 'cache' });

describe('what a request would cost upstream', () => {
  it('a row the response cache answered is worth the paid answer it replayed; a paid row its own cost', () => {
    const upstream = new UpstreamCosts();
    const [a, b, c] = [paid, hit(1), hit(2)].map((r) => archivedRequest(r, new Map()));
    expect([upstream.of(b!), upstream.of(a!), upstream.of(b!), upstream.of(c!)]).toEqual([null, 0.002, 0.002, 0.002]);
    // A failed answer is never what a hit replays.
    const failed = archivedRequest(row(3, { status: 500, cost_usd: 0.5, cost_source: 'api' }), new Map());
    expect([upstream.of(failed), upstream.of(c!)]).toEqual([0.5, 0.002]);
  });

  it('remembers keys in two bounded generations', () => {
    const upstream = new UpstreamCosts();
    const first = archivedRequest(paid, new Map());
    upstream.of(first);
    for (let i = 0; i < UpstreamCosts.GENERATION; i++) upstream.of({ key: `k${i}`, costUsd: 1, answeredFromCache: false, cacheable: true });
    expect(upstream.of({ ...first, answeredFromCache: true })).toBe(0.002); // in the old generation
    for (let i = 0; i < UpstreamCosts.GENERATION; i++) upstream.of({ key: `j${i}`, costUsd: 1, answeredFromCache: false, cacheable: true });
    expect(upstream.of({ ...first, answeredFromCache: true })).toBeNull(); // dropped with it
  });

  it('cache-report and policy test count what the live cache saved, at the paid answer\'s cost', () => {
    const rows = [paid, hit(1), hit(2)];
    const report = cacheReport(rows);
    expect(report.totals).toMatchObject({ repeats: 2, served: 2, savedTokens: 30 });
    expect(report.totals.savedUsd).toBeCloseTo(0.004, 12);
    const policy = loadPolicyText('rules:\n  - {id: c, cache: {ttl: 1h}}\n', 'p.yaml');
    const replay = simulatePolicy(policy, rows);
    expect(replay.totals.cached).toBe(2);
    expect(replay.totals.savedUsd).toBeCloseTo(0.004, 12);
  });
});
