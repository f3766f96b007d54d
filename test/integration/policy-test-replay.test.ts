import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * `llmtap policy test` over an archive recorded through the proxy with no policy:
 * one rule of every kind, each with traffic it would have acted on.
 */
const WHAT_IF = `
rules:
  - {id: no-sonnet, action: deny, match: {model: claude-sonnet-4-5}}
  - {id: pii, match: {provider: openai}, redact: {detectors: [email]}}
  - {id: one-4o, match: {model: gpt-4o}, rateLimit: {requestsPerMinute: 1, per: model}}
  - {id: big-body, match: {model: gpt-4.1-nano}, limits: {maxRequestBytes: 10}}
  - {id: cap, limits: {maxTokens: 1000}}
  - {id: tiny, match: {model: gpt-4.1-mini}, budget: {usd: 0.000000001, period: day, per: model}}
  - {id: det, match: {model: gpt-4o-mini}, cache: {ttl: 10m, when: {temperature: 0}}}
  - {id: cheaper, match: {model: gpt-4.1-mini}, route: {model: gpt-4o-mini}}
  - {id: backup, match: {model: gpt-4o}, fallback: {upstreams: [{upstream: "http://127.0.0.1:11434", model: llama3}]}}
  - {id: team-key, match: {host: api.openai.com}, credentials: {fromEnv: LLMTAP_POLICY_TEST_KEY_NOT_SET}}
`;

let fake: FakeProvider;
let tp: TestProxy;
let mid: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { home: mkdtempSync(join(tmpdir(), 'llmtap-policy-test-')) });
  const common = { fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 };
  const openai = new OpenAI({ apiKey: 'sk-test-replay-0123456789abcdef', ...common });
  const anthropic = new Anthropic({ apiKey: 'sk-ant-test-replay-0123456789abcdef', ...common });
  const mail = { model: 'gpt-4o-mini', temperature: 0, max_tokens: 4000, messages: [{ role: 'user' as const, content: 'write to jane@example.org' }] };
  await openai.chat.completions.create(mail);
  await openai.chat.completions.create(mail);
  fake.failStatus = 503;
  for (let i = 0; i < 2; i++) await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined);
  fake.failStatus = undefined;
  await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
  await openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'one' }] });
  await new Promise((r) => setTimeout(r, 20));
  mid = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  await openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'two' }] });
  await openai.chat.completions.create({ model: 'gpt-4.1-nano', messages: [{ role: 'user', content: 'three' }] });
  tp.proxy.recorder.flush();
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['dist/cli/main.js', '--home', tp.home, ...args], { env: { ...process.env, LLMTAP_POLICY_TEST_KEY_NOT_SET: '' } });

interface Report {
  exchanges: number;
  budgets_from: string | null;
  totals: Record<string, unknown>;
  rules: { rule: string; kind: string; action: string; to: string | null; requests: number; saved_tokens: number; detectors?: Record<string, number>; cost_delta_usd?: number }[];
}

describe('llmtap policy test: every action kind over an archive recorded through the proxy', () => {
  it('reports blocks per code, redactions per detector, clamps, routes with their cost, fallbacks, credentials and cache savings', async () => {
    const rows = exported(tp);
    expect(rows.length).toBe(8);
    expect(rows.every((r) => r.policy === null)).toBe(true); // recorded with no policy
    const file = join(tp.home, 'what-if.yaml');
    writeFileSync(file, WHAT_IF);
    const report = JSON.parse((await cli('policy', 'test', file, '--json')).stdout) as Report;
    expect(report.exchanges).toBe(8);
    expect(report.totals).toMatchObject({
      blocked: 4, blocked_by: { model_not_allowed: 1, rate_limited: 1, budget_exceeded: 1, request_too_large: 1 },
      redacted: 2, detectors: { email: 2 }, clamped: 2, rerouted: 1, fell_back: 1, credentials: 3, cached: 1, saved_tokens: 118, // 3 refused with usage recorded (34, Anthropic's cache reads counted, + 28 + 28) and the cache hit (28)
    });
    // gpt-4.1-mini's usage priced at gpt-4o-mini costs less.
    expect(report.totals.route_cost_delta_usd as number).toBeLessThan(0);
    const rule = (id: string, action?: string) => report.rules.find((r) => r.rule === id && (action === undefined || r.action === action));
    expect(rule('pii')).toMatchObject({ kind: 'redact', action: 'replace', requests: 2, detectors: { email: 2 } });
    expect(rule('cap')).toMatchObject({ kind: 'limits', action: 'clamp', to: 'max_tokens ≤ 1000', requests: 2 });
    expect(rule('big-body')).toMatchObject({ kind: 'limits', action: 'block', requests: 1 });
    expect(rule('tiny', 'block')).toMatchObject({ kind: 'budget', to: 'model:gpt-4.1-mini', requests: 1 });
    expect(rule('cheaper')).toMatchObject({ kind: 'route', action: 'route', to: 'model gpt-4o-mini', requests: 1 });
    expect(rule('cheaper')!.cost_delta_usd).toBeLessThan(0);
    expect(rule('backup')).toMatchObject({ kind: 'fallback', action: 'retry', to: 'http://127.0.0.1:11434', requests: 1 });
    expect(rule('team-key')).toMatchObject({ kind: 'credentials', action: 'inject', to: 'authorization for https://api.openai.com', requests: 3 });
    expect(rule('det')).toMatchObject({ kind: 'cache', action: 'hit', requests: 1, saved_tokens: 28 });
    expect(rule('one-4o')).toMatchObject({ kind: 'rateLimit', action: 'limit (requests)', requests: 1 });

    const table = (await cli('policy', 'test', file)).stdout;
    expect(table).toMatch(/^blocked 4 \((1 (model_not_allowed|rate_limited|budget_exceeded|request_too_large)(, )?){4}\)$/m);
    expect(table).toContain('redacted 2 (email×2); max tokens clamped 2');
    expect(table).toMatch(/rerouted 1 \(cost -\$[\d.]+ where priced\); fallback retries 1; credentials injected 3/);
    expect(table).toMatch(/cheaper\s+route\s+enforce\s+route\s+model gpt-4o-mini; cost -\$\S+\s+1\s+-\s+-$/m);
    // Only a rule that keeps a request from going upstream can save; the others say so with "-", not 0.
    for (const name of ['pii', 'cap', 'team-key', 'backup']) expect(table).toMatch(new RegExp(`^${name}\\s.*\\s-\\s+-$`, 'm'));
    expect(table).toMatch(/^no-sonnet\s.*\s[1-9]\d*\s+\$\S+$/m);
  });

  it('--since: budgets start with the archived spend of their period before it, so the second gpt-4.1-mini request is over', async () => {
    const file = join(tp.home, 'what-if.yaml');
    const report = JSON.parse((await cli('policy', 'test', file, '--since', mid, '--json')).stdout) as Report;
    expect(report.exchanges).toBe(2);
    expect(report.budgets_from).toMatch(/T00:00:00.000Z$/);
    expect(report.totals).toMatchObject({ blocked: 2, blocked_by: { budget_exceeded: 1, request_too_large: 1 } });
  });
});
