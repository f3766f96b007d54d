/**
 * Writer-thread CPU per recorded exchange, without sockets: encodes the bench's chat
 * exchange (bench/clients.ts body, bench/fake-upstream.ts answer) and hands it to the
 * ArchiveWriter of a build in batches of 16, as the worker would, on a file archive.
 *
 *   node --import tsx bench/writer-cpu.ts [dist dir (default dist/)] [exchanges (default 20000)] [batch size (default 16)]
 *
 * Takes a dist directory so two builds can be compared on the same machine minutes apart.
 * POLICY=1 gives each exchange what the bench's 10-rule policy leaves on it (its decisions and
 * the price its budget charge computed), for the writer's share of the policy's cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = resolve(process.argv[2] ?? 'dist');
const total = Number(process.argv[3] ?? 20_000);
const load = (p: string): Promise<any> => import(pathToFileURL(join(dist, p)).href);
const { ArchiveWriter } = await load('recorder/writer.js');
const { encodeRecord } = await load('recorder/record-codec.js');
const { openArchive } = await load('recorder/db.js');
const { makeExchange, now } = await load('exchange.js');

const requestBody = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello.' }] }));
const responseBody = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 11, completion_tokens: 9, total_tokens: 20 }, system_fingerprint: 'fp_bench',
}));

function frame(): Uint8Array {
  const t = now();
  const usage = { inputTokens: 11, outputTokens: 9 };
  const ex = makeExchange({
    provider: 'openai', api: 'chat.completions', client: { address: '127.0.0.1', userAgent: 'node' },
    target: { host: 'api.openai.com', port: 443, tls: true },
    request: { method: 'POST', path: '/v1/chat/completions', headers: ['host', 'api.openai.com', 'content-type', 'application/json', 'authorization', 'Bearer sk-bench-000000000000'], body: { bytes: requestBody, size: requestBody.length, truncated: false }, model: 'gpt-4o-mini', stream: false },
    response: { status: 200, headers: ['content-type', 'application/json', 'x-request-id', 'req_bench'], body: { bytes: responseBody, size: responseBody.length, truncated: false },
      reassembled: { model: 'gpt-4o-mini', text: 'Hello! How can I help you today?', toolCalls: [], usage, stopReason: 'stop', events: 0 } },
    usage, timings: { start: t, requestEnd: t + 0.1, upstreamHeaders: t + 1, firstByte: t + 1, end: t + 1.2 }, outcome: 'completed',
    tool: { name: 'openai-sdk' },
  });
  // POLICY=1: what the bench's 10-rule policy leaves on such an exchange (a credentials decision,
  // a cache miss, the price the budget charge computed).
  if (process.env.POLICY) {
    ex.policy = { decisions: [
      { rule: 'cache-miss', kind: 'cache', action: 'miss', enforced: true, key: '9ddfae638de24792' },
      { rule: 'gateway-key', kind: 'credentials', action: 'inject', enforced: true, upstream: 'https://api.openai.com', header: 'authorization', source: 'env:LLMTAP_BENCH_UPSTREAM_KEY' },
    ] };
    ex.price = { usd: 0.0000071, source: 'api' };
  }
  return encodeRecord({ kind: 'exchange', exchange: ex });
}

const dir = mkdtempSync(join(tmpdir(), 'llmtap-writer-cpu-'));
const writer = new ArchiveWriter(() => openArchive(join(dir, 'archive.db')), () => {});
const BATCH = Number(process.argv[4] ?? 16);
const frames = Array.from({ length: total }, frame);
const run = (from: number, to: number): void => {
  for (let i = from; i < to; i += BATCH) {
    const out = writer.write(frames.slice(i, Math.min(to, i + BATCH)));
    if (out.error) throw new Error(out.error.message);
  }
};
const warm = Math.min(2000, total / 5);
run(0, warm);
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
run(warm, total);
const cpu = process.cpuUsage(cpu0);
const wall = Number(process.hrtime.bigint() - t0) / 1000;
const n = total - warm;
console.log(`${dist}: ${((cpu.user + cpu.system) / n).toFixed(1)} µs CPU per exchange (${(wall / n).toFixed(1)} µs wall), ${n} exchanges in batches of ${BATCH}`);
writer.close();
rmSync(dir, { recursive: true, force: true });
