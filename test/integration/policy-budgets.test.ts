import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

// The fake provider answers gpt-4o with 11 in / 17 out tokens (~$0.0002) and
// claude-opus-4-5 with 21 in / 9 out (~$0.0003): one exchange spends a $0.0001 budget.
const POLICY = `
rules:
  - {id: gpt4o-daily, match: {model: gpt-4o}, budget: {usd: 0.0001, period: day, per: model}}
  - {id: opus-monthly, match: {model: claude-opus-4-5}, budget: {usd: 0.0001, period: month, per: user}}
  - {id: mini-watch, mode: monitor, match: {model: gpt-4o-mini}, budget: {usd: 0.000001, period: week, per: user}}
  - {id: cap, match: {model: [gpt-4.1, claude-haiku-4-5]}, limits: {maxTokens: 64}}
  - {id: no-huge, match: {model: gpt-4.1-nano}, limits: {maxRequestBytes: 300, maxTokens: 10, onMaxTokens: block}}
`;

let fake: FakeProvider;
let tp: TestProxy;
let openai: OpenAI;
let anthropic: Anthropic;
const logs: string[] = [];

beforeAll(async () => {
  fake = await startFakeProvider();
  const destination = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(chunk.toString()); cb(); } });
  tp = await startTestProxy(fake, { policy: loadPolicyText(POLICY, 'policy.yaml') }, { logger: createLogger({ level: 'info', destination }) });
  const common = { fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never };
  // The SDKs' default retries stay on: a spent budget must not be retried (x-should-retry: false).
  openai = new OpenAI({ apiKey: 'sk-test-openai-budget-0123456789abcdef', ...common });
  anthropic = new Anthropic({ apiKey: 'sk-ant-test-budget-0123456789abcdef', ...common });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const seenBodies = (path: string): Record<string, unknown>[] =>
  fake.seen.filter((s) => s.url.startsWith(path)).map((s) => JSON.parse(s.body.toString()) as Record<string, unknown>);
const recorded = (model: string, n: number) => eventually(() => {
  const recs = exported(tp).filter((e) => e.model === model);
  if (recs.length < n) throw new Error(`${model}: ${recs.length} of ${n} recorded`);
  return recs;
});

describe('budgets through the proxy with the official SDKs', () => {
  it('OpenAI: one recorded exchange spends the budget; the next call is a RateLimitError with budget_exceeded, not retried, no upstream call', async () => {
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    const [first] = await recorded('gpt-4o', 1);
    expect(first!.cost_usd).toBeGreaterThan(0.0001);
    const before = fake.seen.length;
    const err = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'again' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const re = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect([re.status, re.code, re.headers?.get('x-llmtap-error'), re.headers?.get('x-should-retry')]).toEqual([429, 'budget_exceeded', 'budget_exceeded', 'false']);
    // Which budget, for whom, and when it starts again (tomorrow, 00:00 UTC).
    const tomorrow = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1)).toISOString();
    expect(re.message).toMatch(new RegExp(`the budget of llmtap policy rule "gpt4o-daily" is spent for model:gpt-4o: \\$[\\d.]+ of \\$0\\.00010 this day; it starts again at ${tomorrow.replace(/[.]/g, '\\.')}`));
    expect(Number(re.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(fake.seen.length).toBe(before);
    const recs = await recorded('gpt-4o', 2);
    expect(recs.length).toBe(2); // one refusal recorded: the SDK did not retry
    const blocked = recs.find((r) => r.outcome === 'blocked')!;
    expect(blocked.error_code).toBe('budget_exceeded');
    expect(blocked.policy).toMatchObject({ decisions: [{ rule: 'gpt4o-daily', kind: 'budget', action: 'block', enforced: true, key: 'model:gpt-4o', period: 'day', limitUsd: 0.0001 }], blocked: 'budget_exceeded' });
    expect(logs.join('')).toMatch(/"rule":"gpt4o-daily".*"msg":"budget spent for this period"/);
  });

  it('Anthropic: the same, as Anthropic.RateLimitError in its own error shape', async () => {
    await anthropic.messages.create({ model: 'claude-opus-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    await recorded('claude-opus-4-5', 1);
    const err = await anthropic.messages.create({ model: 'claude-opus-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const ae = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(ae.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(ae.headers?.get('x-llmtap-error')).toBe('budget_exceeded');
  });

  it('monitor mode: calls go through; the record says the budget would have blocked', async () => {
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await recorded('gpt-4o-mini', 1);
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const recs = await recorded('gpt-4o-mini', 2);
    expect(recs.map((r) => r.outcome)).toEqual(['completed', 'completed']);
    expect(recs[1]!.policy).toMatchObject({ decisions: [{ rule: 'mini-watch', kind: 'budget', action: 'block', enforced: false }] });
    expect(recs[1]!.policy).not.toHaveProperty('blocked');
  });

  it('a charged exchange keeps its subscription pricing: the archive says api_equivalent, as without a budget', async () => {
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'subscription' }] }, { headers: { 'chatgpt-account-id': 'acct-budget-test' } });
    const recs = await recorded('gpt-4o-mini', 3);
    expect(recs[2]!.policy).toMatchObject({ decisions: [{ rule: 'mini-watch', kind: 'budget' }] });
    expect([recs[2]!.cost_source, recs[2]!.cost_usd]).toEqual(['api_equivalent', recs[0]!.cost_usd]);
  });

  it('a budget rule added by a reload starts from the spend already in the archive', async () => {
    const reloaded = `${POLICY}  - {id: opus-team, match: {model: claude-opus-4-5}, budget: {usd: 0.0003, period: week, per: team}}\n`;
    // The old opus rule goes: only the new one, seeded from the archive, can refuse.
    tp.proxy.server.setPolicy(loadPolicyText(reloaded.replace(/ {2}- \{id: opus-monthly.*\n/, ''), 'policy.yaml'));
    const err = await anthropic.messages.create({ model: 'claude-opus-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const recs = await recorded('claude-opus-4-5', 3);
    expect(recs[2]!.policy).toMatchObject({ decisions: [{ rule: 'opus-team', action: 'block' }] });
    tp.proxy.server.setPolicy(loadPolicyText(POLICY, 'policy.yaml'));
  });
});

describe('limits through the proxy', () => {
  it('max_tokens above the cap reaches the provider clamped, the rest of the body byte for byte', async () => {
    await openai.chat.completions.create({ model: 'gpt-4.1', max_tokens: 4000, messages: [{ role: 'user', content: 'hi' }] });
    await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 2048, messages: [{ role: 'user', content: 'hi' }] });
    const chat = fake.seen.find((s) => s.url.startsWith('/v1/chat/completions') && s.body.includes('"gpt-4.1"'))!;
    expect(JSON.parse(chat.body.toString())).toEqual({ model: 'gpt-4.1', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.body.toString()).toBe(JSON.stringify({ model: 'gpt-4.1', max_tokens: 4000, messages: [{ role: 'user', content: 'hi' }] }).replace('4000', '64'));
    const length = chat.rawHeaders[chat.rawHeaders.findIndex((h) => h.toLowerCase() === 'content-length') + 1];
    expect(Number(length)).toBe(chat.body.length);
    expect(seenBodies('/v1/messages').find((b) => b.model === 'claude-haiku-4-5')?.max_tokens).toBe(64);
    const [rec] = await recorded('gpt-4.1', 1);
    expect(rec!.policy).toEqual({ decisions: [{ rule: 'cap', kind: 'limits', action: 'clamp', enforced: true, limit: 'maxTokens', field: 'max_tokens', from: 4000, to: 64 }], bodyChanged: true });
  });

  it('a body over maxRequestBytes is a 413 request_too_large; max_tokens over a blocking cap a BadRequestError', async () => {
    const before = fake.seen.length;
    const big = await openai.chat.completions.create({ model: 'gpt-4.1-nano', messages: [{ role: 'user', content: 'x'.repeat(400) }] }).catch((e: unknown) => e);
    expect(big).toBeInstanceOf(OpenAI.APIError);
    const be = big as InstanceType<typeof OpenAI.APIError>;
    expect([be.status, be.headers?.get('x-llmtap-error')]).toEqual([413, 'request_too_large']);
    const capped = await openai.chat.completions.create({ model: 'gpt-4.1-nano', max_tokens: 11, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(capped).toBeInstanceOf(OpenAI.BadRequestError);
    expect((capped as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('max_tokens_exceeded');
    expect(fake.seen.length).toBe(before);
    const recs = await recorded('gpt-4.1-nano', 2);
    expect(recs.map((r) => [r.outcome, r.error_code])).toEqual([['blocked', 'request_too_large'], ['blocked', 'max_tokens_exceeded']]);
  });
});

describe('decisions in show and stats (the CLI on this archive)', () => {
  const CLI = resolve('dist/cli/main.js');
  const llmtap = async (...args: string[]): Promise<string> => (await promisify(execFile)('node', [CLI, '--home', tp.home, ...args])).stdout;

  it('show prints each exchange\'s decisions in text, Markdown and JSON', async () => {
    const recs = exported(tp);
    const blocked = recs.find((r) => r.model === 'gpt-4o' && r.outcome === 'blocked')!;
    const text = await llmtap('show', blocked.id);
    expect(text).toMatch(/policy: gpt4o-daily · budget block · model:gpt-4o spent \$0\.000\d+ of \$0\.00010 this day \(from \d{4}-\d\d-\d\d\)/);
    expect(text).toContain('policy: refused: budget_exceeded');
    const clamped = recs.find((r) => r.model === 'gpt-4.1')!;
    expect(await llmtap('show', clamped.id, '--format', 'md')).toContain('> policy: cap · limits clamp · max_tokens 4000 → 64');
    const json = JSON.parse(await llmtap('show', clamped.id, '--json')) as { policy: unknown; turn: { policy: unknown } };
    expect(json.policy).toEqual(clamped.policy);
    expect(json.turn.policy).toEqual(clamped.policy);
    const watched = recs.filter((r) => r.model === 'gpt-4o-mini')[1]!;
    expect(await llmtap('show', watched.id)).toMatch(/policy: monitor: mini-watch · budget block/);
  });

  it('stats --by rule counts blocked, changed, warned and monitor decisions per rule', async () => {
    const rows = JSON.parse(await llmtap('stats', '--by', 'rule', '--json')) as { rule: string; kind: string; exchanges: number; blocked: number; changed: number; monitor: number }[];
    const byRule = Object.fromEntries(rows.map((r) => [r.rule, r]));
    expect(byRule['gpt4o-daily']).toMatchObject({ kind: 'budget', exchanges: 1, blocked: 1, changed: 0 });
    expect(byRule.cap).toMatchObject({ kind: 'limits', exchanges: 2, blocked: 0, changed: 2 });
    expect(byRule['no-huge']).toMatchObject({ kind: 'limits', exchanges: 2, blocked: 2 });
    expect(byRule['mini-watch']).toMatchObject({ kind: 'budget', blocked: 0, monitor: 2 }); // the second call and the subscription one
    const table = await llmtap('stats', '--by', 'rule');
    expect(table).toMatch(/^RULE\s+KIND\s+EXCHANGES\s+BLOCKED\s+CHANGED\s+WARNED\s+MONITOR/);
    expect(table).toMatch(/\ncap\s+limits\s+2\s+0\s+2\s+0\s+0/);
  });

  it('stats --budgets FILE shows spend against each budget rule for its current period', async () => {
    const file = join(tp.home, 'policy.yaml');
    writeFileSync(file, POLICY);
    const report = JSON.parse(await llmtap('stats', '--budgets', file, '--json')) as { rule: string; period: string; budget_usd: number; keys: { key: string; spent_usd: number; state: string }[] }[];
    const gpt = report.find((r) => r.rule === 'gpt4o-daily')!;
    expect(gpt).toMatchObject({ period: 'day', budget_usd: 0.0001 });
    expect(gpt.keys).toEqual([{ key: 'model:gpt-4o', spent_usd: exported(tp).find((r) => r.model === 'gpt-4o' && r.outcome === 'completed')!.cost_usd, used: expect.any(Number), state: 'spent' }]);
    expect(report.find((r) => r.rule === 'mini-watch')!.keys[0]).toMatchObject({ key: 'user:127.0.0.1', state: 'spent' });
    const table = await llmtap('stats', '--budgets', file);
    expect(table).toMatch(/^RULE\s+PERIOD\s+BUDGET\s+KEY\s+SPENT\s+USED\s+STATE/);
    expect(table).toMatch(/gpt4o-daily\s+day from \d{4}-\d\d-\d\d\s+\$0\.00010\s+model:gpt-4o\s+\$0\.000\d+\s+\d+%\s+spent/);
    await expect(llmtap('stats', '--budgets', join(tp.home, 'missing.yaml'))).rejects.toMatchObject({ stderr: expect.stringMatching(/^llmtap: .*missing\.yaml: cannot read \(ENOENT\)\n$/) });
  });

  it('stats --budgets marks a budget rule an enforced one above it shadows, naming that rule, instead of a bare $0 ok', async () => {
    const file = join(tp.home, 'shadowed.yaml');
    writeFileSync(file, 'rules:\n  - {id: everyone, budget: {usd: 100, period: month, per: user}}\n  - {id: gpt4o-users, match: {model: gpt-4o}, budget: {usd: 1, period: day, per: user}}\n');
    const report = JSON.parse(await llmtap('stats', '--budgets', file, '--json')) as { rule: string; shadowed_by: string | null; keys: unknown[] }[];
    expect(report.map((r) => [r.rule, r.shadowed_by, r.keys.length > 0])).toEqual([['everyone', null, true], ['gpt4o-users', 'everyone', false]]);
    const table = await llmtap('stats', '--budgets', file);
    expect(table).toMatch(/\ngpt4o-users\s+day from \d{4}-\d\d-\d\d\s+\$1\.00\s+user: -\s+-\s+-\s+shadowed by everyone\n/);
    expect(table).not.toMatch(/gpt4o-users.*ok/);
    expect(table).toContain('shadowed by RULE: never applies, RULE above it is enforced and matches every request it matches (check-config warns)');
  });

  it('stats --by team --policy FILE: spend per team as a per-team budget keys it (no credential read); --until ends the range', async () => {
    // The archive's exchanges came without proxy users: each is its client address's. A credentials
    // rule whose variable is not set here does not stop a report (nothing is sent).
    const file = join(tp.home, 'teams.yaml');
    writeFileSync(file, 'teams: {platform: [alice]}\nrules:\n  - {id: key, credentials: {fromEnv: LLMTAP_TEST_NEVER_SET}}\n');
    const rows = JSON.parse(await llmtap('stats', '--by', 'team', '--policy', file, '--json')) as { team: string; requests: number; cost_usd: number }[];
    expect(rows).toEqual([expect.objectContaining({ team: 'user:127.0.0.1', requests: exported(tp).length })]);
    expect(await llmtap('stats', '--by', 'team', '--policy', file)).toMatch(/^TEAM\s+REQS[\s\S]*\nuser:127\.0\.0\.1\s+\d+/);
    expect(JSON.parse(await llmtap('stats', '--by', 'team', '--policy', file, '--until', '2000-01-01', '--json'))).toEqual([]);
    expect(await llmtap('stats', '--budgets', file)).toBe(`${file}: no budget rules\n`);
    const fails = async (...args: string[]): Promise<string> => (await llmtap(...args).then(() => ({ stderr: 'exit 0' }), (e: { stderr: string }) => e)).stderr;
    expect(await fails('stats', '--by', 'team')).toContain('--by team needs --policy FILE');
    expect(await fails('stats', '--policy', file)).toContain('--policy is read by --by team and --team only');
    expect(await fails('stats', '--since', '2026-12-02', '--until', '2026-12-01')).toContain('--until 2026-12-01 is not after --since 2026-12-02');
    expect(await fails('stats', '--by', 'team', '--policy', join(tp.home, 'missing.yaml'))).toMatch(/^llmtap: --policy .*missing\.yaml: cannot read \(ENOENT\)\n$/);
  });
});
