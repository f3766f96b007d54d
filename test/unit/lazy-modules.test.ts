import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Run in a child process against the build (dist/), where Node's own module cache says
 * what was loaded. A proxy that nobody asks for metrics, Bedrock streams or prices on its
 * event loop, and has no policy or --prices file, must not hold prom-client, the AWS
 * event-stream codec, the price data, the YAML parser or the schema validator (~33 MB of
 * idle memory, ~250 ms of start together); each loads when it is first needed. Nor do the
 * CLI's other commands load the HTTP client or node-forge before they need them.
 */
const CHILD = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => ['prom-client', '@smithy/eventstream-codec', '@pydantic/genai-prices', 'yaml', 'ajv', 'undici', 'node-forge'].filter((name) => Object.keys(require.cache).some((k) => k.includes('/node_modules/' + name + '/')));
// The proxy and every command module (llmtap itself loads only the command it runs).
await import('./dist/proxy/server.js');
for (const c of ['start', 'run-proxy', 'ca', 'check-config', 'env', 'export', 'pac', 'passwd', 'purge', 'replay', 'run', 'sessions', 'show', 'stats', 'tail', 'trust', 'doctor', 'mock', 'policy-test', 'cache-report']) await import('./dist/cli/' + c + '.js');
const atStart = loaded();
const { bedrockConverse } = await import('./dist/providers/bedrock.js');
bedrockConverse.createReducer('application/vnd.amazon.eventstream');
const afterBedrock = loaded();
const { PrometheusMetrics } = await import('./dist/metrics/prometheus.js');
const metrics = new PrometheusMetrics({ errors: () => ({}), inFlight: () => 0, openConnections: () => 0, openWebSockets: () => 0, tunnels: () => ({ opened: 0, closed: 0 }), archive: () => ({ recorded: 0, lost: 0, pending: 0, healthy: true }), prices: () => undefined });
const afterMetrics = loaded();
await metrics.ready;
const { priceExchange } = await import('./dist/cost/price-exchange.js');
const usd = priceExchange({ provider: 'openai', host: 'api.openai.com', api: 'chat.completions', model: 'gpt-4o', usage: { inputTokens: 1000000, outputTokens: 0 }, at: Date.now(), subscription: false }).usd;
const afterReady = loaded();
// A certificate made: node-forge (undici stays unloaded: no upstream pool here).
const { loadOrCreateCa } = await import('./dist/tls/ca.js');
const { mkdtempSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
loadOrCreateCa(join(mkdtempSync(join(tmpdir(), 'llmtap-lazy-')), 'certs'));
const afterCa = loaded();
const { loadPolicyText } = await import('./dist/policy/load.js');
loadPolicyText('rules: [{id: a, action: deny, match: {model: "x*"}}]');
console.log(JSON.stringify({ atStart, afterBedrock, afterMetrics, afterReady, afterCa, afterPolicy: loaded(), usd }));
`;

describe('modules a proxy may never need are loaded when first needed', () => {
  it('not by the proxy and its commands at start; the event-stream codec with a Bedrock stream, prom-client with --metrics, the price data when the metrics (or budgets, or the live view) price, YAML and the validator with a policy', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: resolve('.'), encoding: 'utf8' });
    const seen = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(seen).toMatchObject({
      atStart: [],
      afterBedrock: ['@smithy/eventstream-codec'],
      afterMetrics: ['prom-client', '@smithy/eventstream-codec'],
      afterReady: ['prom-client', '@smithy/eventstream-codec', '@pydantic/genai-prices'],
      afterCa: ['prom-client', '@smithy/eventstream-codec', '@pydantic/genai-prices', 'node-forge'],
      afterPolicy: ['prom-client', '@smithy/eventstream-codec', '@pydantic/genai-prices', 'yaml', 'ajv', 'node-forge'],
    });
    expect(seen.usd).toBeGreaterThan(0); // gpt-4o input, from the package's data
  });
});
