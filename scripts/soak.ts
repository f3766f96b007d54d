/**
 * Soak test: llmtap (built, as a child process) under a steady load of concurrent
 * OpenAI/Anthropic exchanges, streaming and not, against the loopback fake provider.
 *
 *   npm run soak -- --minutes 10 --streams 200
 *   npm run soak -- --minutes 0.5 --streams 20          (quick check)
 *
 * Options: --minutes M (fractional ok, default 10), --streams N concurrent exchanges
 * (default 200), --gap-ms MS between SSE events (default 120: streams last ~1–3 s),
 * --interval S between progress lines (default 10), --keep (keep the temp home).
 *
 * Every 10 s: exchanges sent/completed/failed, proxy RSS (/proc/PID/status), the
 * proxy's response time to GET / (its status JSON, as a liveness probe of its event
 * loop) and this process's own event-loop delay. At the end: SIGTERM, exit code,
 * the archive read back with `llmtap export`, sent vs recorded (must be equal),
 * RSS min/max/last and slope over the second half, and this process's open handles.
 * Exit code 0 only when every exchange completed and was recorded and llmtap exited 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Agent, ProxyAgent, request } from 'undici';
import { startFakeProvider, type FakeProvider } from '../test/helpers/fake-provider.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    streams: { type: 'string', default: '200' },
    'gap-ms': { type: 'string', default: '120' },
    interval: { type: 'string', default: '10' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});

function positive(name: string, text: string | undefined, integer: boolean): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    process.stderr.write(`soak: --${name} ${text}: expected a positive ${integer ? 'integer' : 'number'}\n`);
    process.exit(2);
  }
  return n;
}

const MINUTES = positive('minutes', args.minutes, false);
const STREAMS = positive('streams', args.streams, true);
const GAP_MS = positive('gap-ms', args['gap-ms'], false);
const INTERVAL_S = positive('interval', args.interval, false);
const DURATION_MS = MINUTES * 60_000;
const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number): number => bytes / (1024 * 1024);
const fmt = (n: number, digits = 1): string => n.toFixed(digits);

// ---------------------------------------------------------------------------
// The proxy as a child process.

interface Child {
  proc: ChildProcess;
  port: number;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startLlmtap(home: string, fake: FakeProvider): Promise<Child> {
  const argv = [
    CLI, 'start', '--home', home, '--port', '0', '--log-level', 'warn',
    '--upstream-ca', fake.caFile,
    '--connect-to', `api.openai.com:443:127.0.0.1:${fake.port}`,
    '--connect-to', `api.anthropic.com:443:127.0.0.1:${fake.port}`,
    '--drain-timeout', '60',
  ];
  const proc = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr!.pipe(createWriteStream(join(home, 'llmtap.log')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    const timer = setTimeout(() => reject(new Error('llmtap printed no banner within 30 s')), 30_000);
    lines.on('line', (line) => {
      const m = /^llmtap listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`llmtap exited before listening (code ${code}, signal ${signal}); see ${join(home, 'llmtap.log')}`)));
  });
  return { proc, port, pid: proc.pid!, exited };
}

function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Load.

type Kind = 'openai-stream' | 'anthropic-stream' | 'openai-json' | 'anthropic-json';
const KINDS: Array<[Kind, number]> = [['openai-stream', 0.4], ['anthropic-stream', 0.3], ['openai-json', 0.15], ['anthropic-json', 0.15]];

function pickKind(): Kind {
  let r = Math.random();
  for (const [kind, weight] of KINDS) if ((r -= weight) < 0) return kind;
  return 'openai-stream';
}

const counts = { sent: 0, completed: 0, failed: 0 };
const failures = new Map<string, number>();
const sentIds = new Set<string>();

async function oneExchange(agent: ProxyAgent, kind: Kind): Promise<void> {
  const id = randomUUID();
  const anthropic = kind.startsWith('anthropic');
  const stream = kind.endsWith('stream');
  const tools = Math.random() < 0.2 ? [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }] : undefined;
  const body = anthropic
    ? { model: 'claude-sonnet-4-5', max_tokens: 64, stream, messages: [{ role: 'user', content: `soak ${id}` }], ...(tools ? { tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] } : {}) }
    : { model: 'gpt-4o-mini', stream, ...(stream ? { stream_options: { include_usage: true } } : {}), messages: [{ role: 'user', content: `soak ${id}` }], ...(tools ? { tools } : {}) };
  const url = anthropic ? 'https://api.anthropic.com/v1/messages' : 'https://api.openai.com/v1/chat/completions';
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-soak-id': id };
  if (anthropic) Object.assign(headers, { 'x-api-key': 'sk-ant-soak-not-a-real-key-000000000000', 'anthropic-version': '2023-06-01' });
  else headers.authorization = 'Bearer sk-soak-not-a-real-key-0000000000000000';

  counts.sent++;
  sentIds.add(id);
  try {
    const res = await request(url, { method: 'POST', dispatcher: agent, headers, body: JSON.stringify(body) });
    let text = '';
    for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    const ok = !stream ? JSON.parse(text) !== null : anthropic ? text.includes('event: message_stop') : text.includes('data: [DONE]');
    if (!ok) throw new Error('incomplete body');
    counts.completed++;
  } catch (err) {
    counts.failed++;
    const key = `${kind}: ${(err as Error).message}`.slice(0, 120);
    failures.set(key, (failures.get(key) ?? 0) + 1);
  }
}

async function worker(agent: ProxyAgent, until: number): Promise<void> {
  // Spread the start so the first wave does not arrive in one instant.
  await sleep(Math.random() * Math.min(2000, DURATION_MS / 4));
  while (Date.now() < until) await oneExchange(agent, pickKind());
}

// ---------------------------------------------------------------------------
// Measurements.

interface Sample { t: number; rss: number }
const rssSamples: Sample[] = [];
const probeMs: number[] = [];
let probeFailures = 0;
let lastStatus: { inFlight?: number; recorder?: { recorded?: number; lost?: number; pending?: number } } = {};

async function probeStatus(direct: Agent, port: number): Promise<void> {
  const t0 = performance.now();
  try {
    const res = await request(`http://127.0.0.1:${port}/`, { dispatcher: direct, headersTimeout: 10_000, bodyTimeout: 10_000 });
    lastStatus = (await res.body.json()) as typeof lastStatus;
    probeMs.push(performance.now() - t0);
  } catch {
    probeFailures++;
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Largest value (NaN for none); no spread, so long runs cannot overflow the argument list. */
function maxOf(values: number[]): number {
  let max = NaN;
  for (const v of values) if (!(v <= max)) max = v;
  return max;
}

/** Least-squares slope of RSS (MB) against time (minutes). */
function slopeMbPerMin(samples: Sample[]): number {
  if (samples.length < 2) return NaN;
  const xs = samples.map((s) => s.t / 60_000);
  const ys = samples.map((s) => mb(s.rss));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

async function readArchive(home: string): Promise<{ lines: number; ids: Set<string>; outcomes: Map<string, number>; code: number | null }> {
  const proc = spawn(process.execPath, [CLI, 'export', '--home', home, '--format', 'jsonl'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ids = new Set<string>();
  const outcomes = new Map<string, number>();
  let lines = 0;
  for await (const line of createInterface({ input: proc.stdout! })) {
    if (!line) continue;
    lines++;
    const row = JSON.parse(line) as { outcome: string | null; request: { headers: Record<string, string | string[]> } };
    const id = row.request.headers['x-soak-id'];
    if (typeof id === 'string') ids.add(id);
    const outcome = row.outcome ?? 'null';
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  const code = await new Promise<number | null>((resolve) => (proc.exitCode !== null ? resolve(proc.exitCode) : proc.once('exit', (c) => resolve(c))));
  return { lines, ids, outcomes, code };
}

// ---------------------------------------------------------------------------

async function main(): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), 'llmtap-soak-'));
  const fake = await startFakeProvider();
  fake.eventGapMs = GAP_MS;
  const child = await startLlmtap(home, fake);
  const caPem = readFileSync(join(home, 'certs', 'llmtap-ca.pem'), 'utf8');
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${child.port}`, requestTls: { ca: caPem }, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const direct = new Agent({ connections: 1 });
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  console.log(`soak: llmtap pid ${child.pid} on 127.0.0.1:${child.port}, home ${home}`);
  console.log(`soak: ${STREAMS} concurrent exchanges for ${MINUTES} min, SSE event gap ${GAP_MS} ms, fake provider on 127.0.0.1:${fake.port}`);

  const started = Date.now();
  const until = started + DURATION_MS;
  let intervalProbes: number[] = [];
  const sampler = setInterval(() => {
    const rss = rssBytes(child.pid);
    if (rss !== undefined) rssSamples.push({ t: Date.now() - started, rss });
    const before = probeMs.length;
    void probeStatus(direct, child.port).then(() => {
      if (probeMs.length > before) intervalProbes.push(probeMs[probeMs.length - 1]!);
    });
  }, 1000);
  const reporter = setInterval(() => {
    const rss = rssSamples.at(-1)?.rss;
    const line = `[${fmt((Date.now() - started) / 1000, 0).padStart(5)}s] ` + [
      `sent ${counts.sent} completed ${counts.completed} failed ${counts.failed} open ${counts.sent - counts.completed - counts.failed}`,
      `proxy rss ${rss === undefined ? '?' : fmt(mb(rss))} MB`,
      `GET / ${fmt(percentile(intervalProbes, 50))} ms p50, ${fmt(maxOf(intervalProbes))} ms max (inFlight ${lastStatus.inFlight ?? '?'}, recorder pending ${lastStatus.recorder?.pending ?? '?'})`,
      `soak loop delay p99 ${fmt(loopDelay.percentile(99) / 1e6)} ms max ${fmt(loopDelay.max / 1e6)} ms`,
    ].join(' | ');
    console.log(line);
    intervalProbes = [];
    loopDelay.reset();
  }, INTERVAL_S * 1000);

  await Promise.all(Array.from({ length: STREAMS }, () => worker(agent, until)));
  const loadEnded = Date.now();
  clearInterval(sampler);
  clearInterval(reporter);
  loopDelay.disable();
  await probeStatus(direct, child.port);

  // Graceful stop: SIGTERM, and it must exit 0 on its own.
  const stopStart = Date.now();
  child.proc.kill('SIGTERM');
  let killTimer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([child.exited, new Promise<{ code: null; signal: 'timeout' }>((resolve) => { killTimer = setTimeout(() => resolve({ code: null, signal: 'timeout' }), 90_000); })]);
  clearTimeout(killTimer);
  const stopMs = Date.now() - stopStart;
  if (exit.signal === 'timeout') child.proc.kill('SIGKILL');

  const archive = await readArchive(home);
  const missing = [...sentIds].filter((id) => !archive.ids.has(id)).length;

  await agent.close();
  await direct.close();
  await fake.close();
  // Let closed handles go before listing what is still open.
  await sleep(200);
  const handles = process.getActiveResourcesInfo();

  const rssAll = rssSamples.map((s) => mb(s.rss));
  const loadMs = loadEnded - started;
  const secondHalf = rssSamples.filter((s) => s.t >= loadMs / 2);
  const slope = slopeMbPerMin(secondHalf);
  const recordedOk = archive.lines === counts.sent && missing === 0;
  const exitOk = exit.code === 0;
  const verdict = recordedOk && exitOk && counts.failed === 0 && archive.code === 0;

  const summary = [
    '',
    '=== llmtap soak summary ===',
    `duration          ${fmt(loadMs / 60_000, 2)} min of load, ${STREAMS} concurrent exchanges (OpenAI/Anthropic, SSE and JSON), SSE gap ${GAP_MS} ms`,
    `exchanges         sent ${counts.sent}, completed ${counts.completed}, failed ${counts.failed} (${fmt(counts.sent / (loadMs / 1000))}/s)`,
    ...[...failures].map(([k, n]) => `  failure         ${n} × ${k}`),
    `archive           ${archive.lines} exchanges recorded, ${missing} sent but not recorded; outcomes ${JSON.stringify(Object.fromEntries(archive.outcomes))}${archive.code === 0 ? '' : `; export exit ${archive.code}`}`,
    `sent vs recorded  ${recordedOk ? 'EQUAL' : 'MISMATCH'}`,
    `proxy RSS         min ${fmt(-maxOf(rssAll.map((x) => -x)))} MB, max ${fmt(maxOf(rssAll))} MB, last ${fmt(rssAll.at(-1) ?? NaN)} MB; slope over 2nd half ${fmt(slope, 2)} MB/min (${secondHalf.length} samples)`,
    `proxy GET /       p50 ${fmt(percentile(probeMs, 50))} ms, p99 ${fmt(percentile(probeMs, 99))} ms, max ${fmt(maxOf(probeMs))} ms over ${probeMs.length} probes${probeFailures ? `, ${probeFailures} failed` : ''}`,
    `shutdown          SIGTERM → exit code ${exit.code}${exit.signal ? ` (signal ${exit.signal})` : ''} after ${fmt(stopMs / 1000, 2)} s`,
    `soak open handles ${handles.length === 0 ? 'none' : JSON.stringify(handles)}`,
    `verdict           ${verdict ? 'PASS' : 'FAIL'}`,
    '',
  ].join('\n');
  console.log(summary);
  // A failed run keeps its home (archive and llmtap.log) for a look.
  if (verdict && !args.keep) rmSync(home, { recursive: true, force: true });
  else console.log(`kept ${home} (llmtap.log, llmtap.db)`);
  return verdict ? 0 : 1;
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error('soak: crashed:', err);
    process.exitCode = 1;
  },
);
