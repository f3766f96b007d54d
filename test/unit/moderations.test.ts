import { describe, expect, it } from 'vitest';
import { priceInputOf } from '../../src/cost/exchange-price-input.js';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { makeExchange } from '../../src/exchange.js';
import { BUILT_IN_DETECTORS } from '../../src/policy/detectors.js';
import { Placeholders, redactRequest } from '../../src/policy/redact-body.js';
import { identifyRequest, parserFor } from '../../src/providers/registry.js';
import { readConversation } from '../../src/sessions/conversation.js';

/**
 * OpenAI's Moderations API: {model?, input} in (a string, strings, or text and image_url
 * parts); {id, model, results: [{flagged, categories, category_scores, …}]} out; free.
 */
function reduce(answer: unknown) {
  const reducer = parserFor('moderations')!.createReducer('application/json');
  const bytes = Buffer.from(typeof answer === 'string' ? answer : JSON.stringify(answer));
  reducer.push(bytes.subarray(0, 7));
  reducer.push(bytes.subarray(7));
  return reducer.finish();
}

const categories = (flagged: string[]) => Object.fromEntries(['harassment', 'hate', 'self-harm', 'sexual', 'violence', 'violence/graphic'].map((c) => [c, flagged.includes(c)]));

describe('moderations', () => {
  it('is identified on OpenAI and on a listed server copying it', () => {
    expect(identifyRequest('api.openai.com', 443, '/v1/moderations')).toEqual({ provider: 'openai', api: 'moderations' });
    expect(identifyRequest('gpu-box.internal', 8000, '/v1/moderations')).toEqual({ provider: 'openai-compatible', api: 'moderations' });
  });

  it('reads the model; the verdict (flagged categories) is the answer\'s text, one line per input; no usage', () => {
    expect(parserFor('moderations')!.parseRequest(Buffer.from(JSON.stringify({ model: 'omni-moderation-latest', input: 'hi' })))).toEqual({ model: 'omni-moderation-latest' });
    expect(parserFor('moderations')!.parseRequest(Buffer.from(JSON.stringify({ input: 'hi' })))).toEqual({});
    const one = reduce({ id: 'modr-1', model: 'omni-moderation-2024-09-26', results: [{ flagged: true, categories: categories(['harassment', 'violence']), category_scores: { harassment: 0.9, violence: 0.8 } }] });
    expect(one).toMatchObject({ model: 'omni-moderation-2024-09-26', text: 'flagged: harassment, violence', toolCalls: [] });
    expect(one.usage).toBeUndefined();
    const two = reduce({ id: 'modr-2', model: 'omni-moderation-2024-09-26', results: [{ flagged: false, categories: categories([]) }, { flagged: true, categories: categories(['hate']) }] });
    expect(two.text).toBe('#0 not flagged\n#1 flagged: hate');
    expect(reduce('<html>bad gateway</html>')).toMatchObject({ text: '', toolCalls: [] });
  });

  it('is free on OpenAI ($0 without usage); elsewhere it is not assumed free', () => {
    const at = Date.parse('2026-01-01');
    const ex = makeExchange({ provider: 'openai', api: 'moderations', request: { method: 'POST', path: '/v1/moderations', model: 'omni-moderation-latest' }, timings: { start: at } });
    const input = priceInputOf(ex);
    expect(input).toBeDefined();
    expect(priceExchange(input!)).toMatchObject({ usd: 0, reason: 'OpenAI moderation is free' });
    expect(priceInputOf({ ...ex, provider: 'openai-compatible' })).toBeUndefined();
    expect(priceExchange({ provider: 'mistral', host: 'api.mistral.ai', api: 'moderations', model: 'mistral-moderation-latest', usage: { inputTokens: 10 }, at, subscription: false }).usd).not.toBe(0);
  });

  it('redaction reads the input text (string or text parts), never an image part\'s URL', () => {
    const body = { model: 'omni-moderation-latest', input: [{ type: 'text', text: 'mail a@x.io' }, { type: 'image_url', image_url: { url: 'https://b@x.io/cat.png' } }] };
    const hits = redactRequest('moderations', body, Object.values(BUILT_IN_DETECTORS), new Placeholders(), true);
    expect(hits.map((h) => h.at)).toEqual(['input[0].text']);
    expect(body.input[1]).toEqual({ type: 'image_url', image_url: { url: 'https://b@x.io/cat.png' } });
    const plain = { input: 'call me at a@x.io' };
    redactRequest('moderations', plain, Object.values(BUILT_IN_DETECTORS), new Placeholders(), true);
    expect(plain.input).not.toContain('a@x.io');
  });

  it('show reads the input as the user\'s text, an image as such', () => {
    expect(readConversation('moderations', { input: ['one', 'two'] })).toEqual({ tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] }] });
    expect(readConversation('moderations', { input: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }))
      .toEqual({ tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: 'look' }, { type: 'other', kind: 'image' }] }] });
  });
});
