import Anthropic from '@anthropic-ai/sdk';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * Anthropic prices a prompt-cache write by its TTL: $3.75 per million tokens for 5 minutes,
 * $6 for an hour (Claude Sonnet 4.5). Usage says which (cache_creation.ephemeral_1h_input_tokens).
 */
describe('Anthropic 1-hour prompt-cache writes through the proxy', () => {
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
});
