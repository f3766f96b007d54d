import { brotliCompressSync, gzipSync } from 'node:zlib';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * Compressed answers larger than --capture-limit (SDKs ask for gzip and br): stored cut and
 * marked, yet recorded with the usage at their end, read from the decoded body's last bytes.
 * The fake server mirrors the body sent, with its coding: the test chooses the answer's bytes.
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

/** Words that do not repeat in a pattern: the compressed answer is far over the limit too. */
const words = (n: number, seed: number): string => Array.from({ length: n }, (_, i) => ((i + seed) * 2654435761 % 4294967296).toString(36)).join(' ');
const USAGE = { prompt_tokens: 1200, completion_tokens: 3400, total_tokens: 4600 };

const jsonAnswer = (id: string): string => JSON.stringify({
  id, object: 'chat.completion', created: 1_700_000_000, model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: words(40_000, 1) }, finish_reason: 'stop' }],
  usage: USAGE,
});
const sseAnswer = (id: string): string => {
  const chunk = (delta: object, finish: string | null = null) => ({ id, object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] });
  const events = [chunk({ role: 'assistant', content: '' }), ...Array.from({ length: 2000 }, (_, i) => chunk({ content: `${words(8, i)} ` })), chunk({}, 'stop'),
    { id, object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini', choices: [], usage: USAGE }];
  return `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`;
};

async function mirrored(plain: string, coding: string, wire: Buffer, contentType: string): Promise<void> {
  const res = await undiciFetch('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: tp.agent,
    headers: { authorization: 'Bearer sk-test-gz-tail-0123456789abcdef', 'content-type': contentType, 'content-encoding': coding, 'x-fake-mirror': '1' },
    body: wire,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-encoding')).toBe(coding);
  // The client decodes the provider's own bytes.
  expect(await res.text()).toBe(plain);
}

const recorded = (id: string) => eventually(() => {
  const row = exported(tp).find((e) => e.response?.body?.includes(id));
  if (!row) throw new Error('not yet');
  return row;
});

describe('a compressed answer past the capture limit', () => {
  for (const [coding, compress] of [['gzip', gzipSync], ['br', brotliCompressSync]] as const) {
    it(`JSON in ${coding}: recorded with its tokens and cost, its body cut`, async () => {
      const id = `chatcmpl-json-${coding}`;
      const plain = jsonAnswer(id);
      const wire = compress(plain);
      expect(wire.length).toBeGreaterThan(20 * LIMIT);
      await mirrored(plain, coding, wire, 'application/json');
      const rec = await recorded(id);
      expect(rec.response?.body_truncated).toBe(true);
      expect([rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated]).toEqual([USAGE.prompt_tokens, USAGE.completion_tokens, false]);
      expect(rec.cost_usd).toBeCloseTo((USAGE.prompt_tokens * 0.15 + USAGE.completion_tokens * 0.6) / 1e6, 9);
    });
  }

  it('an SSE stream in gzip: the usage chunk at its end is read', async () => {
    const id = 'chatcmpl-sse-gzip';
    const plain = sseAnswer(id);
    const wire = gzipSync(plain);
    expect(wire.length).toBeGreaterThan(8 * LIMIT);
    await mirrored(plain, 'gzip', wire, 'text/event-stream');
    const rec = await recorded(id);
    expect(rec.response?.body_truncated).toBe(true);
    expect([rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated]).toEqual([USAGE.prompt_tokens, USAGE.completion_tokens, false]);
    expect(rec.cost_usd).toBeGreaterThan(0);
  });
});
