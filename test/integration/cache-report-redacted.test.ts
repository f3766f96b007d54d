import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);

/**
 * `llmtap cache-report` keys requests from the archive, whose bodies are redacted: two
 * prompts that differ only in the key pasted into them are stored alike, while the
 * response cache (keying the bytes as sent) would keep them apart. Without a key a cache
 * rule recorded, such requests are compared with nothing and counted apart.
 */
describe('cache-report on requests whose body held a key-shaped string', () => {
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

  it('two prompts with different keys pasted in are not reported as a repeat; plain repeats still are', async () => {
    const openai = new OpenAI({ apiKey: 'sk-test-report-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const ask = (content: string) => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
    for (const key of ['sk-proj-pastedAAAAAAAAAAAAAAAAAAAAAAAA', 'sk-proj-pastedBBBBBBBBBBBBBBBBBBBBBBBB']) {
      expect((await ask(`why does ${key} fail?`)).choices[0]?.message.content).toBe(OPENAI_TEXT);
    }
    await ask('what is 2+2?');
    await ask('what is 2+2?');
    await eventually(() => expect(exported(tp)).toHaveLength(4));
    tp.proxy.recorder.flush();
    // The archive holds the two pasted prompts alike.
    const bodies = exported(tp).map((e) => e.request?.body ?? '');
    expect(bodies[0]).toBe(bodies[1]);
    expect(bodies[0]).toContain('[REDACTED]');
    const json = JSON.parse((await run(process.execPath, ['dist/cli/main.js', '--home', tp.home, 'cache-report', '--json'])).stdout) as { exchanges: number; not_compared: number; not_compared_redacted: number; totals: { repeats: number }; shapes: { requests: number }[] };
    expect([json.exchanges, json.not_compared, json.not_compared_redacted, json.totals.repeats, json.shapes.map((s) => s.requests)]).toEqual([4, 0, 2, 1, [2]]);
    const table = (await run(process.execPath, ['dist/cli/main.js', '--home', tp.home, 'cache-report'])).stdout;
    expect(table).toContain('2 requests not compared: the archive redacted a key-shaped string in their body');
  });
});
