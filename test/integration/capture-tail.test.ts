import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { IMAGE_USAGE } from '../helpers/fake-media-apis.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * Answers larger than --capture-limit: stored cut and marked, yet recorded with the usage
 * the provider put at their end (past the limit), read from the body's last bytes.
 */
const LIMIT = 1024;
let fake: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { captureLimit: LIMIT });
});
afterAll(async () => {
  await tp?.close();
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
