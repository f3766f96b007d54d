/**
 * Microbenchmark: the policy stage's cost per request (applyPolicy: facts, the
 * bench's 10 rules, every built-in detector over the message text, the token
 * bucket) for the bench's small chat request and for a 20 KB agent turn, with
 * nothing to redact (the common case) and with an email to replace. Each body is
 * timed twice: seen for the first time (every message's text new: each request a
 * different body) and resent (the same body again, as an agent resends its
 * conversation with every turn: long texts already found clean are not scanned again).
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
/** First-sight bodies are all built before timing: fewer of them (each is a distinct body of up to 16 KB). */
const firstSightIterations = Math.min(iterations, 2_000);
const runtime = { policy: loadPolicyText(BENCH_POLICY, 'bench-policy.yaml'), buckets: new PolicyBuckets() };
const prose = 'The quick brown fox jumps over the lazy dog while the build runs; task-runner and max_tokens stay. ';
const code = 'function add(a: number, b: number): number {\n  return a + b; // version 1.2.3, port 8080\n}\n';

/** The bodies, each message's text starting with `mark` (a different mark: text never seen before). */
function bodiesMarked(mark: string): Record<string, unknown> {
  const agentTurn: unknown[] = [{ role: 'system', content: mark + prose.repeat(40) }];
  for (let i = 0; i < 8; i++) {
    agentTurn.push({ role: 'user', content: `${mark}${prose.repeat(8)}\n\`\`\`ts\n${code.repeat(4)}\`\`\`` });
    agentTurn.push({ role: 'tool', tool_call_id: `call_${i}`, content: mark + code.repeat(3) });
  }
  return {
    'small chat (bench body)': { model: 'gpt-4o-mini', messages: [{ role: 'system', content: `${mark}You are terse.` }, { role: 'user', content: 'Say hello.' }] },
    '20 KB agent turn': { model: 'gpt-4o-mini', max_tokens: 1000, messages: agentTurn },
    '20 KB agent turn + one email': { model: 'gpt-4o-mini', max_tokens: 1000, messages: [...agentTurn, { role: 'user', content: 'mail jane@example.org' }] },
  };
}

/** A mark of letters only (digits, dots or `@` would wake detectors the unmarked text does not). */
function mark(i: number): string {
  return `${i.toString(26).replace(/[0-9]/g, (d) => 'qrstuvwxyz'[Number(d)]!)}: `;
}

/** µs per applyPolicy over the given bodies in turn (a fresh copy each time: the stage parses it, as the proxy does, and may change it). */
function stageMicros(bodies: Buffer[], rounds: number): number {
  const run = (body: Buffer): void => {
    const copy = Buffer.from(body);
    const ex = makeExchange({ provider: 'openai', api: 'chat.completions', request: { path: '/v1/chat/completions', model: 'gpt-4o-mini', headers: ['User-Agent', 'OpenAI/JS 6.3.0'] } });
    applyPolicy(runtime, ex, ['content-length', String(copy.length)], copy);
  };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) run(bodies[i % bodies.length]!);
  return Number(process.hrtime.bigint() - t0) / 1000 / rounds;
}

const resentBodies = bodiesMarked('');
for (const name of Object.keys(resentBodies)) {
  const body = Buffer.from(JSON.stringify(resentBodies[name]));
  // Warm-up (the JIT) on other texts, so the first-sight round meets none it has seen.
  stageMicros(Array.from({ length: 1_000 }, (_, i) => Buffer.from(JSON.stringify(bodiesMarked(`warm ${mark(i)}`)[name]))), 2_000);
  const fresh = Array.from({ length: firstSightIterations }, (_, i) => Buffer.from(JSON.stringify(bodiesMarked(mark(i))[name])));
  const firstSight = stageMicros(fresh, firstSightIterations);
  stageMicros([body], 500);
  const resent = stageMicros([body], iterations);
  // In the proxy the provider parser has already parsed the body (shared parse): the policy's own share.
  const parsed = JSON.parse(body.toString()) as unknown;
  const ex = makeExchange({ provider: 'openai', api: 'chat.completions', client: { address: '127.0.0.1' }, request: { path: '/v1/chat/completions', model: 'gpt-4o-mini' } });
  const facts = factsOf(ex, runtime.policy.teams);
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) evaluatePolicy(runtime.policy, facts, parsed, runtime.buckets);
  const evalUs = Number(process.hrtime.bigint() - t1) / 1000 / iterations;
  process.stdout.write(`${name} (${body.length} B): stage ${firstSight.toFixed(1)} µs per request seen for the first time, ${resent.toFixed(1)} µs resent (exchange set-up and JSON parse included); rules + detectors alone, resent ${evalUs.toFixed(1)} µs\n`);
}
