import Anthropic from '@anthropic-ai/sdk';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * What Anthropic bills beside plain tokens, as usage reports it: a prompt-cache write by its
 * TTL ($3.75 per million tokens for 5 minutes, $6 for an hour on Claude Sonnet 4.5:
 * cache_creation.ephemeral_1h_input_tokens), and server-side web searches ($10 per
 * thousand: server_tool_use.web_search_requests).
 */
describe('Anthropic cache TTLs and web searches through the proxy', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  beforeAll(async () => {
    fake = await startFakeProvider();
    tp = await startTestProxy(fake);
  });
  afterAll(async () => {
    await tp?.close();
    await fake?.close();
  });

  it('JSON and SSE answers are priced at the 1-hour write rate', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-test-ttl-0123456789', maxRetries: 0, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never });
    const messages = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'a long document to keep for an hour', cache_control: { type: 'ephemeral' as const, ttl: '1h' as const } }] }];
    const once = await client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 64, messages });
    expect(once.usage.cache_creation?.ephemeral_1h_input_tokens).toBe(3000);
    await client.messages.stream({ model: 'claude-sonnet-4-5-20250929', max_tokens: 64, messages }).finalMessage();
    const recs = await eventually(() => {
      const found = exported(tp).filter((e) => e.provider === 'anthropic');
      if (found.length < 2) throw new Error(`${found.length}/2`);
      return found;
    });
    // 21 uncached input at $3, 4 cache reads at $0.30, 3000 one-hour writes at $6, 9 output at $15 (per million).
    const usd = 21 * 3e-6 + 4 * 0.3e-6 + 3000 * 6e-6 + 9 * 15e-6;
    expect(recs.map((e) => [e.stream, e.usage.cache_creation_input_tokens])).toEqual([[false, 3000], [true, 3000]]);
    for (const e of recs) expect(e.cost_usd).toBeCloseTo(usd, 12);
  });

  it('web searches are priced per search, JSON and SSE', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-test-ttl-0123456789', maxRetries: 0, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never });
    const ask = { model: 'claude-sonnet-4-5-20250929', max_tokens: 64, messages: [{ role: 'user' as const, content: 'search the news' }], tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const, max_uses: 3 }] };
    const once = await client.messages.create(ask);
    expect(once.usage.server_tool_use?.web_search_requests).toBe(2);
    await client.messages.stream(ask).finalMessage();
    const recs = await eventually(() => {
      const found = exported(tp).filter((e) => e.request?.body?.includes('search the news'));
      if (found.length < 2) throw new Error(`${found.length}/2`);
      return found;
    });
    // Tokens as above without cache writes, plus two searches at $0.01 each.
    const usd = 21 * 3e-6 + 4 * 0.3e-6 + 9 * 15e-6 + 2 * 0.01;
    for (const e of recs) expect(e.cost_usd).toBeCloseTo(usd, 12);
  });
});
