import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Run in a child process against the build (dist/), where Node's own module cache says
 * what was loaded: the OpenTelemetry SDK (~17 MB, ~70 ms at start) must not be, until an
 * OTLP endpoint is configured.
 */
const CHILD = `
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const sdkLoaded = () => Object.keys(require.cache).some((k) => k.includes('sdk-trace-base'));
await import('./dist/proxy/server.js');
await import('./dist/cli/start.js');
await import('./dist/cli/run-proxy.js');
const before = sdkLoaded();
const bodies = [];
const collector = createServer((req, res) => { let b = ''; req.on('data', (c) => (b += c)); req.on('end', () => { bodies.push(b); res.end('{}'); }); });
await new Promise((r) => collector.listen(0, '127.0.0.1', r));
const { startOtlpExport } = await import('./dist/otel/otlp-export.js');
const { makeExchange } = await import('./dist/exchange.js');
const { builtInRedactor } = await import('./dist/redact/redactor.js');
const exporter = startOtlpExport({ endpoint: 'http://127.0.0.1:' + collector.address().port + '/v1/traces', content: false, redactor: () => builtInRedactor, logger: { warn() {} }, scheduledDelayMillis: 20 });
// Ends before the SDK has loaded: held, then exported.
exporter.export(makeExchange({ provider: 'openai', api: 'chat.completions', request: { model: 'gpt-held-while-loading' }, timings: { start: Date.now(), end: Date.now() + 1 }, outcome: 'completed' }));
await exporter.shutdown();
collector.close();
console.log(JSON.stringify({ before, after: sdkLoaded(), sent: bodies.join('').includes('gpt-held-while-loading') }));
`;

describe('OTLP export loads the OpenTelemetry SDK only when asked for', () => {
  it('not loaded by the proxy and its start command; loaded by startOtlpExport, which holds exchanges that end meanwhile', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: resolve('.'), encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ before: false, after: true, sent: true });
  });
});
