// llmtap started in-process (dist/app.js startProxy, same config as `llmtap start`
// with the bench's --connect-to/--upstream-ca) so its event loop can be watched:
//  - perf_hooks.monitorEventLoopDelay (1 ms resolution) and event-loop utilisation;
//  - every recorder hand-off to its writer thread, as the Recorder publishes it on the
//    diagnostics channel 'llmtap:recorder:batch' ({ records, bytes, ms, encodeMs,
//    encodeMaxMs }: event-loop time of the hand-off, and of encoding the records it
//    carries; mapping, SQLite work and checkpoints run in the writer thread).
//
// argv: <home> <config JSON> [dist dir] [plain]. IPC: {cmd:'reset'} starts a window, {cmd:'report'}
// answers {report}; {cmd:'profile-start'} / {cmd:'profile-stop', file} take a CPU
// profile of a steady-state window only (inspector, no startup or warm-up in it);
// {cmd:'mem'} answers process.memoryUsage() before/after a forced GC (needs --expose-gc);
// {cmd:'stop'} closes the proxy and exits.
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';

import { pathToFileURL } from 'node:url';

const dist = process.argv[4] ? pathToFileURL(`${process.argv[4]}/`) : new URL('../../dist/', import.meta.url);
const { startProxy } = await import(new URL('app.js', dist).href);
const { DEFAULTS, parseConnectTo } = await import(new URL('config.js', dist).href);
const { createLogger } = await import(new URL('log.js', dist).href);

const [home, configJson, , mode] = process.argv.slice(2);
// 'plain': no batch timing (it costs getrusage/stat calls per batch, which would show up in a CPU profile).
const instrument = mode !== 'plain';
const cfg = JSON.parse(configJson);
const config = {
  ...DEFAULTS,
  home,
  host: '127.0.0.1',
  port: 0,
  upstreamCa: cfg.upstreamCa,
  connectTo: cfg.connectTo.map(parseConnectTo),
  drainTimeoutMs: 2000,
};
const logger = createLogger({ level: DEFAULTS.logLevel, pretty: false });
const proxy = await startProxy(config, logger);

const recorder = proxy.recorder;
let batches = [];
// 'plain': no subscriber, so the Recorder does not even time its hand-offs (CPU profiles).
// Published synchronously at the end of each hand-off: its wall-clock window is [end - ms, end].
if (instrument) subscribe('llmtap:recorder:batch', (event) => batches.push({ ...event, end: performance.now() }));

const eld = monitorEventLoopDelay({ resolution: 1 });
// GC pauses in the window: the other thing besides recorder batches that stops the loop.
let gcPauses = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ ms: e.duration, kind: e.detail?.kind, start: e.startTime });
}).observe({ entryTypes: ['gc'] });
// Control for the hand-off timings: a fixed CONTROL_WORK_MS of busy work on the same loop
// every 10 ms, timed the same way. On 2 shared cores any stretch of event-loop work can be
// preempted by the fake or the generator; the control wakes nobody, so how often it
// exceeds 1 ms of wall time is what that alone does. A hand-off also wakes the writer thread.
const CONTROL_WORK_MS = 0.08;
let controlMs = [];
if (instrument) {
  setInterval(() => {
    const start = performance.now();
    while (performance.now() - start < CONTROL_WORK_MS);
    controlMs.push(performance.now() - start);
  }, 10).unref();
}
let elu0 = performance.eventLoopUtilization();
let t0 = performance.now();

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

let inspector;
function post(method, params) {
  return new Promise((resolve, reject) => inspector.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
}

process.on('message', async (m) => {
  if (m.cmd === 'reset') {
    eld.disable();
    eld.reset();
    eld.enable();
    batches = [];
    controlMs = [];
    gcPauses = [];
    elu0 = performance.eventLoopUtilization();
    t0 = performance.now();
    process.send({ ok: 'reset' });
  } else if (m.cmd === 'report') {
    eld.disable();
    const elu = performance.eventLoopUtilization(elu0);
    const sorted = batches.map((b) => b.ms).sort((a, b) => a - b);
    const slow = batches.filter((b) => b.ms > 1);
    process.send({
      report: {
        windowMs: performance.now() - t0,
        eventLoopDelayMs: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6, mean: eld.mean / 1e6 },
        eventLoopUtilization: elu.utilization,
        recorder: {
          batches: batches.length,
          rows: batches.reduce((a, b) => a + b.records, 0),
          maxRowsPerBatch: Math.max(0, ...batches.map((b) => b.records)),
          bytes: batches.reduce((a, b) => a + b.bytes, 0),
          p50: pct(sorted, 50),
          p99: pct(sorted, 99),
          max: sorted.length ? sorted[sorted.length - 1] : NaN,
          over1ms: slow.length,
          slowest: slow.sort((a, b) => b.ms - a.ms).slice(0, 5).map(({ ms, records, bytes }) => ({ ms, records, bytes })),
          // A GC pause inside a hand-off's window: the hand-off's allocation may have triggered it, but it is the collector's time.
          over1msWithGc: slow.filter((b) => gcPauses.some((g) => g.start < b.end && g.start + g.ms > b.end - b.ms)).length,
          totalMs: sorted.reduce((a, b) => a + b, 0),
          encodeTotalMs: batches.reduce((a, b) => a + b.encodeMs, 0),
          encodeMaxMs: Math.max(0, ...batches.map((b) => b.encodeMaxMs)),
        },
        control: (() => {
          const sorted = [...controlMs].sort((a, b) => a - b);
          return { workMs: CONTROL_WORK_MS, runs: sorted.length, p50: pct(sorted, 50), p99: pct(sorted, 99), max: sorted.at(-1) ?? NaN, over1ms: sorted.filter((x) => x > 1).length };
        })(),
        stats: recorder.stats(),
        gc: {
          count: gcPauses.length,
          totalMs: gcPauses.reduce((a, g) => a + g.ms, 0),
          maxMs: Math.max(0, ...gcPauses.map((g) => g.ms)),
          over5ms: gcPauses.filter((g) => g.ms > 5).length,
        },
      },
    });
  } else if (m.cmd === 'profile-start') {
    inspector ??= new Session();
    inspector.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 200 });
    await post('Profiler.start');
    process.send({ ok: 'profile-start' });
  } else if (m.cmd === 'profile-stop') {
    const { profile } = await post('Profiler.stop');
    writeFileSync(m.file, JSON.stringify(profile));
    inspector.disconnect();
    process.send({ ok: 'profile-stop' });
  } else if (m.cmd === 'mem') {
    // With --expose-gc: collect first, so live heap and allocator-retained memory can be told apart.
    const before = process.memoryUsage();
    if (typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    process.send({ mem: { before, after: process.memoryUsage(), collected: typeof globalThis.gc === 'function' } });
  } else if (m.cmd === 'stop') {
    await proxy.close(1000);
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, port: proxy.address.port, caFile: proxy.ca.certPath });
