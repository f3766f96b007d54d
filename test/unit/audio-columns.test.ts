import { describe, expect, it } from 'vitest';
import { exchangeToJson } from '../../src/archive/export.js';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { makeExchange } from '../../src/exchange.js';
import { archivedRequest } from '../../src/policy/archived-request.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { simulatePolicy } from '../../src/policy/simulate.js';
import { priceOf } from '../../src/recorder/row-cost.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/**
 * The audio parts of an exchange's token counts are kept in the row (schema 11), so what
 * reads the archive back prices them as the row was priced: gpt-audio bills audio at
 * several times its text rate.
 */
describe('the audio token columns', () => {
  const audioTurn = () => {
    const ex = makeExchange({ provider: 'openai', api: 'chat.completions', request: { model: 'gpt-audio', path: '/v1/chat/completions' } });
    ex.usage = { inputTokens: 100, outputTokens: 50, inputAudioTokens: 80, cachedAudioTokens: 0, outputAudioTokens: 40 };
    ex.outcome = 'completed';
    const row = exchangeToRow(ex);
    row.cost_usd = priceOf(ex, undefined)!.usd;
    return row;
  };

  it('are written from the usage and exported beside the other counts', () => {
    const row = audioTurn();
    expect([row.input_audio_tokens, row.cached_audio_input_tokens, row.output_audio_tokens]).toEqual([80, 0, 40]);
    expect(exchangeToJson(row).usage).toMatchObject({ input_tokens: 100, output_tokens: 50, input_audio_tokens: 80, cached_audio_input_tokens: 0, output_audio_tokens: 40 });
    const text = exchangeToRow(makeExchange({ provider: 'openai', api: 'chat.completions' }));
    expect(exchangeToJson(text).usage).toMatchObject({ input_audio_tokens: null, output_audio_tokens: null });
  });

  it('policy test prices an archived audio exchange as it was recorded; a row from before the columns as text, as before', () => {
    const row = audioTurn();
    const r = archivedRequest(row, new Map());
    const reprice = (usage: typeof r.usage) => priceExchange({ provider: 'openai', host: 'api.openai.com', api: 'chat.completions', model: 'gpt-audio', usage, at: r.at, subscription: false }).usd!;
    expect(reprice(r.usage)).toBeCloseTo(row.cost_usd!, 12);
    const legacy = archivedRequest({ ...row, input_audio_tokens: null, cached_audio_input_tokens: null, output_audio_tokens: null }, new Map());
    expect(reprice(legacy.usage)).toBeLessThan(row.cost_usd! / 3);

    // A route to the same model changes nothing: its what-if cost is the recorded one.
    const policy = loadPolicyText('rules:\n  - {id: same, match: {model: gpt-audio}, route: {model: gpt-audio}}\n', 'p.yaml');
    const report = simulatePolicy(policy, [row], { price: (input) => priceExchange(input) });
    expect(report.totals.rerouted).toBe(1);
    expect(report.totals.routeCostDeltaUsd).toBeCloseTo(0, 12);
  });
});
