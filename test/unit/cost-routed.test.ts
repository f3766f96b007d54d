import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/exchange.js';
import { effectiveUpstream } from '../../src/cost/effective-upstream.js';
import { priceInputOf } from '../../src/cost/exchange-price-input.js';
import { priceOf } from '../../src/recorder/row-cost.js';
import type { PolicyRecord } from '../../src/policy/types.js';

const AT = Date.parse('2026-12-01T12:00:00Z');
const MILLION = { inputTokens: 1_000_000, outputTokens: 1_000_000 };

/** A chat completion the client sent to api.openai.com, with what policy recorded about where it went. */
function exchange(model: string, policy?: PolicyRecord, responseModel?: string): Exchange {
  return {
    id: 'x', connectionId: 'c', client: { address: '127.0.0.1' },
    target: { host: 'api.openai.com', port: 443, tls: true }, provider: 'openai', api: 'chat.completions',
    request: { method: 'POST', path: '/v1/chat/completions', headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, model },
    ...(responseModel ? { response: { status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { model: responseModel, text: '', toolCalls: [], events: 0 } } } : {}),
    usage: MILLION, timings: { start: AT }, ...(policy ? { policy } : {}),
  };
}

const route = (to: string, from: string, model?: string): PolicyRecord => ({
  decisions: [], route: { from: { upstream: 'https://api.openai.com', model: from }, to: { upstream: to, ...(model ? { model } : {}) } },
});

describe('a routed exchange is priced at the upstream and model that answered', () => {
  it('routed to another provider with another model: that provider prices it (deepseek-chat, $0.27/M in + $1.10/M out)', () => {
    const ex = exchange('cheap-alias', route('https://api.deepseek.com', 'cheap-alias', 'deepseek-chat'));
    expect(priceInputOf(ex)).toMatchObject({ provider: 'deepseek', host: 'api.deepseek.com', model: 'deepseek-chat' });
    expect(priceOf(ex, undefined)).toMatchObject({ usd: 1.37, matchedProvider: 'deepseek', matchedModel: 'deepseek-chat' });
    // The client's target is kept as asked: the record's route names where it went.
    expect([ex.target.host, ex.provider, ex.request.model]).toEqual(['api.openai.com', 'openai', 'cheap-alias']);
  });

  it('routed to a local server: not billed per token, never at the OpenAI price the client asked for', () => {
    const ex = exchange('gpt-4o', route('http://127.0.0.1:11434', 'gpt-4o', 'llama3.1'), 'llama3.1');
    const price = priceOf(ex, undefined)!;
    expect(price.usd).toBeNull();
    expect(price.reason).toMatch(/^local model/);
  });

  it('a fallback prices the last attempt (the one that answered), with its model', () => {
    const ex = exchange('gpt-4o', {
      decisions: [],
      attempts: [{ upstream: 'https://api.openai.com', status: 503, result: 'retried' }, { upstream: 'https://api.groq.com', model: 'llama-3.3-70b-versatile', status: 200, result: 'answered' }],
    });
    expect(effectiveUpstream(ex)).toEqual({ host: 'api.groq.com', port: 443, provider: 'groq', model: 'llama-3.3-70b-versatile' });
    expect(priceOf(ex, undefined)).toMatchObject({ usd: 1.38, matchedProvider: 'groq' });
  });

  it('a model route on the same host prices the model sent, when the answer names none', () => {
    const ex = exchange('gpt-4o-big', route('https://api.openai.com', 'gpt-4o-big', 'gpt-4o-mini'));
    expect(priceOf(ex, undefined)).toMatchObject({ usd: 0.75, matchedModel: 'gpt-4o-mini' });
  });

  it('a fallback whose first try answered, or no route at all, prices as the client asked', () => {
    const answered = exchange('gpt-4o', { decisions: [], attempts: [{ upstream: 'https://api.openai.com', status: 200, result: 'answered' }] });
    expect(effectiveUpstream(answered)).toBeUndefined();
    expect(priceOf(answered, undefined)?.usd).toBe(12.5);
    expect(effectiveUpstream(exchange('gpt-4o'))).toBeUndefined();
    expect(priceInputOf(exchange('gpt-4o'))).toMatchObject({ provider: 'openai', host: 'api.openai.com', model: 'gpt-4o' });
  });
});
