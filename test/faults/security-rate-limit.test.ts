/**
 * Fault list #24: a burst beyond the rate limit is answered 429 by llmtap itself, in
 * the provider's own error shape, with `Retry-After` and `x-llmtap-error:
 * rate_limited`, and the provider is never called for it.
 */
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

let fake: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { rateLimit: { limit: 3, windowMs: 60_000 } });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

async function call(agent: ProxyAgent, url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(url, { dispatcher: agent, method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

describe('rate limit', () => {
  it('FAULT 24: OpenAI — the 4th call in a burst of limit 3 gets 429 in the OpenAI error shape; no upstream call', async () => {
    const seen = fake.seen.length;
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await call(tp.agent, 'https://api.openai.com/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] }, { 'x-test-id': `rl-openai-${i}` }));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(fake.seen.length).toBe(seen + 3);
    const limited = results[3]!;
    expect(limited.headers['x-llmtap-error']).toBe('rate_limited');
    expect(limited.headers['retry-after']).toBe('20'); // 3 per minute: one token every 20 s
    expect(limited.headers['content-type']).toBe('application/json');
    expect(JSON.parse(limited.body)).toEqual({ error: { message: expect.stringContaining('rate_limited'), type: 'llmtap_error', param: null, code: 'rate_limited' } });
    // More of the burst stays refused and still never reaches the provider.
    const again = await call(tp.agent, 'https://api.openai.com/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] });
    expect(again.status).toBe(429);
    expect(fake.seen.length).toBe(seen + 3);
  });

  it('FAULT 24: Anthropic — its own bucket, and the 429 in the Anthropic error shape', async () => {
    const seen = fake.seen.length;
    const statuses = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await call(tp.agent, 'https://api.anthropic.com/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 5, messages: [] }, { 'anthropic-version': '2023-06-01', 'x-test-id': `rl-anthropic-${i}` });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(fake.seen.length).toBe(seen + 3);
    expect(last!.headers['x-llmtap-error']).toBe('rate_limited');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(last!.body)).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: expect.stringContaining('rate_limited') } });
  });

  it('FAULT 24: the refused exchange is recorded as blocked, and the connection stays usable', async () => {
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.headers['x-test-id'] === 'rl-openai-3');
      if (!r) throw new Error('not yet');
      return r;
    });
    expect(rec).toMatchObject({ status: 429, outcome: 'blocked', error_code: 'rate_limited' });
    // A streamed request body that was never read does not poison the keep-alive connection.
    const big = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(200_000) }] };
    expect((await call(tp.agent, 'https://api.openai.com/v1/chat/completions', big)).status).toBe(429);
    expect((await call(tp.agent, 'https://api.openai.com/v1/chat/completions', { model: 'gpt-4o-mini' })).status).toBe(429);
  });

  it('FAULT 24: buckets are per client — another proxy user still gets through', async () => {
    const users = await startTestProxy(fake, { rateLimit: { limit: 1, windowMs: 60_000 }, auth: [{ user: 'a', password: 'x' }, { user: 'b', password: 'y' }] });
    const agentFor = (u: string, p: string) => new ProxyAgent({ uri: users.url, token: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`, requestTls: { ca: users.caPem } });
    const a = agentFor('a', 'x');
    const b = agentFor('b', 'y');
    try {
      const url = 'https://api.openai.com/v1/chat/completions';
      expect((await call(a, url, { model: 'gpt-4o-mini' })).status).toBe(200);
      expect((await call(a, url, { model: 'gpt-4o-mini' })).status).toBe(429);
      expect((await call(b, url, { model: 'gpt-4o-mini' })).status).toBe(200);
      expect((await call(b, url, { model: 'gpt-4o-mini' })).status).toBe(429);
    } finally {
      await a.close();
      await b.close();
      await users.close();
    }
  });
});
