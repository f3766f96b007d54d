import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyText } from '../../src/policy/load.js';
import { exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/** Every decision kind recorded through the proxy, then read back by show, export and stats --by rule. */
const POLICY = `
rules:
  - {id: cap, limits: {maxTokens: 100}}
  - {id: tiny, mode: monitor, budget: {usd: 0.000000001, period: day, per: user}}
  - {id: det, match: {model: gpt-4o-mini}, cache: {ttl: 10m, when: {temperature: 0}}}
  - {id: swap, match: {model: gpt-4.1-mini}, route: {model: gpt-4o-mini}}
  - {id: backup, match: {model: gpt-4o}, fallback: {upstreams: ["https://api.anthropic.com"], on: [503]}}
  - {id: gw-key, match: {host: api.openai.com}, credentials: {fromEnv: LLMTAP_DECISIONS_TEST_KEY}}
`;

let fake: FakeProvider;
let tp: TestProxy;
const ids: Record<string, string | undefined> = {};

beforeAll(async () => {
  process.env.LLMTAP_DECISIONS_TEST_KEY = 'sk-gateway-decisions-0123456789';
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { home: mkdtempSync(join(tmpdir(), 'llmtap-decisions-')), policy: loadPolicyText(POLICY, 'policy.yaml') });
  const openai = new OpenAI({ apiKey: 'sk-client-decisions-0123456789', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
  const ask = { model: 'gpt-4o-mini', temperature: 0, max_tokens: 500, messages: [{ role: 'user' as const, content: 'hi' }] };
  await openai.chat.completions.create(ask);
  await openai.chat.completions.create(ask);
  await openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'route me' }] });
  fake.failStatus = 503;
  await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'fall back' }] }).catch(() => undefined);
  fake.failStatus = undefined;
  const rows = exported(tp);
  [ids.miss, ids.hit, ids.route, ids.fallback] = rows.map((r) => r.id as string);
});
afterAll(async () => {
  delete process.env.LLMTAP_DECISIONS_TEST_KEY;
  await tp?.close();
  await fake?.close();
});

const run = promisify(execFile);
const cli = async (...args: string[]): Promise<string> => (await run(process.execPath, ['dist/cli/main.js', '--home', tp.home, ...args])).stdout;
const KINDS = ['limits', 'budget', 'cache', 'route', 'fallback', 'credentials'];

describe('every decision kind in show, export and stats --by rule', () => {
  it('show (text, md, json) prints each decision with what it did, the route taken and the upstreams tried', async () => {
    const miss = await cli('show', ids.miss!);
    expect(miss).toContain('cap · limits clamp · max_tokens 500 → 100');
    expect(miss).toMatch(/det · cache miss · key [0-9a-f]{16}/);
    expect(miss).toContain('gw-key · credentials inject · authorization from env:LLMTAP_DECISIONS_TEST_KEY for https://api.openai.com');
    expect(await cli('show', ids.hit!)).toMatch(/det · cache hit · key [0-9a-f]{16}, \d+s old/);
    const route = await cli('show', ids.route!);
    expect(route).toContain('swap · route · model gpt-4o-mini');
    expect(route).toContain('routed: https://api.openai.com gpt-4.1-mini → https://api.openai.com gpt-4o-mini');
    expect(route).toMatch(/monitor: tiny · budget block · user:127\.0\.0\.1 spent \$/);
    const fallback = await cli('show', ids.fallback!);
    expect(fallback).toContain('backup · fallback · https://api.anthropic.com on 503');
    expect(fallback).toContain('attempts: https://api.openai.com 503 retried → https://api.anthropic.com 503 answered');
    expect(await cli('show', ids.fallback!, '--format', 'md')).toContain('backup · fallback · https://api.anthropic.com on 503');
    // A one-exchange session has the exchange's id: show prints it as a session, turn by turn.
    const json = JSON.parse(await cli('show', ids.fallback!, '--json')) as { threads: { turns: { policy: { decisions: { kind: string }[]; attempts: unknown[] } }[] }[] };
    const policy = json.threads[0]!.turns[0]!.policy;
    expect(policy.decisions.map((d) => d.kind)).toContain('fallback');
    expect(policy.attempts).toHaveLength(2);
  });

  it('export JSONL and HAR (_llmtap.policy) carry every kind; stats --by rule counts each rule with its actions', async () => {
    const jsonl = (await cli('export')).trim().split('\n').map((l) => JSON.parse(l) as { policy: { decisions: { kind: string }[] } | null });
    const kinds = (records: ({ decisions: { kind: string }[] } | null)[]) => new Set(records.flatMap((p) => p?.decisions.map((d) => d.kind) ?? []));
    expect([...kinds(jsonl.map((r) => r.policy))].sort()).toEqual([...KINDS].sort());
    const har = JSON.parse(await cli('export', '--format', 'har')) as { log: { entries: { _llmtap: { policy: { decisions: { kind: string }[]; route?: unknown; attempts?: unknown[] } | null } }[] } };
    const policies = har.log.entries.map((e) => e._llmtap.policy);
    expect([...kinds(policies)].sort()).toEqual([...KINDS].sort());
    expect(policies.some((p) => p?.route)).toBe(true);
    expect(policies.some((p) => p?.attempts?.length === 2)).toBe(true);

    const stats = JSON.parse(await cli('stats', '--by', 'rule', '--json')) as { rule: string; kind: string; exchanges: number; actions: Record<string, number> }[];
    const rule = (id: string) => stats.find((s) => s.rule === id);
    expect(rule('det')).toMatchObject({ kind: 'cache', actions: { miss: 1, hit: 1 } });
    expect(rule('swap')).toMatchObject({ kind: 'route', actions: { route: 1 } });
    expect(rule('backup')).toMatchObject({ kind: 'fallback', actions: { fallback: 1 } });
    expect(rule('gw-key')).toMatchObject({ kind: 'credentials', actions: { inject: 3 } });
    expect(rule('cap')).toMatchObject({ kind: 'limits', actions: { clamp: 2 } });
    expect(rule('tiny')).toMatchObject({ kind: 'budget', actions: {} });
    const table = await cli('stats', '--by', 'rule');
    expect(table).toMatch(/det\s+cache\s+2\s+0\s+0\s+0\s+0\s+(miss 1, hit 1|hit 1, miss 1)/);
    expect(table).toMatch(/gw-key\s+credentials\s+3\s+0\s+0\s+0\s+0\s+inject 3/);
  });
});
