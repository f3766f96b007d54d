import Anthropic from '@anthropic-ai/sdk';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { COUNTED_TOKENS } from '../helpers/fake-aux-apis.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * Token counting as Claude Code and the SDK call it (client.messages.countTokens: POST
 * /v1/messages/count_tokens), and Claude on Vertex AI's count-tokens:rawPredict with curl:
 * recorded as `messages.countTokens`, free ($0, never unpriced) and without tokens, so the
 * count adds nothing to the session's or the archive's token totals.
 */
const run = promisify(execFile);
const VERTEX = 'us-east5-aiplatform.googleapis.com';
let fake: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { connectTo: [...FAKE_HOSTS, VERTEX].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)) });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const cli = async (...args: string[]): Promise<string> => (await run('node', [resolve('dist/cli/main.js'), '--home', tp.home, ...args])).stdout;

describe('Anthropic token counting through the proxy', () => {
  it('the SDK\'s countTokens and Vertex AI\'s count-tokens are recorded with their model, no usage and no cost', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-test-count-0123456789', maxRetries: 0, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never });
    const counted = await client.messages.countTokens({
      model: 'claude-sonnet-4-5', system: 'Be terse.', messages: [{ role: 'user', content: 'How many tokens is this?' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: {} } }],
    });
    expect(counted.input_tokens).toBe(COUNTED_TOKENS);

    const caFile = join(tp.home, 'client-ca.pem');
    writeFileSync(caFile, tp.caPem);
    const vertex = await run('curl', ['-sS', '--fail-with-body', '--proxy', tp.url, '--cacert', caFile, '-A', 'vertex-count-e2e', '-H', 'content-type: application/json',
      '-H', 'authorization: Bearer ya29.test-token-0123456789', `https://${VERTEX}/v1/projects/p/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict`,
      '-d', JSON.stringify({ model: 'claude-haiku-4-5@20251001', messages: [{ role: 'user', content: 'how many tokens are in this request?' }] })]);
    expect(JSON.parse(vertex.stdout)).toEqual({ input_tokens: COUNTED_TOKENS });

    const recs = await eventually(() => {
      const rows = exported(tp);
      if (rows.length < 2) throw new Error(`${rows.length}/2 recorded`);
      return rows;
    });
    expect(recs.map((r) => [r.provider, r.api, r.model, r.response?.status, r.cost_usd, r.usage.input_tokens, r.usage.output_tokens])).toEqual([
      ['anthropic', 'messages.countTokens', 'claude-sonnet-4-5', 200, 0, null, null],
      ['vertex-ai', 'messages.countTokens', 'claude-haiku-4-5@20251001', 200, 0, null, null],
    ]);

    // Free, not unknown: no `+` on the totals, no unpriced exchange, no tokens.
    const stats = JSON.parse(await cli('stats', '--json', '--by', 'host')) as Array<Record<string, unknown>>;
    expect(stats).toHaveLength(2);
    for (const row of stats) expect(row).toMatchObject({ requests: 1, tokens: { input: 0, output: 0, cached_input: 0 }, cost_usd: 0, unpriced_exchanges: 0 });
    // Nothing links either count to a conversation: neither is in a session, nor starts one.
    expect(recs.map((r) => [r.session_id, r.thread_id, r.turn])).toEqual([[null, null, null], [null, null, null]]);
    expect(JSON.parse(await cli('sessions', '--json'))).toEqual([]);
    // The exchange itself reads at $0 and no tokens.
    const shown = await cli('show', recs[0]!.id);
    expect(shown).toMatch(/turn 1 [^\n]*claude-sonnet-4-5 · 200 [^\n]*in 0 \(cached 0\) out - · \$0\.0000/);
  });

  it('Claude Code\'s counts in the middle of its session join the session by its session id, as no turn', async () => {
    const sid = '7c2e9a10-4b3d-4f6e-8a1b-2c3d4e5f6a7b';
    const client = new Anthropic({
      apiKey: 'sk-ant-test-count-0123456789', maxRetries: 0, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never,
      defaultHeaders: { 'x-claude-code-session-id': sid, 'user-agent': 'claude-cli/2.0.14 (external, cli)' },
    });
    const messages = [{ role: 'user' as const, content: 'Fix the failing test' }];
    const tools = [{ name: 'Bash', input_schema: { type: 'object' as const, properties: {} } }];
    await client.messages.countTokens({ model: 'claude-sonnet-4-5', messages, tools });
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages, tools });
    await client.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [...messages, { role: 'assistant', content: 'Done.' }, { role: 'user', content: 'Now run the suite' }], tools });

    const recs = await eventually(() => {
      const rows = exported(tp).filter((r) => r.session_id === sid);
      if (rows.length < 3) throw new Error(`${rows.length}/3 recorded`);
      return rows;
    });
    expect(recs.map((r) => [r.api, r.thread_id, r.turn])).toEqual([['messages.countTokens', sid, null], ['messages', sid, 1], ['messages.countTokens', sid, null]]);
    const listed = (JSON.parse(await cli('sessions', '--json')) as Array<Record<string, unknown>>).filter((s) => s.id === sid);
    expect(listed).toMatchObject([{ turns: 1, retries: 0 }]);
    expect(await cli('show', sid)).toContain('1 turn, 2 token counts, 1 thread');
    // --json says so too, as the web UI's session JSON does.
    expect(JSON.parse(await cli('show', sid, '--json'))).toMatchObject({ token_counts: 2 });
  });
});
