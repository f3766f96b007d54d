/**
 * `npm run bench [-- --quick] [-- --only direct,llmtap,...] [-- --profile]`
 *
 * One run, everything on loopback: a fake HTTPS LLM provider, a load generator,
 * and each system under test in its own process — direct, llmtap (intercept +
 * record), llmtap tunnel, mitmproxy (mitmdump), http-mitm-proxy — then an
 * in-process llmtap for event-loop and recorder timing. Writes docs/benchmarks.md
 * and docs/benchmarks.svg and prints the tables to stdout; progress on stderr.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { archiveBytes, countRows } from './archive-size.js';
import { BENCH_CACHE_POLICY, BENCH_KEY_ENV, BENCH_POLICY } from './policy-file.js';
import { measurePolicyOverhead } from './policy-overhead.js';
import { makeFakeCerts } from './certs.js';
import { benchParams, type BenchParams } from './config.js';
import type { ClosedResult, Job, SseResult } from './loadgen.js';
import { LoadGen } from './loadgen-client.js';
import { forkTracked, installCleanup, memOf, nextMessage, sleep, stopAll } from './procs.js';
import { ensureMitmdump, machineInfo, snapshotDist, waitForQuiet } from './machine.js';
import { makeMeasures } from './measure.js';
import { runProfile } from './profile.js';
import { Progress } from './progress.js';
import { renderMarkdown, renderSvg, renderStdout } from './report.js';
import type { ArchiveFigures, BenchResults, InprocFigures, InprocReport, SystemId, SystemResult } from './results.js';
import { wsPhase } from './websocket.js';
import { directTarget, proxyTarget, startHttpMitmProxy, startLlmtap, startLlmtapInproc, startMitmdump, useDist, useLlmtapArgs, type FakeInfo, type RunningSystem } from './systems.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));


interface Args {
  quick: boolean;
  only?: Set<string>;
  profile: boolean;
  keep: boolean;
  dist?: string;
  llmtapArgs: string[];
  skip: Set<string>;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, profile: false, keep: false, llmtapArgs: [], skip: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.quick = true;
    else if (a === '--profile') args.profile = true;
    else if (a === '--keep') args.keep = true;
    else if (a === '--dist') args.dist = resolve(argv[++i]!);
    else if (a === '--llmtap-arg') args.llmtapArgs.push(argv[++i]!);
    else if (a === '--skip') for (const k of argv[++i]!.split(',')) args.skip.add(k);
    else if (a === '--only') args.only = new Set(argv[++i]!.split(','));
    else if (a.startsWith('--only=')) args.only = new Set(a.slice(7).split(','));
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run bench [-- --quick] [--only direct,llmtap,policy,cachehit,tunnel,mitmproxy,hmp,inproc,archive,ws] [--profile] [--keep] [--dist DIR (another llmtap build)] [--llmtap-arg ARG ...] [--skip c1,c16,c64,sse,hosts,streams,tunnel,overhead] (all but --quick/--profile/--keep write bench/out/)\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  installCleanup();
  const tmp = mkdtempSync(join(tmpdir(), 'llmtap-bench-'));
  // Run a private copy of the build: others may rebuild dist/ while a 10-minute run is going.
  useDist(snapshotDist(args.dist ?? join(ROOT, 'dist'), tmp));
  useLlmtapArgs(args.llmtapArgs);
  const P: BenchParams = benchParams(args.quick);
  const want = (id: string): boolean => !args.only || args.only.has(id);
  const skip = args.skip;
  const SKIPPED = { na: 'skipped (--skip)' } as const;
  const notes: string[] = [];

  // Rough plan for the ETA (ms per phase).
  const est = {
    c1: P.c1Count * 2 + 1000, load: P.loadMs + P.loadWarmupMs + 500,
    sse: Math.ceil(P.sse.streams / P.sse.concurrency) * P.sse.events * (P.sse.gapMs + 1) + 1000,
    hosts: Math.min(P.hosts.capMs, P.hosts.count * 6) + 1500, streams: 8000 + P.streams.holdMs + P.streams.afterMs.at(-1)!,
    blast: (P.tunnelBytes / 4e8) * 1000 * 3 + 1500, start: 1500,
    overhead: 2 * P.loadMs + P.overhead.rounds * 2 * (P.overhead.windowMs + 1500 + P.overhead.latencyRequests * 1.2),
  };
  const perProxy = est.start + est.c1 + 2 * est.load + est.sse + est.hosts + est.streams;
  const plan = [
    want('direct') ? est.c1 + 2 * est.load + est.sse + est.hosts + 2 * est.blast : 0,
    want('llmtap') ? perProxy + est.start : 0,
    want('policy') ? 2 * est.start + est.c1 + 2 * est.load + est.sse + est.overhead : 0,
    want('cachehit') ? est.start + est.c1 + est.load : 0,
    want('archive') ? 4 * est.start + 5000 : 0,
    want('tunnel') ? perProxy + est.blast : 0,
    want('mitmproxy') ? perProxy * 2 + est.blast : 0,
    want('hmp') ? perProxy * 1.5 : 0,
    want('inproc') ? est.start + 2 * est.load : 0,
    want('ws') ? 2 * est.start + 30_000 : 0,
  ].reduce((a, b) => a + b, 0);
  const phaseCount = (want('direct') ? 7 : 0) + (want('llmtap') ? 7 : 0) + (want('policy') ? 7 : 0) + (want('cachehit') ? 3 : 0) + (want('archive') ? 1 : 0) + (want('tunnel') ? 7 : 0) + (want('mitmproxy') ? 8 : 0) + (want('hmp') ? 7 : 0) + (want('inproc') ? 2 : 0) + (want('ws') ? 1 : 0);
  const progress = args.profile ? new Progress(3 * P.profileMs + 40_000, 4) : new Progress(plan, phaseCount);
  progress.note(`${args.quick ? 'quick' : 'full'} run; temp dir ${tmp}`);

  const mitm = want('mitmproxy') ? ensureMitmdump(progress) : { reason: 'not selected (--only)' };
  if (!args.quick) await waitForQuiet(progress, 90_000);
  const machine = machineInfo(mitm.version ?? `n/a (${mitm.reason})`);

  // The fake provider and the load generator live for the whole run.
  const certs = makeFakeCerts(tmp);
  const fakeChild = forkTracked(join(ROOT, 'bench', 'fake-upstream.ts'), [join(tmp, 'fake-leaf.pem'), join(tmp, 'fake-leaf-key.pem')]);
  const fakeReady = await nextMessage<{ httpsPort: number; blastPort: number }>(fakeChild, (m) => m.ready, 30_000, 'fake provider');
  const fake: FakeInfo = { httpsPort: fakeReady.httpsPort, blastPort: fakeReady.blastPort, caFile: certs.caFile, caPem: certs.caPem };
  const loadChild = forkTracked(join(ROOT, 'bench', 'loadgen.ts'), []);
  await nextMessage(loadChild, (m) => m.ready, 30_000, 'load generator');
  const load = new LoadGen(loadChild);

  if (args.profile) {
    await runProfile({ tmp, fake, load, params: P, progress });
    await stopAll();
    if (!args.keep) rmSync(tmp, { recursive: true, force: true });
    return;
  }

  const results: BenchResults = { params: P, machine, systems: [], notes, durationMs: 0, noise: [] };
  const { phase, loadRun, sseRun, hostsRun, streamsRun, blastRun, pipeProcess } = makeMeasures({ P, quick: args.quick, tmp, fake, fakeChild, load, progress, noise: results.noise });

  /** The shared suite for a proxy: latency, throughput, SSE, many new hosts, 1,000 streams. */
  const proxySuite = async (res: SystemResult, sys: RunningSystem, host: string, tunnelled: boolean, label: string): Promise<void> => {
    res.idleRss = memOf(sys.pid)?.rss;
    const target = proxyTarget(sys, fake, host, tunnelled);
    res.c1 = skip.has('c1') ? SKIPPED : await phase(label, `latency c=1 (${P.c1Count} requests)`, est.c1, () => loadRun(target, 1, sys.pid, P.c1Count));
    res.c16 = skip.has('c16') ? SKIPPED : await phase(label, `closed loop c=16 (${P.loadMs / 1000} s)`, est.load, () => loadRun(target, 16, sys.pid));
    res.c64 = skip.has('c64') ? SKIPPED : await phase(label, `closed loop c=64 (${P.loadMs / 1000} s)`, est.load, () => loadRun(target, 64, sys.pid));
    res.sse = skip.has('sse') ? SKIPPED : await phase(label, `SSE ${P.sse.streams} streams × ${P.sse.events} events`, est.sse, () => sseRun(target));
  };

  
  /** A fresh plain and a fresh policy proxy (same age, same archive size) taking turns: the policy row's "within noise", measured. */
  const overheadPhase = async (policyFile: string): Promise<BenchResults['policyOverhead']> => {
    const started = await phase('policy', 'start a plain and a policy llmtap side by side', 2 * est.start, async () => ({
      plain: await startLlmtap(tmp, fake, 'llmtap-plain-beside'), policy: await startLlmtap(tmp, fake, 'llmtap-policy-beside', { args: ['--policy', policyFile] }),
    }));
    if ('error' in started) return started as { error: string };
    const { plain, policy } = started as { plain: RunningSystem; policy: RunningSystem };
    try {
      return await phase('policy', `taking turns with plain recording: ${P.overhead.rounds} × ${P.overhead.latencyRequests} requests at c=1 and ${P.overhead.rounds} × ${P.overhead.windowMs / 1000} s at c=16, each`, est.overhead, () => measurePolicyOverhead(
        load, { target: proxyTarget(plain, fake), pid: plain.pid }, { target: proxyTarget(policy, fake), pid: policy.pid }, { rounds: P.overhead.rounds, windowMs: P.overhead.windowMs, warmupMs: P.loadWarmupMs, firstWarmupMs: P.loadMs, latencyRequests: P.overhead.latencyRequests },
      ));
    } finally {
      await Promise.all([plain.stop(), policy.stop()]);
    }
  };

  const row = (id: SystemId, label: string, na?: string): SystemResult => {
    const r: SystemResult = { id, label, na };
    results.systems.push(r);
    return r;
  };

  try {
    // ---- direct: the physical limit -------------------------------------------------
    const direct = row('direct', 'direct (no proxy)');
    if (want('direct')) {
      const t = directTarget(fake);
      direct.c1 = skip.has('c1') ? SKIPPED : await phase('direct', `latency c=1 (${P.c1Count} requests)`, est.c1, () => loadRun(t, 1, undefined, P.c1Count));
      direct.c16 = skip.has('c16') ? SKIPPED : await phase('direct', `closed loop c=16 (${P.loadMs / 1000} s)`, est.load, () => loadRun(t, 16, undefined));
      direct.c64 = skip.has('c64') ? SKIPPED : await phase('direct', `closed loop c=64 (${P.loadMs / 1000} s)`, est.load, () => loadRun(t, 64, undefined));
      direct.sse = skip.has('sse') ? SKIPPED : await phase('direct', `SSE ${P.sse.streams} streams × ${P.sse.events} events`, est.sse, () => sseRun(t));
      direct.hosts = skip.has('hosts') ? SKIPPED : await phase('direct', `first request to ${P.hosts.count} new hosts`, est.hosts, () => hostsRun(directTarget(fake, 'x'), 'h{i}.bench.test'));
      direct.streams = { na: 'no proxy process' };
      direct.tunnel = skip.has('tunnel') ? SKIPPED : await phase('direct', `raw TCP ${P.tunnelBytes / 2 ** 20} MiB, client → blaster`, est.blast, () => blastRun(fake.blastPort));
      results.pipe = await phase('pipe', `raw TCP ${P.tunnelBytes / 2 ** 20} MiB through a plain Node socket pipe`, est.blast, async () => {
        return blastRun((await pipeProcess()).port, undefined, false);
      });
    } else direct.na = 'not selected';

    // ---- llmtap, intercept + record (default config) ---------------------------------
    const llmtap = row('llmtap', 'llmtap intercept + record');
    if (want('llmtap')) {
      const started = await phase('llmtap', 'start (dist/cli/main.js start)', est.start, () => startLlmtap(tmp, fake, 'llmtap'));
      const sys = 'error' in started ? undefined : (started as RunningSystem);
      if (sys) {
        try {
          await proxySuite(llmtap, sys, 'api.openai.com', false, 'llmtap');
          llmtap.streams = skip.has('streams') ? SKIPPED : await phase('llmtap', `${P.streams.count} concurrent SSE streams (RSS)`, est.streams, () => streamsRun(proxyTarget(sys, fake), sys.pid));
        } finally {
          await sys.stop();
        }
        llmtap.tunnel = { na: 'intercepted: see the tunnel row' };
      } else llmtap.na = `did not start: ${(started as { error: string }).error}`;
      // New hosts need a wildcard on the intercept list: a second instance, fresh home.
      llmtap.hosts = skip.has('hosts') ? SKIPPED : await phase('llmtap', `first request to ${P.hosts.count} new intercepted hosts (--intercept '*.bench.test')`, est.hosts + est.start, async () => {
        const s = await startLlmtap(tmp, fake, 'llmtap-hosts', { args: ['--intercept', '*.bench.test'] });
        try {
          return await hostsRun(proxyTarget(s, fake, 'x'), 'h{i}.bench.test', s.pid);
        } finally {
          await s.stop();
        }
      });
    } else llmtap.na = 'not selected';

    // ---- llmtap with a 10-rule policy: every request evaluated, scanned, counted -----------
    const policy = row('policy', 'llmtap + 10-rule policy');
    if (want('policy')) {
      // In a folder of its own: llmtap watches the policy file's folder, and every proxy's log is written to tmp.
      const file = join(mkdtempSync(join(tmp, 'policy-')), 'bench-policy.yaml');
      writeFileSync(file, BENCH_POLICY);
      process.env[BENCH_KEY_ENV] ??= 'sk-bench-gateway-key';
      const started = await phase('policy', 'start (--policy, 10 rules)', est.start, () => startLlmtap(tmp, fake, 'llmtap-policy', { args: ['--policy', file] }));
      const sys = 'error' in started ? undefined : (started as RunningSystem);
      if (sys) {
        try {
          await proxySuite(policy, sys, 'api.openai.com', false, 'policy');
        } finally {
          await sys.stop();
        }
        if (!skip.has('overhead')) results.policyOverhead = await overheadPhase(file);
        policy.hosts = { na: 'n/a (same as llmtap)' };
        policy.streams = { na: 'n/a (same as llmtap)' };
        policy.tunnel = { na: 'n/a (intercepted)' };
      } else policy.na = `did not start: ${(started as { error: string }).error}`;
    } else policy.na = 'not selected';

    // ---- llmtap answering from its response cache (every request after the first is a hit) --
    const cached = row('cachehit', 'llmtap + cache hit');
    if (want('cachehit')) {
      const file = join(mkdtempSync(join(tmp, 'policy-')), 'bench-cache-policy.yaml');
      writeFileSync(file, BENCH_CACHE_POLICY);
      const started = await phase('cachehit', 'start (--policy, one cache rule)', est.start, () => startLlmtap(tmp, fake, 'llmtap-cache', { args: ['--policy', file] }));
      const sys = 'error' in started ? undefined : (started as RunningSystem);
      if (sys) {
        try {
          cached.idleRss = memOf(sys.pid)?.rss;
          const target = proxyTarget(sys, fake, 'api.openai.com', false);
          cached.c1 = skip.has('c1') ? SKIPPED : await phase('cachehit', `latency c=1 (${P.c1Count} requests)`, est.c1, () => loadRun(target, 1, sys.pid, P.c1Count));
          cached.c16 = skip.has('c16') ? SKIPPED : await phase('cachehit', `closed loop c=16 (${P.loadMs / 1000} s)`, est.load, () => loadRun(target, 16, sys.pid));
        } finally {
          await sys.stop();
        }
        cached.c64 = { na: 'n/a (see c=16)' };
        cached.sse = { na: 'n/a (a hit replays the stored events at once)' };
        cached.hosts = { na: 'n/a (same as llmtap)' };
        cached.streams = { na: 'n/a (same as llmtap)' };
        cached.tunnel = { na: 'n/a (intercepted)' };
      } else cached.na = `did not start: ${(started as { error: string }).error}`;
    } else cached.na = 'not selected';

    // ---- archive bytes per exchange ---------------------------------------------------
    if (want('archive')) {
      results.archive = await phase('llmtap', `archive size: ${P.archive.json} JSON + ${P.archive.sse} SSE exchanges`, 4 * est.start + 5000, async (): Promise<ArchiveFigures> => {
        const one = async (home: string | undefined, kind: 'json' | 'sse', n: number, before: number, rowsBefore: number): Promise<{ home: string; fig: ArchiveFigures['json'] }> => {
          const s = await startLlmtap(tmp, fake, `llmtap-archive-${kind}`, { home });
          const h = home ?? s.home!;
          let running: number;
          try {
            const t = proxyTarget(s, fake);
            if (kind === 'json') await load.run({ kind: 'closed', target: t, concurrency: 4, warmup: { count: 0 }, count: n });
            else await load.run({ kind: 'sse', target: t, streams: n, concurrency: 4, events: 20, gapMs: 1 });
            await sleep(500);
            running = archiveBytes(h).total; // db + wal while running
          } finally {
            await s.stop(); // SIGTERM: flush, checkpoint (TRUNCATE), close
          }
          const rows = countRows(h) - rowsBefore;
          const checkpointed = archiveBytes(h).total;
          return { home: h, fig: { n, rows, runningBytes: running, runningPerExchange: (running - before) / rows, checkpointedPerExchange: (checkpointed - before) / rows } };
        };
        // An empty archive: start and stop once.
        const empty = await startLlmtap(tmp, fake, 'llmtap-archive-empty');
        await empty.stop();
        const emptyBytes = archiveBytes(empty.home!).total;
        const j = await one(empty.home, 'json', P.archive.json, emptyBytes, 0);
        const afterJson = archiveBytes(j.home).total;
        const s = await one(j.home, 'sse', P.archive.sse, afterJson, j.fig.rows);
        return { emptyBytes, json: j.fig, sse: s.fig };
      });
    }

    // ---- llmtap tunnel (host not on the intercept list) ---------------------------------
    const tunnel = row('tunnel', 'llmtap tunnel (not intercepted)');
    if (want('tunnel')) {
      const started = await phase('tunnel', 'start', est.start, () => startLlmtap(tmp, fake, 'llmtap-tunnel'));
      const sys = 'error' in started ? undefined : (started as RunningSystem);
      if (sys) {
        try {
          await proxySuite(tunnel, sys, 'bench.test', true, 'tunnel');
          tunnel.hosts = skip.has('hosts') ? SKIPPED : await phase('tunnel', `first request to ${P.hosts.count} new tunnelled hosts`, est.hosts, () => hostsRun(proxyTarget(sys, fake, 'x', true), 'h{i}.tunnel.test', sys.pid));
          tunnel.streams = skip.has('streams') ? SKIPPED : await phase('tunnel', `${P.streams.count} concurrent SSE streams (RSS)`, est.streams, () => streamsRun(proxyTarget(sys, fake, 'bench.test', true), sys.pid));
          tunnel.tunnel = skip.has('tunnel') ? SKIPPED : await phase('tunnel', `raw TCP ${P.tunnelBytes / 2 ** 20} MiB through CONNECT`, est.blast, () => blastRun(Number(new URL(sys.proxyUrl).port), 'blast.test:443', true, sys.pid));
        } finally {
          await sys.stop();
        }
      } else tunnel.na = `did not start: ${(started as { error: string }).error}`;
    } else tunnel.na = 'not selected';

    // ---- mitmproxy ------------------------------------------------------------------------
    const mitmRow = row('mitmproxy', `mitmproxy ${mitm.version ?? ''} (mitmdump)`.replace('  ', ' '));
    if (want('mitmproxy') && mitm.version) {
      const started = await phase('mitmproxy', 'start mitmdump', est.start * 2, () => startMitmdump(tmp, fake));
      const sys = 'error' in started ? undefined : (started as RunningSystem);
      if (sys) {
        try {
          await proxySuite(mitmRow, sys, 'api.openai.com', false, 'mitmproxy');
          mitmRow.hosts = skip.has('hosts') ? SKIPPED : await phase('mitmproxy', `first request to ${P.hosts.count} new hosts`, est.hosts * 2, () => hostsRun(proxyTarget(sys, fake, 'x'), 'h{i}.bench.test', sys.pid));
          mitmRow.streams = skip.has('streams') ? SKIPPED : await phase('mitmproxy', `${P.streams.count} concurrent SSE streams (RSS)`, est.streams, () => streamsRun(proxyTarget(sys, fake), sys.pid));
          mitmRow.tunnel = skip.has('tunnel') ? SKIPPED : await phase('mitmproxy', `raw TCP ${P.tunnelBytes / 2 ** 20} MiB (--ignore-hosts)`, est.blast, () => blastRun(Number(new URL(sys.proxyUrl).port), 'blast.test:443', true, sys.pid));
        } finally {
          await sys.stop();
        }
      } else mitmRow.na = `did not start: ${(started as { error: string }).error}`;
    } else mitmRow.na = mitm.reason ?? 'not selected';

    // ---- http-mitm-proxy ---------------------------------------------------------------------
    const hmp = row('hmp', `http-mitm-proxy ${machine.httpMitmProxy}`);
    if (want('hmp')) {
      const started = await phase('http-mitm-proxy', 'start (CA key generation in node-forge)', est.start * 4, () => startHttpMitmProxy(tmp, fake));
      const sys = 'error' in started ? undefined : (started as RunningSystem);
      if (sys) {
        try {
          await proxySuite(hmp, sys, 'api.openai.com', false, 'http-mitm-proxy');
          hmp.hosts = skip.has('hosts') ? SKIPPED : await phase('http-mitm-proxy', `first request to new hosts (capped at ${P.hosts.capMs / 1000} s)`, est.hosts, () => hostsRun(proxyTarget(sys, fake, 'x'), 'h{i}.bench.test', sys.pid));
          hmp.streams = skip.has('streams') ? SKIPPED : await phase('http-mitm-proxy', `${P.streams.count} concurrent SSE streams (RSS)`, est.streams, () => streamsRun(proxyTarget(sys, fake), sys.pid));
          hmp.tunnel = { na: 'terminates every CONNECT (no pass-through)' };
        } finally {
          await sys.stop();
        }
      } else hmp.na = `did not start: ${(started as { error: string }).error}`;
    } else hmp.na = 'not selected';

    // ---- llmtap in-process: event-loop delay and recorder batches ----------------------------
    if (want('inproc')) {
      results.inproc = await phase('llmtap in-process', `event loop + recorder batches under c=16 JSON and SSE load`, est.start + 2 * est.load, async (): Promise<InprocFigures> => {
        const sys = await startLlmtapInproc(tmp, fake);
        try {
          const target = proxyTarget(sys, fake);
          const window = async <T>(job: Job): Promise<{ r: T; report: InprocReport }> => {
            let reset: Promise<unknown> = Promise.resolve();
            const r = await load.run<T>(job, (ev) => {
              if (ev.phase !== 'measuring') return;
              sys.child.send({ cmd: 'reset' });
              reset = nextMessage(sys.child, (m) => m.ok === 'reset', 5000, 'inproc reset');
            });
            await reset;
            await sleep(200); // let the last batch land inside the window
            sys.child.send({ cmd: 'report' });
            const { report } = await nextMessage<{ report: InprocReport }>(sys.child, (m) => m.report, 5000, 'inproc report');
            return { r, report };
          };
          const json = await window<ClosedResult>({ kind: 'closed', target, concurrency: 16, warmup: { ms: P.loadWarmupMs }, durationMs: P.inproc.loadMs });
          const sse = await window<SseResult>({ kind: 'sse', target, streams: P.inproc.sseStreams, concurrency: P.sse.concurrency, events: P.sse.events, gapMs: P.sse.gapMs });
          return { json: { ...json.report, rps: json.r.rps }, sse: { ...sse.report, events: sse.r.events } };
        } finally {
          await sys.stop();
        }
      });
    }

    // ---- WebSocket: per-message delay direct vs llmtap, RSS with many open ----------------------
    if (want('ws')) {
      const sessions = args.quick ? 5 : 20;
      const perSession = 100;
      results.websocket = await phase('ws', `WebSocket: ${sessions} sessions × ${perSession} messages direct and through llmtap; ${P.wsSockets} open through llmtap (RSS); request round trips`, 30_000, async () => {
        const ws = await wsPhase(fake, tmp, { sessions, perSession, sockets: P.wsSockets, roundTrips: args.quick ? 200 : 1000 });
        for (const line of ws.lines) {
          notes.push(line);
          progress.note(line);
        }
        return ws.result;
      });
    }
  } finally {
    await stopAll();
  }

  results.durationMs = progress.elapsedMs();
  if (args.dist) notes.push(`llmtap build under test: ${args.dist} (--dist), not ./dist.`);
  if (args.llmtapArgs.length) notes.push(`extra llmtap start flags: ${args.llmtapArgs.join(' ')}`);
  notes.push(`Run took ${(results.durationMs / 60_000).toFixed(1)} min (${args.quick ? '--quick' : 'full'}).`);
  const md = renderMarkdown(results);
  const svg = renderSvg(results);
  // Only a full run of everything updates docs/; a quick or partial one goes to bench/out/.
  const outDir = args.quick || args.only || args.dist || args.llmtapArgs.length || args.skip.size ? join(ROOT, 'bench', 'out') : join(ROOT, 'docs');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'benchmarks.md'), md);
  writeFileSync(join(outDir, 'benchmarks.svg'), svg);
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'results.json'), JSON.stringify(results, null, 2));
  process.stdout.write(renderStdout(results));
  progress.note(`wrote ${outDir}/benchmarks.md and benchmarks.svg; raw figures in bench/out/results.json`);
  if (args.keep) progress.note(`kept ${tmp} (logs, homes)`);
  else rmSync(tmp, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
