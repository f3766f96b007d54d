import { describe, expect, it } from 'vitest';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { unpricedReason, type UnpricedRow } from '../../src/cost/unpriced-reason.js';
import { identifyRequest, parserFor } from '../../src/providers/registry.js';

/**
 * Mistral's moderation (/v1/moderations, /v1/chat/moderations): the Moderations shape
 * ({id, model, results}), billed per token of input ($0.1 per million), which its answers
 * count in an OpenAI-style `usage` ({prompt_tokens, total_tokens, completion_tokens: 0}).
 */
function reduce(answer: unknown) {
  const reducer = parserFor('moderations')!.createReducer('application/json');
  const bytes = Buffer.from(JSON.stringify(answer));
  reducer.push(bytes.subarray(0, 9));
  reducer.push(bytes.subarray(9));
  return reducer.finish();
}

const at = Date.parse('2026-01-01');
const result = { categories: { sexual: false, hate_and_discrimination: true, violence_and_threats: false }, category_scores: { sexual: 0.01, hate_and_discrimination: 0.93, violence_and_threats: 0.02 } };

describe('Mistral moderation usage', () => {
  it('is the moderations API on api.mistral.ai, raw text and chat alike', () => {
    expect(identifyRequest('api.mistral.ai', 443, '/v1/moderations')).toEqual({ provider: 'mistral', api: 'moderations' });
    expect(identifyRequest('api.mistral.ai', 443, '/v1/chat/moderations')).toEqual({ provider: 'mistral', api: 'moderations' });
  });

  it('reads usage.prompt_tokens as input tokens (total_tokens when that is all there is), beside the verdict', () => {
    const answer = reduce({ id: 'mod-1', model: 'mistral-moderation-2411', results: [result], usage: { prompt_tokens: 18, total_tokens: 18, completion_tokens: 0, request_count: 1 } });
    expect(answer).toMatchObject({ model: 'mistral-moderation-2411', text: 'flagged: hate_and_discrimination', usage: { inputTokens: 18 } });
    expect(answer.usage?.outputTokens).toBeUndefined();
    expect(reduce({ id: 'mod-2', model: 'mistral-moderation-2411', results: [result], usage: { total_tokens: 7 } }).usage).toEqual({ inputTokens: 7 });
    // OpenAI's answers count nothing: still no usage.
    expect(reduce({ id: 'modr-1', model: 'omni-moderation-2024-09-26', results: [{ flagged: false, categories: {} }] }).usage).toBeUndefined();
  });

  it('stays unpriced with its tokens (the price list has no rate for the model), and says why when the answer counted none', () => {
    const priced = priceExchange({ provider: 'mistral', host: 'api.mistral.ai', api: 'moderations', model: 'mistral-moderation-2411', usage: { inputTokens: 18 }, at, subscription: false });
    expect(priced.usd).toBeNull();
    expect(priced.reason).toBe('unknown model "mistral-moderation-2411" for mistral');
    const row: UnpricedRow = {
      cost_usd: null, cost_source: null, status: 200, provider: 'mistral', host: 'api.mistral.ai', port: 443, tls: 1, path: '/v1/moderations', api: 'moderations',
      model: 'mistral-moderation-2411', policy: null, started_at: at, input_tokens: null, output_tokens: null, cached_input_tokens: null, reasoning_tokens: null,
      cache_creation_input_tokens: null, input_audio_tokens: null, cached_audio_input_tokens: null, output_audio_tokens: null,
    };
    expect(unpricedReason(row, (input) => priceExchange(input))).toBe('Mistral bills moderation per token of input, and this answer counted none (no usage), so mistral-moderation-2411 is not priced');
    // OpenAI's moderation is free: no reason to give.
    expect(unpricedReason({ ...row, provider: 'openai', host: 'api.openai.com', model: 'omni-moderation-latest' }, (input) => priceExchange(input))).toBeUndefined();
  });
});
