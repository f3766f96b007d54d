/**
 * `node --import tsx bench/profile-policy.ts [seconds]`: llmtap (dist/cli/main.js) under
 * `node --cpu-prof`, plain and with the bench's 10-rule policy, each driven by the
 * bench's closed-loop load (c=16), then prints where the two profiles differ most
 * (inclusive llmtap time and self time) and the proxy CPU per request of each.
 * Profiles are kept in bench/out/policy-*.cpuprofile. NO_PROF=1: the same runs without the
 * profiler (its overhead inflates both rows), for the per-thread CPU split alone; STRACE=1 (with
 * NO_PROF=1) adds the system calls of the measured window (`strace -f -c`; STRACE=writes lists
 * every write with its size in bench/out/strace-*.txt). CONCURRENCY=N
 * changes c; RATE=1500 sends on a fixed schedule instead (the steadier comparison: both runs
 * serve the same requests per second); POLICY='…' profiles another policy than the ten rules.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import type { ClosedResult } from './loadgen.js';
import { BENCH_POLICY } from './policy-file.js';
import { ROOT, runWithHarness } from './policy-harness.js';
import { cpuMsOf } from './procs.js';
import { formatProfile, summarizeProfile } from './profile.js';
import { proxyTarget, startLlmtap } from './systems.js';
const seconds = Number(process.argv[2] ?? 8);
const concurrency = Number(process.env.CONCURRENCY ?? 16);
/** RATE=1500: requests on a fixed schedule (loadgen.ts), so both runs serve the same number per second. */
const ratePerSec = process.env.RATE ? Number(process.env.RATE) : undefined;

/** CPU ms per thread name (main, writer, libuv pool, GC helpers) of a process so far. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}${tid === String(pid) ? '(main)' : `#${tid}`}`;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** All a stream says until it ends. */
async function collect(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

/** NODE_ARGS='--heap-prof …': other V8 flags instead of the cpu profiler (`{dir}` names the run's folder). */
function nodeArgsFor(dir: string): string[] {
  if (process.env.NODE_ARGS) return process.env.NODE_ARGS.split(' ').filter(Boolean).map((a) => a.replace('{dir}', dir));
  return process.env.NO_PROF ? [] : ['--cpu-prof', '--cpu-prof-dir', dir];
}

runWithHarness('profile-policy', async ({ tmp, fake, load }) => {
  const out = join(ROOT, 'bench', 'out');
  mkdirSync(out, { recursive: true });
  mkdirSync(join(tmp, 'policy'));
  // Its own folder: llmtap watches the policy file's folder, and the logs are written to tmp.
  const policyFile = join(tmp, 'policy', 'policy.yaml');
  // POLICY='rules: []': another policy than the bench's ten rules.
  writeFileSync(policyFile, process.env.POLICY ?? BENCH_POLICY);
  let report = '';
  for (const [name, args] of [['plain', []], ['policy', ['--policy', policyFile]]] as const) {
    const dir = join(tmp, `prof-${name}`);
    mkdirSync(dir, { recursive: true });
    const sys = await startLlmtap(tmp, fake, `llmtap-${name}`, { args: [...args], nodeArgs: nodeArgsFor(dir) });
    let r: ClosedResult;
    let cpu = 0;
    let threadLine = '';
    try {
      const target = proxyTarget(sys, fake);
      await load.run({ kind: 'closed', target, concurrency, warmup: { ms: 500 }, durationMs: 1000, ratePerSec });
      // STRACE=writes: every write of the window, with its size, in bench/out/strace-<name>.txt.
      const straceArgs = process.env.STRACE === 'writes' ? ['-f', '-e', 'trace=write,writev,sendmsg', '-e', 'abbrev=all', '-s', '0', '-o', join(out, `strace-${name}.txt`)] : ['-f', '-c'];
      const strace = process.env.STRACE ? spawn('strace', [...straceArgs, '-p', String(sys.pid)], { stdio: ['ignore', 'ignore', 'pipe'] }) : undefined;
      const straceOut = strace ? collect(strace.stderr!) : undefined;
      if (strace) await new Promise((r) => setTimeout(r, 300));
      const before = cpuMsOf(sys.pid);
      const threads0 = threadCpu(sys.pid);
      r = await load.run<ClosedResult>({ kind: 'closed', target, concurrency, warmup: { ms: 0 }, durationMs: seconds * 1000, ratePerSec });
      cpu = cpuMsOf(sys.pid) - before;
      const threads1 = threadCpu(sys.pid);
      if (strace) {
        strace.kill('SIGINT');
        threadLine += `strace (${r.requests} requests):\n${await straceOut}\n`;
      }
      threadLine += [...threads1].map(([k, v]) => [k, v - (threads0.get(k) ?? 0)] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ');
    } finally {
      await sys.stop();
    }
    const perReq = (cpu * 1000) / (r.requests + 0);
    report += `${name}: ${Math.round(r.rps)} req/s, ${r.requests} requests, ${r.errors} errors, proxy CPU ${perReq.toFixed(0)} µs/request\nthreads: ${threadLine}\n\n`;
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.heapprofile'))) copyFileSync(join(dir, f), join(out, `policy-${name}.heapprofile`));
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      copyFileSync(join(dir, file), join(out, `policy-${name}.cpuprofile`));
      report += formatProfile(name, summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')), 40)) + '\n';
    }
  }
  writeFileSync(join(out, 'profile-policy.md'), report);
  process.stdout.write(report);
});
