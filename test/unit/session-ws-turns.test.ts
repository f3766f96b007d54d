import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import type { ExchangeRow, WsMessageRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { threadTurns } from '../../src/sessions/turns.js';
import { priceExchange, type PriceInput, type PriceResult } from '../../src/cost/price-exchange.js';
import { recordPerTurn, sessionRequestTurns } from '../../src/sessions/ws-turns.js';

/**
 * A Codex session (Responses over WebSocket) is one exchange in the archive; read back,
 * each `response.create` in its message log is a turn of its own.
 */
const T0 = Date.UTC(2026, 11, 6, 12);

function session(over: Partial<ExchangeRow> = {}): ExchangeRow {
  const ex = makeExchange({ id: 'ws-1', provider: 'openai', api: 'responses', request: { method: 'GET', path: '/v1/responses' }, timings: { start: T0, end: T0 + 60_000 } });
  return { ...exchangeToRow(ex), status: 101, outcome: 'completed', model: 'gpt-5-codex', thread_id: 't', turn: 1, cost_usd: 0.02, policy: JSON.stringify({ decisions: [{ rule: 'no-o3', kind: 'access', action: 'deny', enforced: true, model: 'o3' }] }), ...over };
}

let seq = 0;
const message = (direction: 'client' | 'server', ms: number, body: unknown, truncated: 0 | 1 = 0): WsMessageRow => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { exchange_id: 'ws-1', seq: seq++, direction, at: T0 + ms, opcode: 1, size: text.length, compressed: 0, truncated, text, data: null, error: null };
};
const ask = (ms: number, model: string, input: unknown) => message('client', ms, { type: 'response.create', model, instructions: 'Be brief.', input });
function answer(ms: number, model: string, text: string, usage: { input_tokens: number; output_tokens: number; cached?: number }): WsMessageRow[] {
  const response = { id: `resp_${ms}`, model, status: 'completed', usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens, input_tokens_details: { cached_tokens: usage.cached ?? 0 } } };
  return [
    message('server', ms, { type: 'response.created', response: { ...response, status: 'in_progress', usage: null } }),
    message('server', ms + 1, { type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: text }),
    message('server', ms + 900, { type: 'response.completed', response }),
  ];
}

const LOG = [
  ask(0, 'gpt-5-codex', [{ role: 'user', content: 'fix the failing test' }]), ...answer(10, 'gpt-5-codex', 'Looking at it.', { input_tokens: 100, output_tokens: 20, cached: 0 }),
  ask(2_000, 'o3', [{ role: 'user', content: 'think harder' }]),
  message('server', 2_001, { type: 'error', status: 403, error: { code: 'model_not_allowed', type: 'llmtap_error', message: 'refused' } }),
  ask(3_000, 'gpt-5-codex', [{ role: 'user', content: 'go on' }]), ...answer(3_010, 'gpt-5-codex', 'Done.', { input_tokens: 140, output_tokens: 5, cached: 96 }),
];

describe('a Codex WebSocket session read request by request', () => {
  it('one turn per response.create: its input, its answer, its tokens and time; a refused one says why', () => {
    const turns = sessionRequestTurns(session(), LOG)!;
    expect(turns.map((t) => [t.startedAt - T0, t.model, t.answer.text, t.answer.stopReason, t.promptTokens, t.cachedTokens, t.outputTokens, t.latencyMs])).toEqual([
      [0, 'gpt-5-codex', 'Looking at it.', 'completed', 100, 0, 20, 910],
      [2_000, 'o3', '', 'error: model_not_allowed', 0, 0, null, null],
      [3_000, 'gpt-5-codex', 'Done.', 'completed', 140, 96, 5, 910],
    ]);
    expect(turns[0]!.conversation?.system).toBe('Be brief.');
  });

  it('numbers the requests as turns and the thread\'s later exchanges after them; a decision on a model goes on the turn that asked for it', () => {
    const later = { ...exchangeToRow(makeExchange({ id: 'http-2', provider: 'openai', api: 'responses', timings: { start: T0 + 70_000, end: T0 + 71_000 } })), status: 200, outcome: 'completed', thread_id: 't', turn: 2 } as ExchangeRow;
    const turns = threadTurns([session(), later], { messagesOf: (id) => (id === 'ws-1' ? LOG : []) });
    expect(turns.map((t) => [t.exchangeId, t.turn])).toEqual([['ws-1', 1], ['ws-1', 2], ['ws-1', 3], ['http-2', 4]]);
    expect(turns.map((t) => t.added.map((m) => m.blocks.map((b) => ('text' in b ? b.text : '')).join()))).toEqual([['fix the failing test'], ['think harder'], ['go on'], []]);
    expect(turns.map((t) => t.policy?.decisions.map((d) => d.rule))).toEqual([undefined, ['no-o3'], undefined, undefined]);
    // Each request's own price is not stored, only the session's: without prices to share it by, none is shown.
    expect(turns.slice(0, 3).map((t) => t.costUsd)).toEqual([null, null, null]);
    // The cache note compares request with request: 96 of 140 cached after 0 of 100 is no drop, and the
    // refused request between them read no prompt at all; the later exchange, with no usage, neither.
    expect(turns.some((t) => t.cacheNote)).toBe(false);
  });

  it('shares the session\'s recorded cost among its requests by each response\'s own price; the refused one cost nothing', () => {
    // Two models 10x apart per token: by tokens the shares would be 120 : 145.
    const log = [...LOG.slice(0, 6), ask(3_000, 'gpt-5-pro', [{ role: 'user', content: 'go on' }]), ...answer(3_010, 'gpt-5-pro', 'Done.', { input_tokens: 140, output_tokens: 5 })];
    const asked: PriceInput[] = [];
    const price = (input: PriceInput): PriceResult => {
      asked.push(input);
      const tokens = (input.usage?.inputTokens ?? 0) + (input.usage?.outputTokens ?? 0);
      return { usd: tokens * (input.responseModel === 'gpt-5-pro' ? 10 : 1) * 1e-6, source: 'api', pricesVersion: 'test' };
    };
    const turns = threadTurns([session()], { messagesOf: () => log, price });
    const costs = turns.map((t) => t.costUsd!);
    expect(costs[0]).toBeCloseTo(0.02 * 120 / 1570, 12);
    expect(costs[1]).toBe(0);
    expect(costs[2]).toBeCloseTo(0.02 * 1450 / 1570, 12);
    expect(costs.reduce((a, b) => a + b, 0)).toBeCloseTo(0.02, 12);
    // Priced as the same turn over HTTP: the session's host and provider, the response's model and usage, at the request's time.
    expect(asked.map((i) => [i.provider, i.host, i.api, i.model, i.responseModel, i.at - T0, i.subscription])).toEqual([
      ['openai', 'api.openai.com', 'responses', 'gpt-5-codex', 'gpt-5-codex', 0, false], ['openai', 'api.openai.com', 'responses', 'gpt-5-pro', 'gpt-5-pro', 3_000, false],
    ]);
  });

  it('by tokens when a response cannot be priced; with the real price data, the shares add up to the session\'s cost', () => {
    const unpriced = (): PriceResult => ({ usd: null, source: 'api', pricesVersion: 'test', reason: 'unknown model' });
    const byTokens = sessionRequestTurns(session(), LOG, unpriced)!.map((t) => t.costUsd!);
    expect(byTokens[0]).toBeCloseTo(0.02 * 120 / 265, 12);
    expect(byTokens[2]).toBeCloseTo(0.02 * 145 / 265, 12);
    const real = sessionRequestTurns(session(), LOG, (input) => priceExchange(input))!.map((t) => t.costUsd!);
    expect(real.reduce((a, b) => a + b, 0)).toBeCloseTo(0.02, 12);
    // The second answer read 96 of its 140 prompt tokens from the cache, at a tenth of the price: it costs less than its tokens say.
    expect(real[2]! / real[0]!).toBeLessThan(byTokens[2]! / byTokens[0]!);
    // An unpriced session stays unpriced per request; a session of one request keeps its own cost.
    expect(sessionRequestTurns(session({ cost_usd: null }), LOG, (input) => priceExchange(input))!.map((t) => t.costUsd)).toEqual([null, null, null]);
    expect(sessionRequestTurns(session(), LOG.slice(0, 4))!.map((t) => t.costUsd)).toEqual([0.02]);
  });

  it('the session\'s other decisions and its blocked code stay on its first turn', () => {
    const record = { decisions: [
      { rule: 'spend', kind: 'budget' as const, action: 'block' as const, enforced: true, key: 'model:o3', spentUsd: 1, budgetUsd: 1, period: 'day' as const, periodStart: 0 },
      { rule: 'no-o3', kind: 'access' as const, action: 'deny' as const, enforced: true, model: 'o3' },
      { rule: 'never-asked', kind: 'access' as const, action: 'deny' as const, enforced: true, model: 'gpt-4o' },
    ], blocked: 'budget_exceeded' };
    const split = recordPerTurn(record as never, [{ requestedModel: 'gpt-5-codex' }, { requestedModel: 'o3' }, {}]);
    expect(split.map((r) => r && [r.decisions.map((d) => d.rule), r.blocked])).toEqual([[['spend', 'never-asked'], 'budget_exceeded'], [['no-o3'], undefined], undefined]);
  });

  it('a rate limit or budget that refused a request shows on the turn it refused, not on the first', () => {
    const log = [
      ...LOG,
      ask(4_000, 'gpt-5-codex', [{ role: 'user', content: 'and again' }]),
      message('server', 4_001, { type: 'error', status: 429, error: { code: 'rate_limited', type: 'llmtap_error', message: 'refused' } }),
      ask(5_000, 'gpt-5-codex', [{ role: 'user', content: 'once more' }]),
      message('server', 5_001, { type: 'error', status: 429, error: { code: 'budget_exceeded', type: 'llmtap_error', message: 'refused' } }),
    ];
    const turns = sessionRequestTurns(session(), log)!;
    const record = { decisions: [
      { rule: 'rpm', kind: 'rateLimit' as const, action: 'limit' as const, enforced: true, key: 'user:me', retryAfterSeconds: 20, limit: 'requests' as const },
      { rule: 'spend', kind: 'budget' as const, action: 'block' as const, enforced: true, key: 'user:me', spentUsd: 1, limitUsd: 1, period: 'day' as const, periodStart: '' },
      { rule: 'soon', kind: 'budget' as const, action: 'warn' as const, enforced: true, key: 'user:me', spentUsd: 1, limitUsd: 1, period: 'day' as const, periodStart: '' },
    ] };
    const split = recordPerTurn(record as never, turns);
    // A warning refused nothing: it stays with the session's first turn.
    expect(split.map((r) => r?.decisions.map((d) => d.rule))).toEqual([['soon'], undefined, undefined, ['rpm'], ['spend']]);
  });

  it('anything else, or a session without its log, stays one turn', () => {
    expect(sessionRequestTurns(session(), [])).toBeUndefined();
    expect(sessionRequestTurns(session({ api: 'realtime' }), LOG)).toBeUndefined();
    expect(sessionRequestTurns(session({ status: 200 }), LOG)).toBeUndefined();
    const one = threadTurns([session()], { messagesOf: () => [] });
    expect(one.map((t) => [t.turn, t.costUsd])).toEqual([[1, 0.02]]);
    expect(threadTurns([session()])).toHaveLength(1);
  });

  it('a request cut at the capture limit is still a turn (its model read from the prefix), in step with the errors after it', () => {
    const cut = message('client', 5_000, '{"type":"response.create","model":"o3","input":[{"role":"user","content":"very lo', 1);
    const refusal = message('server', 5_001, { type: 'error', error: { code: 'model_not_allowed' } });
    const turns = sessionRequestTurns(session(), [...LOG, cut, refusal])!;
    expect(turns.map((t) => [t.model, t.answer.stopReason])).toEqual([
      ['gpt-5-codex', 'completed'], ['o3', 'error: model_not_allowed'], ['gpt-5-codex', 'completed'], ['o3', 'error: model_not_allowed'],
    ]);
  });
});
