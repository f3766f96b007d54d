/**
 * The load generator, in its own process so that its CPU use is its own (it still
 * shares the 2-core machine with the fake provider and the proxy under test).
 * Jobs arrive over IPC as {id, job}; answers go back as {id, result} or {id, error},
 * with {id, event} messages for phases the orchestrator must react to (RSS sampling).
 *
 * Closed-loop model: N workers, each with its own keep-alive connection, send the
 * next request as soon as the previous one completes (no coordinated-omission issue
 * for the throughput figure; latency at c>1 therefore includes queueing).
 */
import { setMaxListeners } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { chatOnce, makeDispatcher, streamOnce, type TargetSpec } from './clients.js';
import { Samples, monoMs, summarize, type Summary } from './stats.js';

export type Job =
  | { kind: 'closed'; target: TargetSpec; concurrency: number; warmup: { count?: number; ms?: number }; count?: number; durationMs?: number; ratePerSec?: number }
  | { kind: 'sse'; target: TargetSpec; streams: number; concurrency: number; events: number; gapMs: number }
  | { kind: 'hosts'; target: TargetSpec; count: number; capMs: number; pattern: string; warmupHosts: number }
  | { kind: 'streams'; target: TargetSpec; count: number; rampCapMs: number; holdMs: number; gapMs: number }
  | { kind: 'blast'; port: number; connect?: string; bytes: number; runs: number; baselinePort?: number };

export interface ClosedResult { latency: Summary; requests: number; errors: number; elapsedMs: number; warmupMs: number; rps: number; loadgenCpuPct: number }
export interface SseResult { ttft: Summary; delay: Summary; streams: number; events: number; errors: number }
export interface HostsResult {
  perHost: Summary; done: number; wanted: number; totalMs: number; capped: boolean; errors: number; firstMs: number;
  /** Server certificates the client accepted (one per new host), and how many distinct public keys they carried. */
  certificates: number; serverKeys: number;
}
export interface StreamsResult { count: number; maxFlowing: number; rampMs: number; errors: number; allFlowing: boolean }
export interface BlastResult {
  runs: { ms: number; bytes: number; mbps: number }[];
  /** Median over the runs, MB/s (10^6 bytes). */
  mbps: number;
  /** The baseline (plain socket pipe) measured alternately with the system in the same phase. */
  baselineMbps?: number;
  /** CPU time of the relaying process per GB relayed (set by the orchestrator). */
  cpuMsPerGB?: number;
  baselineCpuMsPerGB?: number;
}

const MAX_ERRORS = 50;

/**
 * Stops at `count` requests started, or at the deadline; with both, at whichever comes last.
 * With `ratePerSec`, requests start on a fixed schedule (a worker waits for its slot) unless
 * the system falls behind it: two proxies compared at the same request rate do the same
 * number of event-loop turns and system calls per second, so their CPU per request differs
 * only by the work they do (in a closed loop a slower proxy also batches less per turn).
 */
async function workers(d: Dispatcher, host: string, concurrency: number, stopAt: { count?: number; deadline?: number }, samples?: Samples, ratePerSec?: number): Promise<{ done: number; errors: number }> {
  let started = 0;
  const t0 = performance.now();
  let done = 0;
  let errors = 0;
  let lastError: unknown;
  const more = (): boolean => (stopAt.count !== undefined && started < stopAt.count) || (stopAt.deadline !== undefined && performance.now() < stopAt.deadline);
  const worker = async (): Promise<void> => {
    while (more()) {
      if (ratePerSec) {
        const wait = t0 + (started * 1000) / ratePerSec - performance.now();
        started++;
        if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
      } else started++;
      try {
        const ms = await chatOnce(d, host);
        samples?.push(ms);
        done++;
      } catch (err) {
        lastError = err;
        if (++errors > MAX_ERRORS) throw new Error(`too many errors (${errors}); last: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (errors > 0 && done === 0) throw new Error(`every request failed; last: ${(lastError as Error)?.message}`);
  return { done, errors };
}

async function closed(job: Extract<Job, { kind: 'closed' }>, emit: (event: unknown) => void): Promise<ClosedResult> {
  const d = makeDispatcher(job.target, job.concurrency);
  try {
    const w = job.warmup;
    // A timed warm-up also sends at least 5 requests per connection, so that a proxy whose
    // upstream pool grows lazily has grown before the measured window (the time it took is reported).
    const w0 = performance.now();
    await workers(d, job.target.host, job.concurrency, w.count !== undefined ? { count: w.count } : { deadline: w0 + (w.ms ?? 500), count: 5 * job.concurrency }, undefined, job.ratePerSec);
    const warmupMs = performance.now() - w0;
    emit({ phase: 'measuring' });
    const samples = new Samples();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { done, errors } = await workers(d, job.target.host, job.concurrency, job.count !== undefined ? { count: job.count } : { deadline: t0 + job.durationMs! }, samples, job.ratePerSec);
    const elapsedMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { latency: summarize(samples.values()), requests: done, errors, elapsedMs, warmupMs, rps: (done / elapsedMs) * 1000, loadgenCpuPct: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100 };
  } finally {
    await d.destroy();
  }
}

async function sse(job: Extract<Job, { kind: 'sse' }>, emit: (event: unknown) => void): Promise<SseResult> {
  const d = makeDispatcher(job.target, job.concurrency);
  try {
    // Warm-up: open every connection once.
    await Promise.all(Array.from({ length: job.concurrency }, () => streamOnce(d, job.target.host, 3, 1, { collect: false })));
    emit({ phase: 'measuring' });
    const ttft = new Samples();
    const delay = new Samples();
    let next = 0;
    let errors = 0;
    let events = 0;
    const worker = async (): Promise<void> => {
      while (next < job.streams) {
        next++;
        try {
          const t = await streamOnce(d, job.target.host, job.events, job.gapMs);
          ttft.push(t.ttft);
          for (const v of t.delays) delay.push(v);
          events += t.events;
        } catch (err) {
          if (++errors > MAX_ERRORS) throw new Error(`too many stream errors; last: ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: job.concurrency }, worker));
    return { ttft: summarize(ttft.values()), delay: summarize(delay.values()), streams: ttft.length, events, errors };
  } finally {
    await d.destroy();
  }
}

async function hosts(job: Extract<Job, { kind: 'hosts' }>, emit: (event: unknown) => void): Promise<HostsResult> {
  // A proxy that generates a key per host shows as many keys as hosts; one key made at start shows 1.
  const keys = new Set<string>();
  let certificates = 0;
  const d = makeDispatcher(job.target, 1, (cert) => {
    certificates++;
    keys.add(cert.pubkey?.toString('base64') ?? cert.fingerprint256);
  });
  try {
    for (let i = 0; i < job.warmupHosts; i++) await chatOnce(d, job.pattern.replace('{i}', `warm${i}`));
    emit({ phase: 'measuring' });
    const per = new Samples();
    let errors = 0;
    const t0 = performance.now();
    let capped = false;
    for (let i = 0; i < job.count; i++) {
      if (performance.now() - t0 > job.capMs) {
        capped = true;
        break;
      }
      try {
        per.push(await chatOnce(d, job.pattern.replace('{i}', String(i))));
      } catch (err) {
        if (++errors > MAX_ERRORS) throw new Error(`too many errors; last: ${(err as Error).message}`);
      }
    }
    const totalMs = performance.now() - t0;
    return { perHost: summarize(per.values()), done: per.length, wanted: job.count, totalMs, capped, errors, firstMs: per.values()[0] ?? NaN, certificates, serverKeys: keys.size };
  } finally {
    await d.destroy();
  }
}

async function streams(job: Extract<Job, { kind: 'streams' }>, emit: (event: unknown) => void): Promise<StreamsResult> {
  const d = makeDispatcher(job.target, job.count);
  const ac = new AbortController();
  setMaxListeners(0, ac.signal); // one signal for every stream
  const events = Math.ceil((job.rampCapMs + job.holdMs + 15_000) / job.gapMs);
  let flowing = 0;
  let maxFlowing = 0;
  let errors = 0;
  let wake: (() => void) | undefined;
  const t0 = performance.now();
  const all = Array.from({ length: job.count }, () =>
    streamOnce(d, job.target.host, events, job.gapMs, {
      signal: ac.signal,
      collect: false,
      onFirst: () => {
        flowing++;
        maxFlowing = Math.max(maxFlowing, flowing);
        if (flowing === job.count) wake?.();
      },
    }).catch(() => {
      if (!ac.signal.aborted) errors++;
    }).finally(() => {
      if (!ac.signal.aborted) flowing = Math.max(0, flowing - 1);
    }));
  await new Promise<void>((resolve) => {
    wake = resolve;
    setTimeout(resolve, job.rampCapMs);
  });
  const rampMs = performance.now() - t0;
  emit({ phase: 'peak', flowing, rampMs });
  await new Promise((r) => setTimeout(r, job.holdMs));
  const allFlowing = maxFlowing === job.count;
  ac.abort();
  await Promise.allSettled(all);
  await d.destroy();
  return { count: job.count, maxFlowing, rampMs, errors, allFlowing };
}

function blastOnce(port: number, connectTo: string | undefined, bytes: number): Promise<{ ms: number; bytes: number; mbps: number }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let received = 0;
    let t0 = 0;
    const start = (): void => {
      t0 = monoMs();
      socket.write(`${bytes}\n`);
    };
    socket.once('error', reject);
    socket.once('connect', () => {
      if (!connectTo) return start();
      socket.write(`CONNECT ${connectTo} HTTP/1.1\r\nHost: ${connectTo}\r\n\r\n`);
    });
    let head = connectTo ? Buffer.alloc(0) : undefined;
    socket.on('data', (chunk: Buffer) => {
      if (head) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!/^HTTP\/1\.[01] 200/.test(status)) return reject(new Error(`CONNECT answered ${status}`));
        received += head.length - end - 4;
        head = undefined;
        start();
        return;
      }
      received += chunk.length;
    });
    socket.once('end', () => {
      const ms = monoMs() - t0;
      socket.destroy();
      if (received < bytes) return reject(new Error(`short transfer: ${received} of ${bytes} bytes`));
      resolve({ ms, bytes: received, mbps: received / 1e6 / (ms / 1000) });
    });
  });
}

async function blast(job: Extract<Job, { kind: 'blast' }>, emit: (event: unknown) => void): Promise<BlastResult> {
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // Warm-up, then system and baseline alternately so that drifting background load hits both alike.
  // Events around each run let the orchestrator read the relaying process's CPU time.
  await blastOnce(job.port, job.connect, 4 * 1024 * 1024);
  if (job.baselinePort) await blastOnce(job.baselinePort, undefined, 4 * 1024 * 1024);
  const runs = [];
  const base = [];
  const timed = async (which: 'system' | 'baseline', port: number, connect?: string): Promise<{ ms: number; bytes: number; mbps: number }> => {
    emit({ phase: 'blast', which, edge: 'start' });
    await new Promise((r) => setTimeout(r, 20)); // let the orchestrator take its reading first
    const r = await blastOnce(port, connect, job.bytes);
    emit({ phase: 'blast', which, edge: 'end' });
    await new Promise((r2) => setTimeout(r2, 20));
    return r;
  };
  for (let i = 0; i < job.runs; i++) {
    if (job.baselinePort) base.push((await timed('baseline', job.baselinePort)).mbps);
    runs.push(await timed('system', job.port, job.connect));
  }
  return { runs, mbps: median(runs.map((r) => r.mbps)), baselineMbps: base.length ? median(base) : undefined };
}

process.on('message', (msg: { id: number; job: Job }) => {
  const { id, job } = msg;
  const emit = (event: unknown): void => void process.send!({ id, event });
  const run = (): Promise<unknown> => {
    switch (job.kind) {
      case 'closed': return closed(job, emit);
      case 'sse': return sse(job, emit);
      case 'hosts': return hosts(job, emit);
      case 'streams': return streams(job, emit);
      case 'blast': return blast(job, emit);
    }
  };
  run().then(
    (result) => process.send!({ id, result }),
    (err: Error) => process.send!({ id, error: err.message ?? String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
