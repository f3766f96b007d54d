import Anthropic from '@anthropic-ai/sdk';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { fetch as undiciFetch, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeFailed } from '../../src/failed-exchange.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { capturingLogger } from '../faults/secrets-helpers.js';
import { basic } from '../faults/security-helpers.js';
import { eventually, exported } from '../helpers/archive.js';
import { FAIL_MID_STREAM } from '../helpers/fake-faults.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/** `GET /metrics` (--metrics): Prometheus text after real SDK traffic, checked by Debian's promtool. */
describe('prometheus /metrics', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  let off: TestProxy;
  let gw: TestProxy;
  const gwLog = capturingLogger();

  beforeAll(async () => {
    fake = await startFakeProvider();
    tp = await startTestProxy(fake, { metrics: true });
    off = await startTestProxy(fake);
    gw = await startTestProxy(fake, { host: '0.0.0.0', auth: [{ user: 'ops', password: 'secret pass' }, { user: 'dev', password: 'dev pass' }], uiAdmins: ['ops'], metrics: true }, { logger: gwLog.logger });
  });
  afterAll(async () => {
    await tp.close();
    await off.close();
    await gw.close();
    await fake.close();
  });

  const scrape = async (p: TestProxy, headers: Record<string, string> = {}) => request(`http://127.0.0.1:${p.proxy.address.port}/metrics`, { headers });

  it('counts requests, tokens, cost, latency and TTFT by provider, model and tool, matching the archive', async () => {
    const openai = new OpenAI({ apiKey: 'sk-test-openai-sdk-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    for await (const chunk of stream) void chunk;
    await openai.chat.completions.create({ model: 'does-not-exist', messages: [] }).catch(() => undefined);
    const anthropic = new Anthropic({ apiKey: 'sk-ant-test-sdk-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    const rows = await eventually(() => {
      const r = exported(tp);
      expect(r).toHaveLength(4);
      return r;
    });

    const res = await scrape(tp);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.body.text();
    const openaiLabels = { provider: 'openai', api: 'chat.completions', model: 'gpt-4o-mini', tool: 'openai-sdk-node' };
    expect(sample(text, 'llmtap_requests_total', { ...openaiLabels, status_class: '2xx' })).toBe(2);
    expect(sample(text, 'llmtap_requests_total', { ...openaiLabels, model: 'does-not-exist', status_class: '4xx' })).toBe(1);
    expect(sample(text, 'llmtap_requests_total', { provider: 'anthropic', api: 'messages', model: 'claude-sonnet-4-5', tool: 'anthropic-sdk-node', status_class: '2xx' })).toBe(1);
    const by = { provider: 'openai', model: 'gpt-4o-mini', tool: 'openai-sdk-node' };
    expect(sample(text, 'llmtap_tokens_total', { ...by, type: 'input' })).toBe(22);
    expect(sample(text, 'llmtap_tokens_total', { ...by, type: 'output' })).toBe(34);
    expect(sample(text, 'llmtap_tokens_total', { ...by, type: 'cache_read' })).toBe(3); // only the JSON answer reports cached tokens
    expect(sample(text, 'llmtap_tokens_total', { provider: 'anthropic', model: 'claude-sonnet-4-5', tool: 'anthropic-sdk-node', type: 'cache_read' })).toBe(4);
    // The same price the archive stored, per provider/model/tool.
    const archived = (model: string) => rows.filter((r) => r.model === model).reduce((sum, r) => sum + (r.cost_usd ?? 0), 0);
    expect(archived('gpt-4o-mini')).toBeGreaterThan(0);
    expect(sample(text, 'llmtap_cost_usd_total', by)).toBeCloseTo(archived('gpt-4o-mini'), 12);
    expect(sample(text, 'llmtap_cost_usd_total', { provider: 'anthropic', model: 'claude-sonnet-4-5', tool: 'anthropic-sdk-node' })).toBeCloseTo(archived('claude-sonnet-4-5'), 12);
    expect(sample(text, 'llmtap_request_duration_seconds_count', { provider: 'openai', model: 'gpt-4o-mini' })).toBe(2);
    expect(sample(text, 'llmtap_time_to_first_token_seconds_count', { provider: 'openai', model: 'gpt-4o-mini' })).toBe(1);
    expect(sample(text, 'llmtap_archive_records_written_total', {})).toBeGreaterThanOrEqual(4);
    expect(sample(text, 'llmtap_archive_records_lost_total', {})).toBe(0);
    expect(sample(text, 'llmtap_archive_healthy', {})).toBe(1);
    expect(sample(text, 'llmtap_open_connections', {})).toBeGreaterThanOrEqual(1); // this scrape's own
    expect(sample(text, 'llmtap_open_websockets', {})).toBe(0);
    // No key and no prompt ever reaches a label.
    expect(text).not.toMatch(/sk-test|sk-ant|\bhi\b/);
    promtoolCheck(text);
  });

  it('adds the archive\'s estimate for a stream that reported no usage (the OpenAI SDK\'s default), matching the archive', async () => {
    const openai = new OpenAI({ apiKey: 'sk-test-openai-sdk-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const chunk of stream) void chunk;
    const by = { provider: 'openai', model: 'gpt-4o', tool: 'openai-sdk-node' };
    // The writer loads its tokenizer for the first estimate (~1 s on a busy machine).
    const row = await eventually(() => {
      const r = exported(tp).find((e) => e.model === 'gpt-4o' && e.usage_estimated);
      if (!r) throw new Error('not estimated yet');
      return r;
    }, 15_000);
    const text = await eventually(async () => {
      const t = await (await scrape(tp)).body.text();
      expect(sample(t, 'llmtap_tokens_total', { ...by, type: 'output' })).toBeGreaterThan(0);
      return t;
    });
    expect(sample(text, 'llmtap_tokens_total', { ...by, type: 'input' })).toBe(row.usage.input_tokens);
    expect(sample(text, 'llmtap_tokens_total', { ...by, type: 'output' })).toBe(row.usage.output_tokens);
    expect(sample(text, 'llmtap_cost_usd_total', by)).toBeCloseTo(row.cost_usd!, 12);
    promtoolCheck(text);
  });

  it('counts a stream the provider ended with its own error after the 200 (an overloaded Claude) by its kind, as the archive fails it', async () => {
    const anthropic = new Anthropic({ apiKey: 'sk-ant-test-sdk-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const failing = anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: FAIL_MID_STREAM }] });
    await expect(failing.finalMessage()).rejects.toThrow(/Overloaded/);
    await anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    const openai = new OpenAI({ apiKey: 'sk-test-openai-sdk-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    await expect((async () => {
      for await (const chunk of await openai.chat.completions.create({ model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: FAIL_MID_STREAM }] })) void chunk;
    })()).rejects.toThrow(/server had an error/);
    const rows = await eventually(() => {
      const r = exported(tp).filter((e) => e.model === 'claude-haiku-4-5' || e.model === 'gpt-4.1-mini');
      expect(r).toHaveLength(3);
      return r;
    });
    const text = await (await scrape(tp)).body.text();
    const haiku = { provider: 'anthropic', api: 'messages', model: 'claude-haiku-4-5', tool: 'anthropic-sdk-node' };
    const mini = { provider: 'openai', api: 'chat.completions', model: 'gpt-4.1-mini', tool: 'openai-sdk-node' };
    // What the archive calls a failure because of the provider's error, series by series (its stop reason is the kind).
    const failures = rows.filter((r) => r.status === 200 && exchangeFailed({ outcome: r.outcome, status: r.status, stopReason: r.response?.stop_reason }));
    expect(failures.map((r) => r.response?.stop_reason).sort()).toEqual(['overloaded_error', 'server_error']);
    expect(sample(text, 'llmtap_provider_errors_total', { ...haiku, type: 'overloaded_error' })).toBe(1);
    expect(sample(text, 'llmtap_provider_errors_total', { ...mini, type: 'server_error' })).toBe(1);
    expect(text.split('\n').filter((l) => l.startsWith('llmtap_provider_errors_total{'))).toHaveLength(2);
    // The status class keeps its meaning: what was sent (both answers went out 200).
    expect(sample(text, 'llmtap_requests_total', { ...haiku, status_class: '2xx' })).toBe(2);
    expect(sample(text, 'llmtap_requests_total', { ...mini, status_class: '2xx' })).toBe(1);
    promtoolCheck(text);
    // The README's error rate over these series as scraped, growing by 8 + 2 requests a minute, 3 of them failed
    // (no 4xx/5xx series at all: `or vector(0)`).
    const series = (name: string, labels: Record<string, string>) => text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))!.replace(/ \S+$/, '');
    const rate = '((sum(rate(llmtap_requests_total{status_class=~"4xx|5xx|none"}[5m])) or vector(0)) + (sum(rate(llmtap_provider_errors_total[5m])) or vector(0))) / sum(rate(llmtap_requests_total[5m]))';
    expect(readFileSync('README.md', 'utf8')).toContain(`\`${rate}\``);
    const input: [string, string][] = [
      [series('llmtap_requests_total', { ...haiku, status_class: '2xx' }), '0+8x10'], [series('llmtap_requests_total', { ...mini, status_class: '2xx' }), '0+2x10'],
      [series('llmtap_provider_errors_total', { ...haiku, type: 'overloaded_error' }), '0+3x10'],
    ];
    promtoolAlert(`${rate} > 0.25`, input, [{}], '5m');
    promtoolAlert(`${rate} > 0.35`, input, [], '5m');
  });

  it('counts llmtap errors by code and tunnels', async () => {
    // A CONNECT to a host the proxy refuses (its own port): forbidden_target.
    const refused = await request('https://127.0.0.1:1/', { dispatcher: tp.agent }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    const text = await (await scrape(tp)).body.text();
    expect(sample(text, 'llmtap_errors_total', { code: 'forbidden_target' })).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^llmtap_tunnels_total \d+$/m);
    expect(text).toMatch(/^llmtap_open_tunnels \d+$/m);
    promtoolCheck(text);
  });

  it('budgets: each rule\'s limit and its spend this period per key, as the proxy charges it (for an alert at 80 %)', async () => {
    const policy = loadPolicyText([
      'rules:',
      '  - {id: daily, budget: {usd: 10, period: day, per: model}}',
      '  - {id: Watch-Users, mode: monitor, budget: {usd: 100, period: month, per: user}}',
    ].join('\n'), 'policy.yaml');
    const pol = await startTestProxy(fake, { metrics: true, policy });
    try {
      const before = await (await scrape(pol)).body.text();
      expect(sample(before, 'llmtap_budget_limit_usd', { rule: 'daily', period: 'day', per: 'model', mode: 'enforce' })).toBe(10);
      expect(sample(before, 'llmtap_budget_limit_usd', { rule: 'watch-users', period: 'month', per: 'user', mode: 'monitor' })).toBe(100);
      expect(before).not.toContain('llmtap_budget_spent_usd{');
      const openai = new OpenAI({ apiKey: 'sk-test-openai-sdk-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: pol.agent } as never, maxRetries: 0 });
      await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
      const rows = await eventually(() => {
        const r = exported(pol);
        expect(r).toHaveLength(2);
        return r;
      });
      const cost = (model: string) => rows.find((r) => r.model === model)!.cost_usd!;
      const text = await eventually(async () => {
        const t = await (await scrape(pol)).body.text();
        expect(sample(t, 'llmtap_budget_spent_usd', { rule: 'daily', key: 'model:gpt-4o' })).toBeGreaterThan(0);
        return t;
      });
      expect(sample(text, 'llmtap_budget_spent_usd', { rule: 'daily', key: 'model:gpt-4o-mini' })).toBeCloseTo(cost('gpt-4o-mini'), 12);
      expect(sample(text, 'llmtap_budget_spent_usd', { rule: 'daily', key: 'model:gpt-4o' })).toBeCloseTo(cost('gpt-4o'), 12);
      // The first enforced budget rule decides; a monitor rule before it would be charged too, one after it is not.
      expect(text).not.toContain('llmtap_budget_spent_usd{rule="watch-users"');
      promtoolCheck(text);
      // The README's alert, over these series as scraped (their own label sets), 9 and 1 of the 10 USD spent.
      const series = (name: string, key?: string) => text.split('\n').find((l) => l.startsWith(`${name}{rule="daily"`) && (!key || l.includes(`key="${key}"`)))!.replace(/ \S+$/, '');
      promtoolAlert('llmtap_budget_spent_usd / on(rule) group_left llmtap_budget_limit_usd > 0.8', [
        [series('llmtap_budget_limit_usd'), 10], [series('llmtap_budget_spent_usd', 'model:gpt-4o'), 9], [series('llmtap_budget_spent_usd', 'model:gpt-4o-mini'), 1],
      ], [{ rule: 'daily', key: 'model:gpt-4o' }]);
    } finally {
      await pol.close();
    }
  });

  it('is off unless asked for, and on a gateway only for its admins (uiAdmins): it names every user\'s budget spend', async () => {
    expect((await scrape(off)).statusCode).toBe(404);
    const anonymous = await scrape(gw);
    expect(anonymous.statusCode).toBe(401);
    expect(await anonymous.body.text()).not.toContain('llmtap_requests');
    // A proxy user who is not an admin is refused as the web UI's policy page refuses them.
    const user = await scrape(gw, { authorization: basic('dev', 'dev pass') });
    expect(user.statusCode).toBe(403);
    expect(user.headers['x-llmtap-error']).toBe('forbidden');
    const refusal = await user.body.json() as { error: { type: string; code: string; message: string } };
    expect(refusal.error).toMatchObject({ type: 'llmtap_error', code: 'forbidden', message: expect.stringContaining('uiAdmins') });
    expect(JSON.stringify(refusal)).not.toContain('llmtap_budget');
    // Logged for the operator as a refused login is: once, at warn, the user and the client's address, never the password.
    const refusals = () => gwLog.text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === '/metrics refused');
    expect(refusals()).toEqual([expect.objectContaining({ level: 40, user: 'dev', client: '127.0.0.1', reason: 'not_admin' })]);
    expect(gwLog.text()).not.toContain('dev pass');
    const ok = await scrape(gw, { authorization: basic('ops', 'secret pass') });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.text()).toContain('# TYPE llmtap_requests_total counter');
    expect(refusals()).toHaveLength(1); // the admin's scrape is no refusal
  });
});

/** The value of one sample whose labels are exactly `labels`; NaN when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? '').split(/,(?=[a-zA-Z_]\w*=")/).filter(Boolean).sort().join(',');
    if (got === want) return Number(m[3]);
  }
  return Number.NaN;
}

const PROMTOOL = spawnSync('promtool', ['--version']).status === 0;

/** `promtool check metrics` (Debian's prometheus package); skipped with a message when absent. */
function promtoolCheck(text: string): void {
  if (!PROMTOOL) {
    console.warn('promtool not installed (apt-get install prometheus): exposition format not validated');
    return;
  }
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  // promtool exits 1 for lint problems too (naming); print them so a failure says what.
  expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
  expect(run.status).toBe(0);
}

/** `promtool test rules`: an alert over input series (constant values) fires for exactly `firing` (their labels). */
function promtoolAlert(expr: string, input: [series: string, value: number | string][], firing: Record<string, string>[], evalTime = '1m'): void {
  if (!PROMTOOL) return void console.warn('promtool not installed (apt-get install prometheus): alert expression not checked');
  const dir = mkdtempSync(join(tmpdir(), 'llmtap-promtool-'));
  try {
    writeFileSync(join(dir, 'rules.yml'), JSON.stringify({ groups: [{ name: 'llmtap', rules: [{ alert: 'Checked', expr }] }] }));
    writeFileSync(join(dir, 'test.yml'), JSON.stringify({
      rule_files: ['rules.yml'], evaluation_interval: '1m',
      tests: [{
        interval: '1m', input_series: input.map(([series, value]) => ({ series, values: typeof value === 'string' ? value : `${value} ${value}` })),
        alert_rule_test: [{ eval_time: evalTime, alertname: 'Checked', exp_alerts: firing.map((labels) => ({ exp_labels: labels })) }],
      }],
    }));
    const run = spawnSync('promtool', ['test', 'rules', 'test.yml'], { cwd: dir, encoding: 'utf8' });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
