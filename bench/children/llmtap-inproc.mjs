// llmtap started in-process (dist/app.js startProxy, same config as `llmtap start`
// with the bench's --connect-to/--upstream-ca) so its event loop can be watched:
//  - perf_hooks.monitorEventLoopDelay (1 ms resolution) and event-loop utilisation;
//  - every recorder batch timed from the outside, without touching src/: the
//    Recorder schedules its batch with the global setImmediate from inside
//    recordExchange/recordTunnel (and re-schedules from inside a batch), so while
//    those run, setImmediate is wrapped and the scheduled callback timed.
//
// argv: <home> <config JSON> [dist dir] [plain]. IPC: {cmd:'reset'} starts a window, {cmd:'report'}
// answers {report}; {cmd:'profile-start'} / {cmd:'profile-stop', file} take a CPU
// profile of a steady-state window only (inspector, no startup or warm-up in it);
// {cmd:'mem'} answers process.memoryUsage() before/after a forced GC (needs --expose-gc);
// {cmd:'stop'} closes the proxy and exits.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
const realSetImmediate = globalThis.setImmediate;
let capturing = false;
let batchMs = [];
let batchCpuMs = [];
let batchRows = [];
let batchCheckpoint = [];
const dbFile = join(home, 'llmtap.db');

/** The main db file only changes in WAL mode when a checkpoint copies pages into it. */
function dbStamp() {
  try {
    const st = statSync(dbFile, { bigint: true });
    return `${st.mtimeNs}:${st.size}`;
  } catch {
    return '';
  }
}

function timed(fn) {
  return function recorderBatch(...args) {
    const before = recorder.stats();
    const stamp = dbStamp();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    capturing = true;
    try {
      return fn.apply(this, args);
    } finally {
      capturing = false;
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const after = recorder.stats();
      batchMs.push(wall);
      batchCpuMs.push((cpu.user + cpu.system) / 1000);
      batchRows.push(after.recorded + after.lost - before.recorded - before.lost);
      batchCheckpoint.push(dbStamp() !== stamp);
    }
  };
}
if (instrument) globalThis.setImmediate = function patchedSetImmediate(fn, ...args) {
  return realSetImmediate(capturing && typeof fn === 'function' ? timed(fn) : fn, ...args);
};
for (const method of instrument ? ['recordExchange', 'recordTunnel'] : []) {
  const original = recorder[method].bind(recorder);
  recorder[method] = (record) => {
    capturing = true;
    try {
      original(record);
    } finally {
      capturing = false;
    }
  };
}

const eld = monitorEventLoopDelay({ resolution: 1 });
// GC pauses in the window: the other thing besides recorder batches that stops the loop.
let gcPauses = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ ms: e.duration, kind: e.detail?.kind });
}).observe({ entryTypes: ['gc'] });
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
    batchMs = [];
    batchCpuMs = [];
    batchRows = [];
    batchCheckpoint = [];
    gcPauses = [];
    elu0 = performance.eventLoopUtilization();
    t0 = performance.now();
    process.send({ ok: 'reset' });
  } else if (m.cmd === 'report') {
    eld.disable();
    const elu = performance.eventLoopUtilization(elu0);
    const sorted = [...batchMs].sort((a, b) => a - b);
    const rows = batchRows.reduce((a, b) => a + b, 0);
    const slow = batchMs.map((ms, i) => ({ ms, cpu: batchCpuMs[i], checkpoint: batchCheckpoint[i], rows: batchRows[i] })).filter((b) => b.ms > 1);
    const cpuSorted = [...batchCpuMs].sort((a, b) => a - b);
    process.send({
      report: {
        windowMs: performance.now() - t0,
        eventLoopDelayMs: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6, mean: eld.mean / 1e6 },
        eventLoopUtilization: elu.utilization,
        recorder: {
          batches: sorted.length,
          rows,
          maxRowsPerBatch: Math.max(0, ...batchRows),
          p50: pct(sorted, 50),
          p99: pct(sorted, 99),
          max: sorted.length ? sorted[sorted.length - 1] : NaN,
          over1ms: slow.length,
          over1msWithCheckpoint: slow.filter((b) => b.checkpoint).length,
          checkpoints: batchCheckpoint.filter(Boolean).length,
          cpuP99: pct(cpuSorted, 99),
          cpuMax: cpuSorted.length ? cpuSorted[cpuSorted.length - 1] : NaN,
          maxWithoutCheckpoint: Math.max(0, ...batchMs.filter((_, i) => !batchCheckpoint[i])),
          slowest: slow.sort((a, b) => b.ms - a.ms).slice(0, 5),
          totalMs: sorted.reduce((a, b) => a + b, 0),
        },
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
