import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyAgent, request } from 'undici';
import { ANTHROPIC_TEXT, OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { eventually, exported } from '../helpers/archive.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

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

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(url, {
    method: 'POST', dispatcher: tp.agent,
    headers: { 'content-type': 'application/json', 'user-agent': 'capture-test/1.0', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

function recordFor(id: string) {
  return eventually(() => {
    const rec = exported(tp).find((e) => e.request.headers['x-test-id'] === id);
    if (!rec) throw new Error(`no record for ${id}`);
    return rec;
  });
}

describe('intercept and record', () => {
  it('OpenAI chat completion, JSON', async () => {
    const res = await post('https://api.openai.com/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { 'x-test-id': 'oa-json' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).choices[0].message.content).toBe(OPENAI_TEXT);
    const rec = await recordFor('oa-json');
    expect(rec).toMatchObject({
      host: 'api.openai.com', method: 'POST', path: '/v1/chat/completions', status: 200,
      provider: 'openai', api: 'chat.completions', model: 'gpt-4o-mini', stream: false, outcome: 'completed',
      usage: { input_tokens: 11, output_tokens: 17, cached_input_tokens: 3 },
      client: { address: '127.0.0.1', user_agent: 'capture-test/1.0' },
    });
    expect(rec.response?.text).toBe(OPENAI_TEXT);
    expect(rec.response?.body).toBe(res.text);
    expect(JSON.parse(rec.request.body ?? '{}').messages[0].content).toBe('hi');
    expect(rec.ttfb_ms).toBeGreaterThan(0);
    expect(rec.duration_ms).toBeGreaterThanOrEqual(rec.ttfb_ms ?? 0);
  });

  it('OpenAI chat completion, SSE with include_usage and a streamed tool call', async () => {
    const res = await post('https://api.openai.com/v1/chat/completions', {
      model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    }, { 'x-test-id': 'oa-sse-tool' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/event-stream/);
    expect(res.text).toContain('data: [DONE]');
    const rec = await recordFor('oa-sse-tool');
    expect(rec).toMatchObject({ model: 'gpt-4o', stream: true, outcome: 'completed', usage: { input_tokens: 11, output_tokens: 17 } });
    expect(rec.response?.tool_calls).toEqual([{ id: 'call_fake1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    expect(rec.response?.body).toBe(res.text);
  });

  it('OpenAI SSE text is reassembled', async () => {
    const res = await post('https://api.openai.com/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [] }, { 'x-test-id': 'oa-sse' });
    expect(res.status).toBe(200);
    const rec = await recordFor('oa-sse');
    expect(rec.response?.text).toBe(OPENAI_TEXT);
    expect(rec.response?.stop_reason).toBe('stop');
  });

  it('Anthropic messages, JSON with a tool_use block', async () => {
    const res = await post('https://api.anthropic.com/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [], tools: [{ name: 'get_weather', input_schema: {} }] }, { 'x-test-id': 'an-json', 'anthropic-version': '2023-06-01' });
    expect(res.status).toBe(200);
    const rec = await recordFor('an-json');
    expect(rec).toMatchObject({ provider: 'anthropic', api: 'messages', model: 'claude-sonnet-4-5', stream: false, usage: { input_tokens: 21, output_tokens: 9, cached_input_tokens: 4 } });
    expect(rec.response?.text).toBe('Let me check.');
    expect(rec.response?.tool_calls).toEqual([{ id: 'toolu_fake1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    expect(rec.response?.stop_reason).toBe('tool_use');
  });

  it('Anthropic messages, SSE with thinking, text and tool_use deltas', async () => {
    const res = await post('https://api.anthropic.com/v1/messages', { model: 'claude-opus-4-1', max_tokens: 100, stream: true, messages: [], tools: [{ name: 'get_weather', input_schema: {} }] }, { 'x-test-id': 'an-sse' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('event: message_stop');
    const rec = await recordFor('an-sse');
    expect(rec).toMatchObject({ model: 'claude-opus-4-1', stream: true, outcome: 'completed', usage: { input_tokens: 21, output_tokens: 9 } });
    expect(rec.response?.text).toBe(ANTHROPIC_TEXT);
    expect(rec.response?.thinking).toBe('The user greets; answer briefly.');
    expect(rec.response?.tool_calls).toEqual([{ id: 'toolu_fake1', name: 'get_weather', arguments: '{"city": "Paris"}' }]);
  });

  it('a gzip response reaches the client still compressed and is stored decoded', async () => {
    const res = await request('https://api.openai.com/gzip', { dispatcher: tp.agent, headers: { 'x-test-id': 'gzip', 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBe('gzip');
    const raw = Buffer.from(await res.body.arrayBuffer());
    expect(raw[0]).toBe(0x1f); // gzip magic: the proxy did not decompress on the wire
    const rec = await recordFor('gzip');
    expect(rec.response?.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(rec.response?.body ?? '{}').choices[0].message.content).toBe(OPENAI_TEXT);
  });

  it('keeps one connection id across keep-alive requests', async () => {
    const single = new ProxyAgent({ uri: tp.url, requestTls: { ca: tp.caPem }, connections: 1 });
    for (const id of ['ka-1', 'ka-2']) {
      const res = await request('https://api.openai.com/v1/chat/completions', { method: 'POST', dispatcher: single, headers: { 'x-test-id': id }, body: '{}' });
      await res.body.text();
    }
    await single.close();
    const [a, b] = [await recordFor('ka-1'), await recordFor('ka-2')];
    expect(a.connection_id).toBe(b.connection_id);
    expect(a.id).not.toBe(b.id);
  });
});
