import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { TargetSpec } from './clients.js';
import type { BenchParams } from './config.js';
import type { BlastResult, ClosedResult, HostsResult, Job, SseResult, StreamsResult } from './loadgen.js';
import type { LoadGen } from './loadgen-client.js';
import { cpuMsOf, memOf, nextMessage, pinProcess, resetPeak, sleep, startNoiseMeter } from './procs.js';
import type { Progress } from './progress.js';
import type { BenchResults, Cell, HostsFigures, LoadFigures, StreamsFigures } from './results.js';
import { startPipe, type FakeInfo } from './systems.js';

export interface MeasureContext {
  P: BenchParams;
  quick: boolean;
  tmp: string;
  fake: FakeInfo;
  fakeChild: ChildProcess;
  load: LoadGen;
  progress: Progress;
  noise: BenchResults['noise'];
}

/** The measurements every system shares, each reading the processes it needs around its window. */
export function makeMeasures(ctx: MeasureContext) {
  const { P, quick, tmp, fake, fakeChild, load, progress, noise } = ctx;

  const fakeStats = async (): Promise<{ tlsConnections: number }> => {
    fakeChild.send({ cmd: 'stats' });
    return (await nextMessage<{ stats: { tlsConnections: number } }>(fakeChild, (m) => m.stats, 5000, 'fake stats')).stats;
  };


  /** Runs one phase; a failure becomes an {error} cell and the run goes on. */
  const phase = async <T>(system: string, what: string, estimate: number, fn: () => Promise<T>): Promise<Cell<T>> => {
    const done = progress.phase(system, what, estimate);
    const meter = startNoiseMeter();
    try {
      return await fn();
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      progress.note(`${system}: ${what} FAILED: ${msg}`);
      return { error: msg.slice(0, 200) };
    } finally {
      const pct = meter();
      noise.push({ system, what, otherCpuPct: pct });
      if (pct > 30) progress.note(`  other processes used ${pct.toFixed(0)} % of a core during this phase`);
      done();
    }
  };

  /** A closed-loop run with the proxy's and the fake's CPU read over the measured window only. */
  const loadRun = async (target: TargetSpec, concurrency: number, pid: number | undefined, count?: number): Promise<LoadFigures> => {
    let cpu0 = NaN;
    let fcpu0 = NaN;
    let conns0 = 0;
    let marking: Promise<void> = Promise.resolve();
    const job: Job = count !== undefined
      ? { kind: 'closed', target, concurrency, warmup: { count: P.c1Warmup }, count }
      : { kind: 'closed', target, concurrency, warmup: { ms: P.loadWarmupMs }, durationMs: P.loadMs };
    const r = await load.run<ClosedResult>(job, (ev) => {
      if (ev.phase !== 'measuring') return;
      cpu0 = pid ? cpuMsOf(pid) : NaN;
      fcpu0 = cpuMsOf(fakeChild.pid!);
      marking = fakeStats().then((s) => void (conns0 = s.tlsConnections));
    });
    const cpu1 = pid ? cpuMsOf(pid) : NaN;
    const fcpu1 = cpuMsOf(fakeChild.pid!);
    await marking;
    const conns1 = (await fakeStats()).tlsConnections;
    const cpuMs = cpu1 - cpu0;
    return {
      ...r,
      proxyCpuPct: pid ? (cpuMs / r.elapsedMs) * 100 : undefined,
      proxyCpuUsPerReq: pid ? (cpuMs * 1000) / r.requests : undefined,
      fakeCpuPct: ((fcpu1 - fcpu0) / r.elapsedMs) * 100,
      upstreamConnsOpened: conns1 - conns0,
    };
  };

  const sseRun = (target: TargetSpec): Promise<SseResult> =>
    load.run<SseResult>({ kind: 'sse', target, streams: P.sse.streams, concurrency: P.sse.concurrency, events: P.sse.events, gapMs: P.sse.gapMs });

  const hostsRun = async (target: TargetSpec, pattern: string, pid?: number): Promise<HostsFigures> => {
    const r = await load.run<HostsResult>({ kind: 'hosts', target, count: P.hosts.count, capMs: P.hosts.capMs, pattern, warmupHosts: 5 });
    return { ...r, rssAfter: pid ? memOf(pid)?.rss : undefined };
  };

  const streamsRun = async (target: TargetSpec, pid: number): Promise<StreamsFigures> => {
    await sleep(quick ? 300 : 1000); // let the previous phase's garbage settle
    const baselineRss = memOf(pid)?.rss ?? NaN;
    const peakResettable = resetPeak(pid);
    let peakRss = baselineRss;
    const sampler = setInterval(() => {
      const m = memOf(pid);
      if (m) peakRss = Math.max(peakRss, m.rss);
    }, 100);
    let r: StreamsResult;
    try {
      r = await load.run<StreamsResult>({ kind: 'streams', target, count: P.streams.count, rampCapMs: P.streams.rampCapMs, holdMs: P.streams.holdMs, gapMs: P.streams.gapMs }, undefined, P.streams.rampCapMs + 120_000);
    } finally {
      clearInterval(sampler);
    }
    const m = memOf(pid);
    if (m && peakResettable) peakRss = Math.max(peakRss, m.hwm);
    const closedAt = Date.now();
    const afterRss: { ms: number; rss: number }[] = [];
    for (const ms of P.streams.afterMs) {
      await sleep(Math.max(0, closedAt + ms - Date.now()));
      afterRss.push({ ms, rss: memOf(pid)?.rss ?? NaN });
    }
    return { ...r, baselineRss, peakRss, afterRss };
  };

  // The plain-pipe baseline stays up all run: each tunnel figure is measured alternately with it.
  let pipe: Awaited<ReturnType<typeof startPipe>> | undefined;
  const pipeProcess = async (): Promise<Awaited<ReturnType<typeof startPipe>>> => (pipe ??= await startPipe(tmp, fake));
  /**
   * On 2 cores, three processes (generator, relay, blaster) land wherever the scheduler
   * puts them, and a loopback relay's speed and CPU per GB roughly halve when it shares
   * a core with the process it writes to: runs of the same build swung between 53 % and
   * 107 % of the pipe. So while bytes are relayed, the relay (llmtap, mitmdump or the
   * pipe; all threads) gets core 0 and the generator and blaster core 1, for the
   * system and the pipe alike; everything is unpinned afterwards.
   */
  const pinned = <T>(relays: (number | undefined)[], fn: () => Promise<T>): Promise<T> => {
    const cpus = availableParallelism();
    const ends = [load.pid, fakeChild.pid];
    if (cpus < 2 || ends.some((pid) => !pid)) return fn();
    const all = `0-${cpus - 1}`;
    const ok = relays.every((pid) => !pid || pinProcess(pid, '0')) && ends.every((pid) => pinProcess(pid!, '1'));
    if (!ok) progress.note('taskset unavailable: tunnel figures measured without CPU pinning');
    return fn().finally(() => {
      for (const pid of [...relays, ...ends]) if (pid) pinProcess(pid, all);
    });
  };
  const blastRun = async (port: number, connect?: string, paired = true, pid?: number): Promise<BlastResult> => {
    const p = await pipeProcess();
    const run = async (): Promise<BlastResult> => {
      // CPU of the relaying process per run: a figure that other load on the machine distorts less than MB/s.
      const cpu = { system: 0, baseline: 0 };
      let mark = 0;
      const r = await load.run<BlastResult>({ kind: 'blast', port, connect, bytes: P.tunnelBytes, runs: quick ? 3 : 5, baselinePort: paired ? p.port : undefined }, (ev) => {
        if (ev.phase !== 'blast') return;
        const who = ev.which === 'baseline' ? p.pid : (pid ?? p.pid);
        if (ev.which === 'system' && !pid && !paired) return;
        if (ev.edge === 'start') mark = cpuMsOf(who);
        else cpu[ev.which as 'system' | 'baseline'] += cpuMsOf(who) - mark;
      });
      const gb = (P.tunnelBytes * r.runs.length) / 1e9;
      return { ...r, cpuMsPerGB: pid ? cpu.system / gb : undefined, baselineCpuMsPerGB: paired ? cpu.baseline / gb : undefined };
    };
    // Direct (no relay, no pid) stays unpinned: it is the reference, not a relay.
    return pid || !paired ? pinned([pid, p.pid], run) : run();
  };

  return { phase, loadRun, sseRun, hostsRun, streamsRun, blastRun, fakeStats, pipeProcess };
}
