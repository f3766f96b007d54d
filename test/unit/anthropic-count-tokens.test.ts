import { describe, expect, it } from 'vitest';
import { priceInputOf } from '../../src/cost/exchange-price-input.js';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { makeExchange } from '../../src/exchange.js';
import { exchangeSpan } from '../../src/otel/span-attributes.js';
import { BUILT_IN_DETECTORS } from '../../src/policy/detectors.js';
import { Placeholders, redactRequest } from '../../src/policy/redact-body.js';
import { factsFromPath, identifyRequest, parserFor } from '../../src/providers/registry.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { readConversation } from '../../src/sessions/conversation.js';

/**
 * Anthropic's token counting (POST /v1/messages/count_tokens; Claude Code calls it with
 * `?beta=true`) and Claude on Vertex AI's (…/publishers/anthropic/models/count-tokens:rawPredict):
 * a Messages body in, `{"input_tokens": N}` out, free of charge.
 */
const body = {
  model: 'claude-sonnet-4-5',
  system: 'You are terse. Mail ops@x.io.',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'How many tokens is a@x.io?' }] }],
  tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: {} } }],
};
const bytes = Buffer.from(JSON.stringify(body));

function reduce(api: 'messages.countTokens', answer: string) {
  const reducer = parserFor(api)!.createReducer('application/json');
  const buf = Buffer.from(answer);
  reducer.push(buf.subarray(0, 5));
  reducer.push(buf.subarray(5));
  return reducer.finish();
}

describe('messages.countTokens', () => {
  it('is identified on Anthropic (with and without ?beta=true) and on Vertex AI, not as a generation', () => {
    expect(identifyRequest('api.anthropic.com', 443, '/v1/messages/count_tokens')).toEqual({ provider: 'anthropic', api: 'messages.countTokens' });
    expect(identifyRequest('api.anthropic.com', 443, '/v1/messages/count_tokens?beta=true')).toEqual({ provider: 'anthropic', api: 'messages.countTokens' });
    const vertex = '/v1/projects/p/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict';
    expect(identifyRequest('us-east5-aiplatform.googleapis.com', 443, vertex)).toEqual({ provider: 'vertex-ai', api: 'messages.countTokens' });
    // The path's "model" is the endpoint's name: the model is the body's.
    expect(factsFromPath(vertex).model).toBeUndefined();
    // A gateway on the --intercept list that speaks Anthropic's API.
    expect(identifyRequest('gateway.internal', 443, '/v1/messages/count_tokens')).toEqual({ provider: 'openai-compatible', api: 'messages.countTokens' });
  });

  it('reads the model from the Messages body; the answer counts tokens but spends none (no usage, as gemini.countTokens)', () => {
    expect(parserFor('messages.countTokens')!.parseRequest(bytes)).toMatchObject({ model: 'claude-sonnet-4-5' });
    const answer = reduce('messages.countTokens', '{"input_tokens": 2095}');
    expect(answer.usage).toBeUndefined();
    expect(answer.text).toBe('');
    expect(answer.toolCalls).toEqual([]);
  });

  it('is priced at $0 (not billed), never left unpriced', () => {
    const price = priceExchange({ provider: 'anthropic', host: 'api.anthropic.com', api: 'messages.countTokens', model: 'claude-sonnet-4-5', at: Date.parse('2026-01-01'), subscription: false });
    expect(price).toMatchObject({ usd: 0, reason: 'countTokens is not billed' });
  });

  it('an answer without usage is still priced ($0), Gemini\'s countTokens too: never left unpriced', () => {
    for (const [provider, api] of [['anthropic', 'messages.countTokens'], ['gemini', 'gemini.countTokens']] as const) {
      const ex = makeExchange({ provider, api, request: { model: 'm' }, response: { status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { text: '', toolCalls: [], events: 0 } } });
      expect(priceExchange(priceInputOf(ex)!)).toMatchObject({ usd: 0 });
    }
    // A generation without usage stays unpriced (nothing to price).
    expect(priceInputOf(makeExchange({ provider: 'anthropic', api: 'messages', request: { model: 'm' } }))).toBeUndefined();
  });

  it('redaction reads its system prompt and messages like a Messages request', () => {
    const copy = structuredClone(body);
    const hits = redactRequest('messages.countTokens', copy, Object.values(BUILT_IN_DETECTORS), new Placeholders(), true);
    expect(JSON.stringify(copy)).not.toMatch(/(ops|a)@x\.io/);
    expect(hits.map((h) => h.at).sort()).toEqual(['messages[0].content[0].text', 'system']);
    expect(copy.model).toBe('claude-sonnet-4-5');
  });

  it('is no conversation (sessions do not chain it), and a count_tokens operation in OpenTelemetry', () => {
    expect(readConversation('messages.countTokens', body)).toBeUndefined();
    const ex = makeExchange({
      provider: 'anthropic', api: 'messages.countTokens', target: { host: 'api.anthropic.com', port: 443, tls: true },
      request: { method: 'POST', path: '/v1/messages/count_tokens', model: 'claude-sonnet-4-5' },
      response: { status: 200, headers: [], body: { bytes: Buffer.from('{}'), size: 2, truncated: false }, reassembled: { text: '', toolCalls: [], events: 0 } },
      outcome: 'completed', timings: { start: 1000, end: 1100 },
    });
    expect(exchangeSpan(ex, { content: false, redactor: createRedactor([]) }).attributes).toMatchObject({ 'gen_ai.operation.name': 'count_tokens' });
  });
});

/**
 * Bedrock's CountTokens (POST /model/{modelId}/count-tokens): `{input: {converse: {messages, system}}}`
 * or `{input: {invokeModel: {body: "<the model's own JSON>"}}}` in, `{"inputTokens": N}` out; free.
 */
describe('bedrock.countTokens', () => {
  const path = '/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/count-tokens';
  const converse = { input: { converse: { system: [{ text: 'Mail ops@x.io' }], messages: [{ role: 'user', content: [{ text: 'count a@x.io' }] }] } } };
  const invoke = { input: { invokeModel: { body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', messages: [{ role: 'user', content: 'from b@x.io' }] }) } } };

  it('is identified on Bedrock with the model from the path, not as a generation', () => {
    expect(identifyRequest('bedrock-runtime.us-east-1.amazonaws.com', 443, path)).toEqual({ provider: 'bedrock', api: 'bedrock.countTokens' });
    expect(factsFromPath(path).model).toBe('anthropic.claude-haiku-4-5-20251001-v1:0');
    const answer = parserFor('bedrock.countTokens')!.createReducer('application/json');
    answer.push(Buffer.from('{"inputTokens": 12}'));
    expect(answer.finish().usage).toBeUndefined();
  });

  it('is free, a count_tokens operation, no conversation; redaction reads its converse input and invokeModel body', () => {
    expect(priceExchange({ provider: 'bedrock', host: 'bedrock-runtime.us-east-1.amazonaws.com', api: 'bedrock.countTokens', model: 'm', at: 0, subscription: false })).toMatchObject({ usd: 0 });
    expect(readConversation('bedrock.countTokens', converse)).toBeUndefined();
    const detectors = Object.values(BUILT_IN_DETECTORS);
    const c = structuredClone(converse);
    const i = structuredClone(invoke);
    expect(redactRequest('bedrock.countTokens', c, detectors, new Placeholders(), true).map((h) => h.at).sort())
      .toEqual(['input.converse.messages[0].content[0].text', 'input.converse.system[0].text']);
    expect(redactRequest('bedrock.countTokens', i, detectors, new Placeholders(), true).map((h) => h.at)).toEqual(['input.invokeModel.body']);
    expect(JSON.stringify([c, i])).not.toMatch(/(ops|a|b)@x\.io/);
    // The model's own body stays JSON.
    expect(JSON.parse(i.input.invokeModel.body).anthropic_version).toBe('bedrock-2023-05-31');
  });
});
