import { createRequire } from 'node:module';
import Anthropic from '@anthropic-ai/sdk';
import { fetch as undiciFetch, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo, paths } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { openArchive } from '../../src/recorder/db.js';
import { statsTable } from '../../src/archive/stats-table.js';
import { SqliteArchiveReader } from '../../src/archive/sqlite-reader.js';
import { renderTurnLines } from '../../src/cli/render/session-text.js';
import { threadTurns } from '../../src/sessions/turns.js';
import { HOLD_AFTER_TEXT, HOLD_BEFORE_START } from '../helpers/fake-faults.js';

const BEDROCK_HOST = 'bedrock-runtime.us-west-2.amazonaws.com';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { BedrockRuntimeClient, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ConnectAgent } from '../helpers/connect-agent.js';
import { BEDROCK_TEXT } from '../helpers/fake-bedrock.js';

const { countTokens } = createRequire(import.meta.url)('gpt-tokenizer/encoding/o200k_base') as { countTokens: (s: string) => number };

/** Claude Sonnet 4.5's published API prices, USD per token. */
const SONNET = { input: 3e-6, output: 15e-6, cacheRead: 0.3e-6 };
// message_start's usage alone (21 in, 4 cached, 1 out) costs ~$0.00008: under this budget; the output
// the cut stream generated, once estimated, takes it over.
const POLICY = `
rules:
  - {id: sonnet-daily, match: {model: claude-sonnet-4-5}, budget: {usd: 0.0001, period: day, per: model}}
`;

let fake: FakeProvider;
let tp: TestProxy;
let anthropic: Anthropic;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { metrics: true, policy: loadPolicyText(POLICY, 'policy.yaml'), connectTo: [...FAKE_HOSTS, BEDROCK_HOST].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)) });
  anthropic = new Anthropic({ apiKey: 'sk-ant-test-estimate-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const sample = (text: string, labels: string): number => Number(new RegExp(`^llmtap_tokens_total\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('an Anthropic Messages stream cut before message_delta (Ctrl-C in Claude Code)', () => {
  it('keeps the reported input and gets its output estimated from what arrived: priced, flagged, counted, charged to the budget', async () => {
    fake.eventGapMs = 100;
    const stream = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'cut me short' }] });
    for await (const event of stream) {
      // The first words of the answer, then the user gives up (the SDK aborts the request).
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') break;
    }
    fake.eventGapMs = 0;
    // The writer loads its tokenizer for the first estimate (~1 s on a busy machine).
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.body?.includes('cut me short'));
      if (!r?.usage_estimated) throw new Error('not estimated yet');
      return r;
    }, 15_000);
    const answer = rec.response!;
    expect(answer.text).not.toBe('');
    expect(answer.stop_reason).toBeNull(); // no message_delta came
    const output = countTokens(answer.thinking ?? '') + countTokens(answer.text ?? '');
    expect(output).toBeGreaterThan(1);
    // Input and cache reads as message_start reported them; output counted, and marked as the only estimate.
    expect(rec.usage).toMatchObject({ input_tokens: 21, cached_input_tokens: 4, output_tokens: output });
    expect(rec.usage_estimated_part).toBe('output');
    expect(rec.cost_usd).toBeCloseTo(21 * SONNET.input + 4 * SONNET.cacheRead + output * SONNET.output, 10);
    // Its session's totals took what the estimate added, nothing twice.
    const archive = openArchive(paths(tp.home).archive);
    const session = archive.db.prepare('SELECT input_tokens, output_tokens, cost_usd, unpriced FROM sessions WHERE id = ?').get(rec.session_id) as { input_tokens: number; output_tokens: number; cost_usd: number; unpriced: number };
    // stats counts it as one estimated exchange (the column holds 2 for "output only").
    expect(statsTable(archive.db, { by: 'model', model: 'claude-sonnet-4-5' }).total?.estimated).toBe(1);
    archive.close();
    expect(session).toMatchObject({ input_tokens: 21 + 4, output_tokens: output, unpriced: 0 }); // a session's input counts the cache reads too
    expect(session.cost_usd).toBeCloseTo(rec.cost_usd!, 12);
    // Prometheus: message_start's figures at once, the estimate's on top, as the archive has them.
    const metrics = await eventually(async () => {
      const t = await (await request(`http://127.0.0.1:${tp.proxy.address.port}/metrics`)).body.text();
      expect(sample(t, 'provider="anthropic",model="claude-sonnet-4-5",tool="anthropic-sdk-node",type="output"')).toBe(output);
      return t;
    });
    expect(sample(metrics, 'provider="anthropic",model="claude-sonnet-4-5",tool="anthropic-sdk-node",type="input"')).toBe(21);
    // The budget was charged the estimated cost with the same report: the very next request is
    // refused before it goes out (message_start's figures alone leave the budget unspent).
    const before = fake.seen.length;
    const err = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'over budget?' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(fake.seen.length).toBe(before);
  });

  it('a stream cut before message_start (the client left at once): no tokens, none estimated, and the row says why', async () => {
    const stream = await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: HOLD_BEFORE_START }] });
    // The 200 and its headers came; no event yet. The user gives up.
    stream.controller.abort();
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.body?.includes(HOLD_BEFORE_START));
      if (!r) throw new Error('not recorded yet');
      return r;
    });
    expect([rec.status, rec.outcome, rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated, rec.cost_usd]).toEqual([200, 'client_aborted', null, null, false, null]);
    // What `show` (and the web UI's turn) says of it.
    const reader = new SqliteArchiveReader(paths(tp.home).archive, { readonly: true });
    const turn = threadTurns([reader.exchange(rec.id)!.row])[0]!;
    reader.close();
    expect(turn.usageUnknown).toMatch(/^the stream was cut \(the client left\) before message_start, where Anthropic reports the input: /);
    expect(renderTurnLines(turn, 0, { markdown: false, color: false, thinking: false, maxText: 0 })).toContain(`   tokens not known: ${turn.usageUnknown}`);
  });

  it('Claude on Bedrock InvokeModel, its stream left before message_delta: message_start\'s input kept, the output estimated', async () => {
    const agent = new ConnectAgent({ host: '127.0.0.1', port: tp.proxy.address.port }, tp.caPem);
    const client = new BedrockRuntimeClient({
      region: 'us-west-2', maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAIOSFODNN7FAKEKEY', secretAccessKey: 'wJalrXUtnFEMIK7MDENGbPxRfiCYFAKEFAKEKEY0' },
      requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
    });
    try {
      const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: HOLD_AFTER_TEXT }] });
      const controller = new AbortController();
      const out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', body, contentType: 'application/json' }), { abortSignal: controller.signal });
      let chunks = 0;
      await (async () => {
        // The first words of the answer, then the user gives up.
        for await (const event of out.body!) if (event.chunk && ++chunks === 3) controller.abort();
      })().catch(() => undefined);
    } finally {
      client.destroy();
      agent.destroy();
    }
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.body?.includes(HOLD_AFTER_TEXT));
      if (!r?.usage_estimated) throw new Error('not estimated yet');
      return r;
    }, 15_000);
    expect([rec.api, rec.response!.text, rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated_part]).toEqual(['bedrock.invoke', BEDROCK_TEXT, 14, countTokens(BEDROCK_TEXT), 'output']);
  });

  it('a stream that ran to its message_delta keeps the provider\'s own counts, not flagged', async () => {
    const stream = await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'run to the end' }] });
    for await (const event of stream) void event;
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.body?.includes('run to the end'));
      if (!r) throw new Error('not recorded yet');
      return r;
    });
    expect([rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated, rec.usage_estimated_part]).toEqual([21, 9, false, null]);
  });
});
