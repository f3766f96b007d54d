import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const { countTokens } = createRequire(import.meta.url)('gpt-tokenizer/encoding/o200k_base') as { countTokens: (s: string) => number };
const CLI = resolve('dist/cli/main.js');

// A budget one estimated stream spends (gpt-4o: 8 prompt tokens and ~20 answer tokens cost ~$0.0002).
const POLICY = `
rules:
  - {id: gpt4o-daily, match: {model: gpt-4o}, budget: {usd: 0.0001, period: day, per: model}}
`;

let fake: FakeProvider;
let tp: TestProxy;
let openai: OpenAI;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { policy: loadPolicyText(POLICY, 'policy.yaml') });
  openai = new OpenAI({ apiKey: 'sk-test-openai-estimate-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

// The writer thread loads the tokenizer on the first estimate (~1 s on a busy machine).
const recordedWith = (content: string) => eventually(() => {
  const rec = exported(tp).find((e) => e.request.body?.includes(content));
  if (!rec) throw new Error(`${content}: not recorded yet`);
  return rec;
}, 15_000);

describe('a Chat Completions stream that reports no usage (the OpenAI SDK\'s default)', () => {
  it('is archived with estimated tokens and a cost, flagged as estimated in export and show', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(OPENAI_TEXT); // the client's stream is untouched
    const rec = await recordedWith('"hi"');
    // OpenAI's documented count for one user message "hi": 3 + 3 per message + "user" + "hi" = 8.
    expect(rec.usage.input_tokens).toBe(8);
    expect(rec.usage.output_tokens).toBe(countTokens(OPENAI_TEXT));
    expect(rec.usage_estimated).toBe(true);
    expect(rec.cost_usd).toBeGreaterThan(0);
    const cli = async (...args: string[]) => (await promisify(execFile)('node', [CLI, '--home', tp.home, ...args])).stdout;
    expect(await cli('show', rec.id)).toMatch(new RegExp(`in 8 \\(cached 0\\) out ${countTokens(OPENAI_TEXT)} \\(estimated\\)`));
    // stats counts them and says so under the table.
    expect(await cli('stats', '--by', 'model')).toContain('tokens and cost of 1 exchange estimated by llmtap: its answer reported no usage (or was cut before it)');
    const [row] = JSON.parse(await cli('stats', '--by', 'model', '--json')) as { model: string; estimated_exchanges: number }[];
    expect(row).toMatchObject({ model: 'gpt-4o', estimated_exchanges: 1 });
  });

  it('spends a budget with its estimated cost: the next request is refused budget_exceeded, nothing sent', async () => {
    // The first test's stream spent the gpt-4o budget once the writer reported its estimate.
    await eventually(async () => {
      const before = fake.seen.length;
      const err = await openai.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'over budget?' }] }).then(async (s) => {
        for await (const chunk of s) void chunk;
      }, (e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect((err as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('budget_exceeded');
      expect(fake.seen.length).toBe(before);
    }, 15_000);
  });

  it('a stream that asked for usage keeps the provider\'s own counts, not flagged', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'with usage' }] });
    for await (const chunk of stream) void chunk;
    const rec = await recordedWith('with usage');
    expect([rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated]).toEqual([11, 17, false]);
  });
});

describe('an answer without usage the writer decides not to estimate', () => {
  it('lets go at once what the policy and Prometheus held for its estimate', async () => {
    const budgeted = await startTestProxy(fake, { metrics: true, policy: loadPolicyText('rules:\n  - {id: all-daily, budget: {usd: 100, period: day, per: model}}\n', 'policy.yaml') });
    try {
      const held = () => [budgeted.proxy.server.policyState.awaitingEstimates, budgeted.proxy.server.prometheus!.awaitingEstimates];
      // A 2xx Chat Completions answer without usage (the fake server mirrors the body sent)
      // to a request that holds no prompt to count: the writer has nothing to estimate from.
      const answer = JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion', model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: 'no usage here' }, finish_reason: 'stop' }] });
      const res = await undiciFetch('https://api.openai.com/v1/chat/completions', { method: 'POST', dispatcher: budgeted.agent, headers: { 'content-type': 'application/json', 'x-fake-mirror': '1', authorization: 'Bearer sk-test-openai-estimate-0123456789abcdef' }, body: answer });
      expect(res.status).toBe(200);
      await res.text();
      // Held as the exchange ended (its answer reported no usage)…
      expect(held()).toEqual([1, 1]);
      // …and let go once the writer says no estimate comes, not 5 minutes later.
      await eventually(() => expect(held()).toEqual([0, 0]), 10_000);
      const rec = exported(budgeted).find((e) => e.response?.body?.includes('no usage here'))!;
      expect([rec.usage.input_tokens, rec.usage_estimated]).toEqual([null, false]);
    } finally {
      await budgeted.close();
    }
  });
});
