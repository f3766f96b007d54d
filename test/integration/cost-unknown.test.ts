import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * An exchange that counted tokens but has no cost (a model the price list does not know)
 * says why where its cost is shown: under the turn in `show` and the web UI, and under `stats`' table by
 * model with the count, so the fix (a --prices rule) is one look away.
 */
describe('why a cost is not known', () => {
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

  it('show, the web UI and stats name the model and the reason; a priced model gets no such line', async () => {
    const client = new OpenAI({ apiKey: 'sk-test-cost-unknown-0123456789abcdef', maxRetries: 0, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never });
    for (const model of ['gpt-nonesuch-9', 'gpt-nonesuch-9', 'gpt-4o-mini']) await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    const recs = await eventually(() => {
      const found = exported(tp).filter((e) => e.api === 'chat.completions');
      if (found.length < 3) throw new Error(`${found.length}/3`);
      return found;
    });
    tp.proxy.recorder.flush();
    const unknown = recs.find((e) => e.model === 'gpt-nonesuch-9')!;
    const priced = recs.find((e) => e.model === 'gpt-4o-mini')!;
    expect([unknown.cost_usd, unknown.usage.input_tokens]).toEqual([null, expect.any(Number)]);
    expect(priced.cost_usd).toBeGreaterThan(0);

    const cli = async (...args: string[]) => (await promisify(execFile)(process.execPath, ['dist/cli/main.js', '--home', tp.home, ...args])).stdout;
    const reason = 'unknown model "gpt-nonesuch-9" for openai';
    expect(await cli('show', unknown.id)).toContain(`cost not known: ${reason}`);
    expect(await cli('show', priced.id)).not.toContain('cost not known');
    const shown = JSON.parse(await cli('show', unknown.id, '--json')) as { turn?: { costUnknown?: string }; threads?: { turns: { costUnknown?: string }[] }[] };
    expect(shown.turn?.costUnknown ?? shown.threads?.[0]?.turns[0]?.costUnknown).toContain(reason);

    // The web UI's exchange and session pages carry it on the turn, as show --json does.
    const ui = async <T>(path: string): Promise<T> => (await (await undiciFetch(`http://127.0.0.1:${tp.proxy.address.port}/ui/api/${path}`)).json()) as T;
    expect((await ui<{ turn: { costUnknown?: string } }>(`exchanges/${unknown.id}`)).turn.costUnknown).toBe(reason);
    expect((await ui<{ turn: { costUnknown?: string } }>(`exchanges/${priced.id}`)).turn.costUnknown).toBeUndefined();
    expect((await ui<{ threads: { turns: { costUnknown?: string }[] }[] }>(`sessions/${unknown.session_id}`)).threads[0]!.turns.map((t) => t.costUnknown)).toEqual([reason, reason, undefined]);

    const stats = await cli('stats', '--by', 'model');
    expect(stats).toContain('no cost for 2 exchanges that counted tokens:');
    expect(stats).toMatch(new RegExp(`\\n  2  gpt-nonesuch-9 at api\\.openai\\.com: ${reason.replace(/[".]/g, '\\$&')}`));
    // Narrowed to the priced model, nothing is missing.
    expect(stats).toContain('a --prices file given to the proxy prices a model the price list lacks');
    expect(await cli('stats', '--by', 'model', '--model', 'gpt-4o-mini')).not.toContain('no cost for');

    // --json says the same per group: which exchanges that counted tokens have no cost, and why; keys as before.
    const unknownGroup = { provider: 'openai', host: 'api.openai.com', model: 'gpt-nonesuch-9', exchanges: 2, reason };
    const byModel = JSON.parse(await cli('stats', '--by', 'model', '--json')) as Array<Record<string, unknown>>;
    expect(byModel.find((r) => r.model === 'gpt-nonesuch-9')).toMatchObject({ cost_usd: null, unpriced_exchanges: 2, unpriced_reasons: [unknownGroup] });
    expect(byModel.find((r) => r.model === 'gpt-4o-mini')).toMatchObject({ unpriced_exchanges: 0, unpriced_reasons: [] });
    const byTool = JSON.parse(await cli('stats', '--by', 'tool', '--json')) as Array<Record<string, unknown>>;
    expect(byTool.find((r) => r.tool === 'openai-sdk-node')).toMatchObject({ unpriced_exchanges: 2, unpriced_reasons: [unknownGroup] });
    // The CSV keeps its columns: reasons are text for the table's note and for --json.
    expect((await cli('stats', '--csv')).split('\n')[0]).not.toContain('reason');
  });
});
