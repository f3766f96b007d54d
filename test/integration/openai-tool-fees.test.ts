import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { RESPONSES_TEXT } from '../helpers/fake-openai-family.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * OpenAI's built-in Responses tools billed per call on top of the tokens, counted from the
 * answer's output items: `web_search_call` at the package's $10 per thousand, and
 * `file_search_call` at its $2.50 per thousand (storage searches), JSON and SSE alike.
 */
describe('OpenAI Responses web and file search calls through the proxy', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  beforeAll(async () => {
    fake = await startFakeProvider();
    tp = await startTestProxy(fake, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)] });
  });
  afterAll(async () => {
    await tp?.close();
    await fake?.close();
  });

  it('two web searches and one file search are priced per call, plain and streamed', async () => {
    const client = new OpenAI({ apiKey: 'sk-test-tool-fees-0123456789abcdef', maxRetries: 0, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never });
    const tools = [{ type: 'web_search' as const }, { type: 'file_search' as const, vector_store_ids: ['vs_fake'] }];
    const plain = await client.responses.create({ model: 'gpt-4.1', input: 'search the docs', tools });
    expect(plain.output_text).toBe(RESPONSES_TEXT);
    expect(plain.output.map((item) => item.type)).toEqual(['reasoning', 'web_search_call', 'web_search_call', 'file_search_call', 'message']);
    const stream = await client.responses.create({ model: 'gpt-4.1', input: 'search the docs', tools, stream: true });
    let text = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    expect(text).toBe(RESPONSES_TEXT);
    const recs = await eventually(() => {
      const found = exported(tp).filter((e) => e.api === 'responses');
      if (found.length < 2) throw new Error(`${found.length}/2`);
      return found;
    });
    // 25 uncached input at $2, 12 cached at $0.50, 21 output at $8 (per million), 2 web searches at
    // $0.01 and 1 file search at $0.0025.
    const usd = 25 * 2e-6 + 12 * 0.5e-6 + 21 * 8e-6 + 2 * 0.01 + 0.0025;
    expect(recs.map((e) => e.stream)).toEqual([false, true]);
    for (const e of recs) expect(e.cost_usd).toBeCloseTo(usd, 12);
    // stats and show read the same cost.
    tp.proxy.recorder.flush();
    const cli = async (...args: string[]) => (await promisify(execFile)(process.execPath, ['dist/cli/main.js', '--home', tp.home, ...args])).stdout;
    const stats = JSON.parse(await cli('stats', '--by', 'model', '--json')) as Array<{ model: string; cost_usd: number }>;
    expect(stats.find((r) => r.model === 'gpt-4.1')?.cost_usd).toBeCloseTo(2 * usd, 12);
    // The searches are kept with the row (usage_parts): show and export say what was billed beside the tokens.
    expect(await cli('show', recs[0]!.id)).toMatch(/in 37 \(cached 12\) out 21 · 2 web searches · 1 file search · \$0\.023 · /);
    for (const e of recs) expect(e.usage).toMatchObject({ web_searches: 2, file_searches: 1 });
  });
});
