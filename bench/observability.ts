/**
 * µs of event-loop time per finished exchange for --metrics (Prometheus counters, with
 * the cost priced on the main thread) and --otlp-endpoint (building and queueing the
 * span): `node --import tsx bench/observability.ts`. Both run after the client has its
 * last byte, once per recorded exchange.
 */
import { makeExchange, type Exchange } from '../src/exchange.js';
import { silentLogger } from '../src/log.js';
import { PrometheusMetrics } from '../src/metrics/prometheus.js';
import { startOtlpExport } from '../src/otel/otlp-export.js';
import { builtInRedactor } from '../src/redact/redactor.js';

const chat = (model: string, i: number): Exchange => makeExchange({
  provider: 'openai', api: 'chat.completions', tool: { name: 'openai-sdk-node' },
  request: { model, stream: true, body: { bytes: Buffer.from(JSON.stringify({ model, messages: [{ role: 'user', content: `hello ${i}` }] })), size: 60, truncated: false } },
  response: { status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { model, text: 'Hello there, how can I help?', toolCalls: [], events: 12, stopReason: 'stop', usage: { inputTokens: 12000, cachedInputTokens: 8000, outputTokens: 500 } } },
  usage: { inputTokens: 12000, cachedInputTokens: 8000, outputTokens: 500 },
  outcome: 'completed', timings: { start: Date.now() - 900, firstByte: Date.now() - 700, end: Date.now() },
});

function time(label: string, n: number, run: (i: number) => void): void {
  for (let i = 0; i < Math.min(n, 2000); i++) run(i); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) run(i);
  console.log(`${label}: ${(Number(process.hrtime.bigint() - t0) / 1e3 / n).toFixed(1)} µs per exchange`);
}

const sources = {
  errors: () => ({}), inFlight: () => 0, openConnections: () => 0, openWebSockets: () => 0,
  tunnels: () => ({ opened: 0, closed: 0 }), archive: () => ({ recorded: 0, lost: 0, pending: 0, healthy: true }), prices: () => undefined, budgets: () => [],
};
const metrics = new PrometheusMetrics(sources);
const priced = chat('gpt-4o-2024-08-06', 0);
const unpriced = chat('no-such-model', 0);
time('prometheus observe, priced model (gpt-4o)', 50_000, () => metrics.observe(priced));
time('prometheus observe, unknown model (no price)', 50_000, () => metrics.observe(unpriced));
const t0 = process.hrtime.bigint();
const text = await metrics.render();
console.log(`prometheus scrape: ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(2)} ms, ${text.length} bytes`);

for (const content of [false, true, false, true]) {
  // A fresh exporter per round, measured below its 2048-span queue so that no span is
  // dropped (cheaper) and none is sent; the first two rounds warm the JIT up.
  const otlp = startOtlpExport({ endpoint: 'http://127.0.0.1:9/v1/traces', content, redactor: () => builtInRedactor, logger: silentLogger(), scheduledDelayMillis: 3_600_000 });
  const exchanges = Array.from({ length: 2000 }, (_, i) => chat('gpt-4o', i));
  const t = process.hrtime.bigint();
  for (const ex of exchanges) otlp.export(ex);
  console.log(`otlp span${content ? ' with content' : ''}: ${(Number(process.hrtime.bigint() - t) / 1e3 / exchanges.length).toFixed(1)} µs per exchange`);
}
process.exit(0);
