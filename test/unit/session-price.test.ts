import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calcPrice } from '@pydantic/genai-prices';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { loadPriceOverrides } from '../../src/cost/price-overrides.js';
import { makeExchange, type ApiKind, type Exchange, type ResponsePart } from '../../src/exchange.js';
import { createLogger } from '../../src/log.js';
import { BudgetCharger } from '../../src/policy/budget-charge.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { applyCost, priceOf } from '../../src/recorder/row-cost.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { reduceWebSocketMessages, settleWebSocket, createWsReducer, type WsTextMessage } from '../../src/websocket/reduce.js';

const AT = Date.parse('2026-12-01T12:00:00Z');
const client = (event: object): WsTextMessage => ({ direction: 'client', text: JSON.stringify(event) });
const server = (event: object): WsTextMessage => ({ direction: 'server', text: JSON.stringify(event) });

/** One Responses-over-WebSocket turn as the server streams it: created, a delta, completed with usage. */
function turn(id: string, model: string, usage?: { input_tokens: number; output_tokens: number }): WsTextMessage[] {
  return [
    client({ type: 'response.create', model }),
    server({ type: 'response.created', response: { id, status: 'in_progress', model } }),
    server({ type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: 'ok' }),
    server({ type: 'response.completed', response: { id, status: 'completed', model, ...(usage ? { usage } : {}) } }),
  ];
}

/** A session exchange settled from these messages, as the relay and the mock settle theirs. */
function session(messages: WsTextMessage[], api: ApiKind = 'responses', headers: string[] = []): Exchange {
  const ex = makeExchange({ provider: 'openai', api, target: { host: 'api.openai.com', port: 443, tls: true }, request: { method: 'GET', path: '/v1/responses', headers }, timings: { start: AT } });
  ex.response = { status: 101, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false } };
  const reducer = createWsReducer(api);
  for (const m of messages) reducer.push(m);
  settleWebSocket(ex, { count: messages.length, messages: [] } as unknown as NonNullable<Exchange['websocket']>, reducer);
  return ex;
}

const alone = (model: string, input: number, output: number): number =>
  priceExchange({ provider: 'openai', host: 'api.openai.com', api: 'responses', responseModel: model, usage: { inputTokens: input, outputTokens: output }, at: AT, subscription: false }).usd!;

describe('a WebSocket session is priced as the sum of its responses', () => {
  it('the reducer keeps each response\'s model and usage beside the summed usage', () => {
    const out = reduceWebSocketMessages('responses', [...turn('r1', 'gpt-5', { input_tokens: 1000, output_tokens: 100 }), ...turn('r2', 'gpt-4o-mini', { input_tokens: 2000, output_tokens: 300 })]);
    expect(out?.usage).toEqual({ inputTokens: 3000, outputTokens: 400 });
    expect(out?.responses).toEqual([
      { model: 'gpt-5', usage: { inputTokens: 1000, outputTokens: 100 } },
      { model: 'gpt-4o-mini', usage: { inputTokens: 2000, outputTokens: 300 } },
    ]);
  });

  it('each response at its own model\'s rates (a session that switches models), and the archive row says so', () => {
    const ex = session([...turn('r1', 'gpt-5', { input_tokens: 1000, output_tokens: 100 }), ...turn('r2', 'gpt-4o-mini', { input_tokens: 2000, output_tokens: 300 })]);
    const expected = alone('gpt-5', 1000, 100) + alone('gpt-4o-mini', 2000, 300);
    // Priced at the summed usage and the last model instead, the figure would be another one.
    expect(expected).not.toBeCloseTo(alone('gpt-4o-mini', 3000, 400), 9);
    const price = priceOf(ex, undefined)!;
    expect(price.usd).toBeCloseTo(expected, 12);
    expect(price.source).toBe('api');
    expect(price.matchedModel).toBeUndefined(); // two price entries: none named
    const row = exchangeToRow(ex);
    applyCost(row, ex, undefined);
    expect([row.cost_usd, row.cost_source]).toEqual([price.usd, 'api']);
  });

  it('a single-model session names its price entry; subscription traffic is an API-equivalent figure', () => {
    const ex = session([...turn('r1', 'gpt-5', { input_tokens: 10, output_tokens: 5 }), ...turn('r2', 'gpt-5', { input_tokens: 20, output_tokens: 5 })], 'responses', ['chatgpt-account-id', 'acct-1']);
    ex.subscription = true;
    expect(priceOf(ex, undefined)).toMatchObject({ usd: alone('gpt-5', 10, 5) + alone('gpt-5', 20, 5), source: 'api_equivalent', matchedModel: 'gpt-5' });
  });

  it('an override on a response is the session\'s source; one unknown model leaves the whole session unpriced, with its reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-session-price-'));
    writeFileSync(join(dir, 'p.yaml'), 'prices:\n  - {provider: openai, model: "gpt-5*", input_mtok: 1, output_mtok: 10}\n');
    const overrides = loadPriceOverrides(join(dir, 'p.yaml'));
    const overridden = session([...turn('r1', 'gpt-5', { input_tokens: 1_000_000, output_tokens: 0 }), ...turn('r2', 'gpt-4o-mini', { input_tokens: 1000, output_tokens: 0 })]);
    const p = priceOf(overridden, overrides)!;
    expect(p.source).toBe('override');
    expect(p.usd).toBeCloseTo(1 + alone('gpt-4o-mini', 1000, 0), 12);
    const unknown = session([...turn('r1', 'gpt-5', { input_tokens: 10, output_tokens: 5 }), ...turn('r2', 'no-such-model-zz', { input_tokens: 10, output_tokens: 5 })]);
    expect(priceOf(unknown, undefined)).toMatchObject({ usd: null, reason: expect.stringMatching(/^response 2 of the session: unknown model "no-such-model-zz"/) });
  });

  it('no usage, nothing to price; Realtime usage without its audio breakdown is not priced (no guess)', () => {
    expect(priceOf(session(turn('r1', 'gpt-5')), undefined)).toBeUndefined();
    const realtime = session(turn('r1', 'gpt-realtime', { input_tokens: 50, output_tokens: 20 }), 'realtime');
    expect(priceOf(realtime, undefined)).toMatchObject({ usd: null, reason: expect.stringContaining('audio breakdown') });
  });

  it('a Realtime session is priced with its audio at audio rates (the details as Realtime spells them, response.done)', () => {
    const usage = {
      input_tokens: 1000, output_tokens: 100,
      input_token_details: { text_tokens: 200, audio_tokens: 800, cached_tokens: 300, cached_tokens_details: { text_tokens: 100, audio_tokens: 200 } },
      output_token_details: { text_tokens: 20, audio_tokens: 80 },
    };
    const messages: WsTextMessage[] = [
      server({ type: 'session.created', session: { model: 'gpt-realtime' } }),
      server({ type: 'response.created', response: { status: 'in_progress' } }),
      server({ type: 'response.done', response: { status: 'completed', output: [], usage } }),
    ];
    const ex = session(messages, 'realtime');
    ex.request.model = 'gpt-realtime';
    expect(ex.usage).toEqual({ inputTokens: 1000, outputTokens: 100, cachedInputTokens: 300, inputAudioTokens: 800, cachedAudioTokens: 200, outputAudioTokens: 80 });
    // The package's own figure for the same counts in its terms (audio as parts of the totals).
    const expected = calcPrice({ input_tokens: 1000, cache_read_tokens: 300, input_audio_tokens: 800, cache_audio_read_tokens: 200, output_tokens: 100, output_audio_tokens: 80 }, 'gpt-realtime', { providerId: 'openai', timestamp: new Date(AT) })!.total_price;
    const textOnly = calcPrice({ input_tokens: 1000, cache_read_tokens: 300, output_tokens: 100 }, 'gpt-realtime', { providerId: 'openai', timestamp: new Date(AT) })!.total_price;
    expect(expected).toBeGreaterThan(2 * textOnly); // audio rates are several times text's
    expect(priceOf(ex, undefined)).toMatchObject({ source: 'api', matchedModel: 'gpt-realtime' });
    expect(priceOf(ex, undefined)!.usd).toBeCloseTo(expected, 12);
  });

  it('each response is handed over as it ends (budgets charge it while the session goes on); the charges add up to the session\'s price', async () => {
    const seen: ResponsePart[] = [];
    const messages = [...turn('r1', 'gpt-5', { input_tokens: 1000, output_tokens: 100 }), ...turn('r2', 'gpt-4o-mini', { input_tokens: 2000, output_tokens: 300 })];
    const reducer = createWsReducer('responses', (part) => seen.push(part));
    for (const m of messages.slice(0, 4)) reducer.push(m);
    expect(seen).toEqual([{ model: 'gpt-5', usage: { inputTokens: 1000, outputTokens: 100 } }]); // the second has not ended yet
    for (const m of messages.slice(4)) reducer.push(m);
    expect(seen.map((p) => p.model)).toEqual(['gpt-5', 'gpt-4o-mini']);

    const policy = loadPolicyText('rules:\n  - {id: spend, budget: {usd: 100, period: day, per: model}}\n');
    const charger = new BudgetCharger(createLogger({ level: 'silent' }));
    charger.sync(policy, AT);
    const ex = session(messages);
    for (const part of seen) await charger.chargeResponse(ex, part, [{ rule: policy.budget[0]!, key: 'model:any' }]);
    expect(charger.ledger.spent(policy.budget[0]!, 'model:any', AT)).toBeCloseTo(priceOf(ex, undefined)!.usd!, 12);
  });
});
