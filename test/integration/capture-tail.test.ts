import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { IMAGE_USAGE } from '../helpers/fake-media-apis.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * Answers larger than --capture-limit: stored cut and marked, yet recorded with the usage
 * the provider put at their end (past the limit), read from the body's last bytes.
 */
const LIMIT = 1024;
const BEDROCK = 'bedrock-runtime.us-west-2.amazonaws.com';
let fake: FakeProvider;
/** Ollama's server: plain HTTP on loopback, on the --intercept list. */
let ollamaFake: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  ollamaFake = await startFakeProvider({ tls: false, ca: fake.ca });
  tp = await startTestProxy(fake, {
    captureLimit: LIMIT,
    connectTo: [...FAKE_HOSTS, BEDROCK].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)),
    intercept: [`127.0.0.1:${ollamaFake.port}`],
  });
});
afterAll(async () => {
  await tp?.close();
  await ollamaFake?.close();
  await fake?.close();
});

const post = async (path: string, body: object): Promise<string> => {
  const res = await undiciFetch(`https://api.openai.com${path}`, {
    method: 'POST', dispatcher: tp.agent,
    headers: { authorization: 'Bearer sk-test-tail-0123456789abcdef', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return res.text();
};
const recorded = (path: string) => eventually(() => {
  const row = exported(tp).find((e) => e.path === path);
  if (!row) throw new Error('not yet');
  return row;
});

describe('an answer past the capture limit', () => {
  it('a JSON answer (images, usage after the base64) is recorded with its tokens and cost, its body cut', async () => {
    const text = await post('/v1/images/generations', { model: 'gpt-image-1', prompt: 'a kite', n: 40 });
    expect(text.length).toBeGreaterThan(4 * LIMIT);
    const rec = await recorded('/v1/images/generations');
    expect(rec.response?.body_truncated).toBe(true);
    expect(rec.response?.body_size).toBe(Buffer.byteLength(text));
    expect([rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated]).toEqual([IMAGE_USAGE.input_tokens, IMAGE_USAGE.output_tokens, false]);
    expect(rec.cost_usd).toBeCloseTo((IMAGE_USAGE.input_tokens * 5 + IMAGE_USAGE.output_tokens * 40) / 1e6, 9);
  });

  it('a stream whose usage chunk came past the limit is recorded with the usage reported, not estimated; its text is the head\'s', async () => {
    const text = await post('/v1/chat/completions', { model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    expect(text.length).toBeGreaterThan(LIMIT);
    expect(text.lastIndexOf('"usage"')).toBeGreaterThan(LIMIT);
    const rec = await recorded('/v1/chat/completions');
    expect(rec.response?.body_truncated).toBe(true);
    expect([rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated]).toEqual([11, 17, false]);
    expect(rec.cost_usd).toBeGreaterThan(0);
    expect(rec.response?.text).toMatch(/^Hello /);
  });
});

describe('a stream in its own framing past the capture limit', () => {
  /** The body's bytes: Bedrock's frames are binary. */
  const send = async (url: string, body: object, dispatcher = tp.agent): Promise<{ bytes: Buffer; contentType: string | null }> => {
    const res = await undiciFetch(url, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return { bytes: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type') };
  };

  it('Bedrock ConverseStream and InvokeModelWithResponseStream (binary eventstream): tokens and cost from the frames past the limit', async () => {
    const model = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';
    const messages = [{ role: 'user', content: [{ text: 'hi' }] }];
    const converse = await send(`https://${BEDROCK}/model/${model}/converse-stream`, { messages });
    const invoke = await send(`https://${BEDROCK}/model/${model}/invoke-with-response-stream`, { anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    for (const answer of [converse, invoke]) {
      expect(answer.contentType).toBe('application/vnd.amazon.eventstream');
      expect(answer.bytes.length).toBeGreaterThan(LIMIT + 300);
    }
    const streamed = await recorded(`/model/${model}/converse-stream`);
    expect(streamed.response?.body_truncated).toBe(true);
    expect([streamed.usage.input_tokens, streamed.usage.output_tokens, streamed.usage.cached_input_tokens, streamed.usage_estimated, streamed.response?.stop_reason]).toEqual([14, 11, 4, false, 'tool_use']);
    expect(streamed.cost_usd).toBeGreaterThan(0);
    const invoked = await recorded(`/model/${model}/invoke-with-response-stream`);
    expect(invoked.response?.body_truncated).toBe(true);
    expect([invoked.usage.input_tokens, invoked.usage.output_tokens, invoked.usage_estimated, invoked.response?.stop_reason]).toEqual([14, 11, false, 'end_turn']);
    // Global profile: $3 / $15 per million.
    expect(invoked.cost_usd).toBeCloseTo(14 * 3e-6 + 11 * 15e-6, 12);
  });

  it('Ollama /api/chat (NDJSON lines): the done line\'s counts past the limit', async () => {
    // Plain HTTP through a proxy: absolute-URI requests, no CONNECT tunnel.
    const agent = new ProxyAgent({ uri: tp.url, proxyTunnel: false });
    try {
      const { bytes, contentType } = await send(`http://127.0.0.1:${ollamaFake.port}/api/chat`, { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }, agent);
      expect(contentType).toBe('application/x-ndjson');
      expect(bytes.lastIndexOf('"done":true')).toBeGreaterThan(LIMIT);
    } finally {
      await agent.close();
    }
    const rec = await recorded('/api/chat');
    expect(rec.response?.body_truncated).toBe(true);
    expect([rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated, rec.response?.stop_reason]).toEqual([26, 9, false, 'stop']);
  });
});
