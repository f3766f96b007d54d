import { describe, expect, it } from 'vitest';
import { BoundedLabel, normaliseLabel, statusClass } from '../../src/metrics/labels.js';
import { PrometheusMetrics, type MetricsSources } from '../../src/metrics/prometheus.js';
import { makeExchange } from '../../src/exchange.js';

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

  it('a flood of made-up model names stays within the cap', async () => {
    const sources: MetricsSources = {
      errors: () => ({}), inFlight: () => 0, openConnections: () => 0, openWebSockets: () => 0,
      tunnels: () => ({ opened: 0, closed: 0 }), archive: () => ({ recorded: 0, lost: 0, pending: 0, healthy: true }), prices: () => undefined,
    };
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
