/**
 * Microbenchmark: the policy stage's cost per request (applyPolicy: facts, the
 * bench's 10 rules, every built-in detector over the message text, the token
 * bucket) for the bench's small chat request and for a 20 KB agent turn, with
 * nothing to redact (the common case) and with an email to replace (replaced
 * once; later rounds of the evaluate-only loop find the placeholder).
 *
 *   node --import tsx bench/policy-eval.ts [iterations]
 */
import { makeExchange } from '../src/exchange.js';
import { evaluatePolicy, factsOf, PolicyBuckets } from '../src/policy/evaluate.js';
import { loadPolicyText } from '../src/policy/load.js';
import { applyPolicy } from '../src/policy/stage.js';
import { BENCH_KEY_ENV, BENCH_POLICY } from './policy-file.js';

process.env[BENCH_KEY_ENV] ??= 'sk-bench-gateway-key';

const iterations = Number(process.argv[2] ?? 20_000);
const runtime = { policy: loadPolicyText(BENCH_POLICY, 'bench-policy.yaml'), buckets: new PolicyBuckets() };
const prose = 'The quick brown fox jumps over the lazy dog while the build runs; task-runner and max_tokens stay. ';
const code = 'function add(a: number, b: number): number {\n  return a + b; // version 1.2.3, port 8080\n}\n';
const agentTurn: unknown[] = [{ role: 'system', content: prose.repeat(40) }];
for (let i = 0; i < 8; i++) {
  agentTurn.push({ role: 'user', content: `${prose.repeat(8)}\n\`\`\`ts\n${code.repeat(4)}\`\`\`` });
  agentTurn.push({ role: 'tool', tool_call_id: `call_${i}`, content: code.repeat(3) });
}
const bodies: Record<string, Buffer> = {
  'small chat (bench body)': Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello.' }] })),
  '20 KB agent turn': Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 1000, messages: agentTurn })),
  '20 KB agent turn + one email': Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 1000, messages: [...agentTurn, { role: 'user', content: 'mail jane@example.org' }] })),
};
for (const [name, body] of Object.entries(bodies)) {
  const run = (): void => {
    // A fresh copy each time: the stage parses it (as the proxy does) and may change it.
    const copy = Buffer.from(body);
    const ex = makeExchange({ provider: 'openai', api: 'chat.completions', request: { path: '/v1/chat/completions', model: 'gpt-4o-mini', headers: ['User-Agent', 'OpenAI/JS 6.3.0'] } });
    applyPolicy(runtime, ex, ['content-length', String(copy.length)], copy);
  };
  for (let i = 0; i < 500; i++) run();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / iterations;
  // In the proxy the provider parser has already parsed the body (shared parse): the policy's own share.
  const parsed = JSON.parse(body.toString()) as unknown;
  const ex = makeExchange({ provider: 'openai', api: 'chat.completions', client: { address: '127.0.0.1' }, request: { path: '/v1/chat/completions', model: 'gpt-4o-mini' } });
  const facts = factsOf(ex, runtime.policy.teams);
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) evaluatePolicy(runtime.policy, facts, parsed, runtime.buckets);
  const evalUs = Number(process.hrtime.bigint() - t1) / 1000 / iterations;
  process.stdout.write(`${name} (${body.length} B): stage ${us.toFixed(1)} µs per request (exchange set-up and JSON parse included), rules + detectors alone ${evalUs.toFixed(1)} µs\n`);
}
