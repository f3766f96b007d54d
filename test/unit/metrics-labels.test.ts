import { describe, expect, it } from 'vitest';
import { BoundedLabel, normaliseLabel, statusClass } from '../../src/metrics/labels.js';
import { budgetSeries, PrometheusMetrics, type MetricsSources } from '../../src/metrics/prometheus.js';
import { makeExchange } from '../../src/exchange.js';
import { createRedactor } from '../../src/redact/redactor.js';

describe('metric labels', () => {
  it('normalises values to a short, safe alphabet', () => {
    expect(normaliseLabel('GPT-4o-Mini')).toBe('gpt-4o-mini');
    expect(normaliseLabel('anthropic/claude "x"\n{y}')).toBe('anthropic/claude_x_y_');
    expect(normaliseLabel('us.anthropic.claude-sonnet-4-20250514-v1:0')).toBe('us.anthropic.claude-sonnet-4-20250514-v1:0');
    expect(normaliseLabel('m'.repeat(500))).toHaveLength(64);
    expect(normaliseLabel(undefined)).toBe('none');
    expect(normaliseLabel('  ')).toBe('none');
  });

  it('admits the first `cap` distinct values and reports the rest as "other"', () => {
    const label = new BoundedLabel(2);
    expect([label.value('a'), label.value('B'), label.value('c'), label.value('b'), label.value('a')]).toEqual(['a', 'b', 'other', 'b', 'a']);
    expect(label.size).toBe(2);
  });

  it('status classes', () => {
    expect([statusClass(200), statusClass(429), statusClass(503), statusClass(0), statusClass(undefined)]).toEqual(['2xx', '4xx', '5xx', 'none', 'none']);
  });

  const sources: MetricsSources = {
    errors: () => ({}), inFlight: () => 0, openConnections: () => 0, openWebSockets: () => 0,
    tunnels: () => ({ opened: 0, closed: 0 }), archive: () => ({ recorded: 0, lost: 0, pending: 0, healthy: true }), prices: () => undefined, budgets: () => [],
  };

  it('a routed exchange is counted (and its cost) under the provider and model it went to, not the ones asked for', async () => {
    const metrics = new PrometheusMetrics(sources);
    await metrics.ready; // the pricing module (the proxy listens only once it is loaded)
    const answered = { status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false } };
    metrics.observe(makeExchange({
      provider: 'openai', api: 'chat.completions', request: { model: 'cheap-alias' }, response: answered, usage: { inputTokens: 1_000_000, outputTokens: 1_000_000 },
      // At noon UTC: DeepSeek halves its prices from 16:30 to 00:30 UTC, and the price data knows it.
      timings: { start: Date.UTC(2026, 5, 1, 12), end: Date.UTC(2026, 5, 1, 12, 0, 1) },
      policy: { decisions: [], route: { from: { upstream: 'https://api.openai.com', model: 'cheap-alias' }, to: { upstream: 'https://api.deepseek.com', model: 'deepseek-chat' } } },
    }));
    metrics.observe(makeExchange({ provider: 'openai', api: 'chat.completions', request: { model: 'gpt-4o' }, response: answered }));
    const text = await metrics.render();
    // deepseek-chat: $0.27/M in + $1.10/M out (standard hours).
    expect(text).toContain('llmtap_cost_usd_total{provider="deepseek",model="deepseek-chat",tool="none"} 1.37');
    expect(text).toContain('llmtap_requests_total{provider="deepseek",api="chat.completions",model="deepseek-chat",tool="none",status_class="2xx"} 1');
    expect(text).toContain('llmtap_requests_total{provider="openai",api="chat.completions",model="gpt-4o",tool="none",status_class="2xx"} 1');
    expect(text).not.toContain('cheap-alias');
  });

  it('budget spend series: one per rule and key, normalised, and past 500 keys a rule\'s keys summed as other', () => {
    const row = (rule: string, keys: number, usd: number) => ({
      rule, per: 'user', period: 'day', periodStart: 0, periodEnd: 0, budgetUsd: 1, warnAt: 0.8, mode: 'enforce',
      keys: Array.from({ length: keys }, (_, i) => ({ key: `user:U${i}`, spentUsd: usd, used: usd, state: 'ok' as const })),
    });
    const small = [...budgetSeries([row('Daily', 2, 0.5)])];
    expect(small).toEqual([[{ rule: 'daily', key: 'user:u0' }, 0.5], [{ rule: 'daily', key: 'user:u1' }, 0.5]]);
    const flood = [...budgetSeries([row('a', 400, 1), row('b', 300, 2)])];
    expect(flood).toHaveLength(501);
    expect(flood.find(([l]) => l.rule === 'b' && l.key === 'other')![1]).toBe(200 * 2);
    expect(flood.filter(([l]) => l.rule === 'a')).toHaveLength(400);
  });

  it('label values from the traffic go through the redactor: a key sent as a model or a user agent, an operator pattern', async () => {
    const metrics = new PrometheusMetrics({ ...sources, redactor: () => createRedactor([/EMP-\d{6}/g]) });
    const answered = { status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false } };
    metrics.observe(makeExchange({ provider: 'openai', api: 'chat.completions', request: { model: 'sk-proj-MODELSECRETabcdefghijklmnopqrstuvwx' }, tool: { name: 'sk-proj-UASECRETabcdefghijklmnopqrstuvwxyz' }, response: answered }));
    metrics.observe(makeExchange({ provider: 'openai', api: 'chat.completions', request: { model: 'ft:gpt-4o-mini:acme:EMP-123456' }, response: answered }));
    const text = await metrics.render();
    expect(text).not.toMatch(/modelsecret|uasecret|emp-123456/i);
    expect(text).toContain('model="ft:gpt-4o-mini:acme:_redacted_"');
    const keys = budgetSeries([{ rule: 'r', per: 'model', period: 'day', periodStart: 0, periodEnd: 0, budgetUsd: 1, warnAt: 0.8, mode: 'enforce', keys: [{ key: 'model:sk-proj-KEYSECRETabcdefghijklmnopqrstuvw', spentUsd: 1, used: 1, state: 'ok' }] }], (k) => createRedactor().text(k));
    expect(JSON.stringify(keys)).not.toMatch(/keysecret/i);
  });

  it('provider errors: a 2xx the provider ended with its error, by kind as the archive stores it (redacted), the kinds capped', async () => {
    const metrics = new PrometheusMetrics({ ...sources, redactor: () => createRedactor([/EMP-\d{6}/g]) });
    const answer = (status: number, stopReason: string | undefined, outcome: 'completed' | 'client_aborted' = 'completed') => metrics.observe(makeExchange({
      provider: 'gemini', api: 'gemini.generateContent', request: { model: 'gemini-2.5-flash' }, outcome,
      response: { status, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { text: '', toolCalls: [], events: 1, ...(stopReason ? { stopReason } : {}) } },
    }));
    answer(200, 'RESOURCE_EXHAUSTED');
    answer(200, 'RESOURCE_EXHAUSTED', 'client_aborted');
    answer(200, 'STOP');
    answer(200, undefined);
    answer(503, 'UNAVAILABLE'); // an error status: counted by status_class already
    answer(200, 'EMP-123456_error');
    for (let i = 0; i < 40; i++) answer(200, `made_up_${i}_error`);
    const text = await metrics.render();
    const series = text.split('\n').filter((l) => l.startsWith('llmtap_provider_errors_total{'));
    const by = 'provider="gemini",api="gemini.generatecontent",model="gemini-2.5-flash",tool="none"';
    expect(series).toContain(`llmtap_provider_errors_total{${by},type="resource_exhausted"} 2`);
    expect(series).toContain(`llmtap_provider_errors_total{${by},type="_redacted__error"} 1`);
    expect(text).not.toMatch(/emp-123456|type="unavailable"|type="stop"/i);
    expect(series).toHaveLength(31); // 30 kinds, then "other"
    expect(series.find((l) => l.includes('type="other"'))).toMatch(/ 12$/);
  });

  it('a flood of made-up model names stays within the cap', async () => {
    const metrics = new PrometheusMetrics(sources);
    for (let i = 0; i < 1000; i++) {
      metrics.observe(makeExchange({ provider: 'openai', api: 'chat.completions', request: { model: `model-${i}` }, response: { status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false } } }));
    }
    const text = await metrics.render();
    const series = text.split('\n').filter((l) => l.startsWith('llmtap_requests_total{'));
    expect(series).toHaveLength(101); // 100 models, then "other"
    expect(series.find((l) => l.includes('model="other"'))).toMatch(/ 900$/);
  });
});
