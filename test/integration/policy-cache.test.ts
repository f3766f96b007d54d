import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { exported } from '../helpers/archive.js';
import { RESPONSES_FAIL_PROMPT } from '../helpers/fake-openai-family.js';
import { ANTHROPIC_TEXT, OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const POLICY = `
rules:
  - {id: det, match: {model: "gpt-4o-mini"}, cache: {ttl: 10m, when: {temperature: 0}}}
  - {id: claude, match: {provider: anthropic}, cache: {ttl: 1h, maxEntries: 100}}
`;
const OPENAI_KEY = 'sk-test-openai-cache-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-test-cache-0123456789abcdef';

let fake: FakeProvider;
let tp: TestProxy;
let openai: OpenAI;
let anthropic: Anthropic;
const common = (): Record<string, unknown> => ({ fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });

beforeAll(async () => {
  fake = await startFakeProvider();
  const home = mkdtempSync(join(tmpdir(), 'llmtap-cache-'));
  tp = await startTestProxy(fake, { home, policy: loadPolicyText(POLICY, 'policy.yaml') });
  openai = new OpenAI({ apiKey: OPENAI_KEY, ...common() });
  anthropic = new Anthropic({ apiKey: ANTHROPIC_KEY, ...common() });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const ask = { model: 'gpt-4o-mini', temperature: 0, messages: [{ role: 'user' as const, content: 'what is 2+2?' }] };

describe('response cache through the proxy with the official SDKs', () => {
  it('OpenAI JSON: the second identical call is a hit; the provider sees one request; volatile fields do not matter', async () => {
    const before = fake.seen.length;
    const first = await openai.chat.completions.create(ask).withResponse();
    const second = await openai.chat.completions.create({ ...ask, user: 'someone-else' }).withResponse();
    expect([first.response.headers.get('x-llmtap-cache'), second.response.headers.get('x-llmtap-cache')]).toEqual(['miss', 'hit']);
    expect(second.data).toEqual(first.data);
    expect(second.data.choices[0]!.message.content).toBe(OPENAI_TEXT);
    expect(fake.seen.length).toBe(before + 1);
  });

  it('OpenAI SSE: a streamed hit yields the same text from the SDK stream', async () => {
    const before = fake.seen.length;
    const texts: string[] = [];
    const headers: (string | null)[] = [];
    for (let i = 0; i < 2; i++) {
      const { data: stream, response } = await openai.chat.completions.create({ ...ask, stream: true }).withResponse();
      headers.push(response.headers.get('x-llmtap-cache'));
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      texts.push(text);
    }
    expect(headers).toEqual(['miss', 'hit']);
    expect(texts).toEqual([OPENAI_TEXT, OPENAI_TEXT]);
    expect(fake.seen.length).toBe(before + 1);
  });

  it('a request outside `when` (no temperature) is not cached; another credential never reads the entry', async () => {
    const before = fake.seen.length;
    const { response } = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: ask.messages }).withResponse();
    expect(response.headers.get('x-llmtap-cache')).toBeNull();
    const other = new OpenAI({ apiKey: 'sk-test-openai-other-user-9876543210', ...common() });
    const r = await other.chat.completions.create(ask).withResponse();
    expect(r.response.headers.get('x-llmtap-cache')).toBe('miss');
    expect(fake.seen.length).toBe(before + 2);
  });

  it('Anthropic JSON and SSE: hits across metadata.user_id; the stream replays the provider framing', async () => {
    const before = fake.seen.length;
    const base = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hello' }] };
    const a = await anthropic.messages.create({ ...base, metadata: { user_id: 'session-a' } });
    const b = await anthropic.messages.create({ ...base, metadata: { user_id: 'session-b' } }).withResponse();
    expect(b.response.headers.get('x-llmtap-cache')).toBe('hit');
    expect(b.data).toEqual(a);
    const streamed: string[] = [];
    for (let i = 0; i < 2; i++) {
      const stream = anthropic.messages.stream(base);
      const msg = await stream.finalMessage();
      streamed.push(msg.content.map((c) => (c.type === 'text' ? c.text : '')).join(''));
    }
    expect(streamed).toEqual([ANTHROPIC_TEXT, ANTHROPIC_TEXT]);
    expect(fake.seen.length).toBe(before + 2); // one JSON, one stream
  });

  it('the archive records hits like any exchange (decision cache hit, cost 0) and keeps entries without credentials', async () => {
    const rows = exported(tp);
    const hits = rows.filter((r) => (r.policy as { decisions?: { kind: string; action: string }[] } | null)?.decisions?.some((d) => d.kind === 'cache' && d.action === 'hit'));
    expect(hits.length).toBe(4);
    for (const h of hits) expect([h.outcome, h.status, h.cost_usd]).toEqual(['completed', 200, 0]);
    expect(hits[0]!.policy).toMatchObject({ decisions: [{ rule: 'det', kind: 'cache', action: 'hit', enforced: true }] });
    const db = new Database(paths(tp.home).archive, { readonly: true });
    const entries = db.prepare('SELECT key, rule_id, content_type, body FROM response_cache ORDER BY stored_at').all() as { key: string; rule_id: string; content_type: string; body: Buffer }[];
    db.close();
    expect(entries.map((e) => e.rule_id)).toEqual(['det', 'det', 'det', 'claude', 'claude']);
    expect(entries.some((e) => e.content_type.startsWith('text/event-stream') && e.body.toString().includes('event: message_stop'))).toBe(true);
    for (const e of entries) {
      expect(e.body.includes(OPENAI_KEY)).toBe(false);
      expect(e.key.includes(OPENAI_KEY.slice(3, 20))).toBe(false);
    }
  });

  it('policy test and cache-report replay the archive recorded above', async () => {
    tp.proxy.recorder.flush();
    const run = promisify(execFile);
    const cli = (...args: string[]) => run(process.execPath, ['dist/cli/main.js', '--home', tp.home, ...args]);
    // A policy that denies gpt-4o-mini and caches Claude answers: the first would have
    // refused the 6 OpenAI requests; the second would have served 2 Claude repeats.
    const file = join(tp.home, 'what-if.yaml');
    writeFileSync(file, `rules:\n  - {id: no-mini, action: deny, match: {model: gpt-4o-mini}}\n  - {id: claude, match: {provider: anthropic}, cache: {ttl: 1h}}\n`);
    const json = JSON.parse((await cli('policy', 'test', file, '--since', '1h', '--json')).stdout) as { exchanges: number; totals: Record<string, number>; rules: { rule: string; action: string; requests: number; saved_tokens: number }[] };
    expect(json.exchanges).toBe(10);
    expect(json.totals).toMatchObject({ blocked: 6, cached: 2 });
    expect(json.rules.find((r) => r.rule === 'no-mini')).toMatchObject({ action: 'deny', requests: 6 });
    expect(json.rules.find((r) => r.rule === 'claude')).toMatchObject({ action: 'hit', requests: 2, saved_tokens: 68 }); // 2 × (21 in + 4 cache reads + 9 out)
    const table = (await cli('policy', 'test', file)).stdout;
    expect(table).toMatch(/10 exchanges replayed\nblocked 6 \(6 model_not_allowed\)[^]*answered from the cache 2/);
    expect(table).toMatch(/no-mini\s+access\s+enforce\s+deny\s+-\s+6/);

    const report = JSON.parse((await cli('cache-report', '--json')).stdout) as { totals: { repeats: number }; shapes: { model: string; requests: number; repeats: number }[] };
    // Repeats as the cache keyed them: hits are recorded exchanges too; the request another
    // credential sent is not a repeat of the first (the cache kept them apart, and its key is on the record).
    expect(report.shapes.map((s) => [s.model, s.requests]).sort()).toEqual([['claude-sonnet-4-5', 2], ['claude-sonnet-4-5', 2], ['gpt-4o-mini', 2], ['gpt-4o-mini', 2]].sort());
    expect((await cli('cache-report')).stdout).toMatch(/request shapes seen more than once; a cache would have answered 4 requests/);
    const bad = await cli('policy', 'test', join(tp.home, 'missing.yaml')).catch((e: { stderr: string; code: number }) => e);
    expect(bad).toMatchObject({ code: 1 });
  });

  it('a Responses stream that ends in response.failed is not kept: the repeat goes upstream again', async () => {
    const before = fake.seen.length;
    const verdicts: (string | null)[] = [];
    for (let i = 0; i < 2; i++) {
      const { data: stream, response } = await openai.responses.create({ model: 'gpt-4o-mini', temperature: 0, input: RESPONSES_FAIL_PROMPT, stream: true }).withResponse();
      verdicts.push(response.headers.get('x-llmtap-cache'));
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      expect(types.at(-1)).toBe('response.failed');
    }
    expect(verdicts).toEqual(['miss', 'miss']);
    expect(fake.seen.length).toBe(before + 2);
  });
});
