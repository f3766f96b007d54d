/**
 * `node --import tsx bench/policy-marginal.ts [rounds] [seconds]`: the proxy CPU per request
 * (whole process, main thread, and the main thread's time in the kernel) of llmtap without
 * a policy, with an empty one, with each of the bench policy's rules alone, and with all
 * ten, after a warm-up long enough for the JIT and the archive writer to settle. Variants alternate round by round (drift in the
 * machine's other load spreads over all of them); medians are printed.
 *
 * RATE=1500 sends on a fixed schedule (the steady comparison: every variant serves the same
 * requests per second, so none batches more per event-loop turn for being faster); without
 * it, the bench's closed loop (CONCURRENCY, default 16). ONLY=plain,all ten picks variants;
 * LEAVE_OUT=1 adds the ten without each one (what a rule costs among the others);
 * BASE_DIST=DIR runs each variant again from another build (`… (base)`), alternated with this one.
 * LATENCY=N adds a c=1 window of N requests per variant and round (p50 latency: what a rule adds to the wait).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClosedResult } from './loadgen.js';
import { BENCH_POLICY } from './policy-file.js';
import { mainThreadCpu, runWithHarness } from './policy-harness.js';
import { cpuMsOf } from './procs.js';
import { median } from './stats.js';
import { proxyTarget, startLlmtap } from './systems.js';
const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 5);
const concurrency = Number(process.env.CONCURRENCY ?? 16);
/** RATE=1500: requests start on a fixed schedule (loadgen.ts) instead of a closed loop. */
const ratePerSec = process.env.RATE ? Number(process.env.RATE) : undefined;

/** The bench policy split into one file per rule (the `teams:` header kept in each). */
function variants(): Array<{ name: string; yaml: string | undefined; besideLog?: boolean; dist?: string }> {
  const lines = BENCH_POLICY.split('\n');
  const header = lines.filter((l) => l.trim() && !l.startsWith('  - ') && l.trim() !== 'rules:');
  const rules = lines.filter((l) => l.startsWith('  - '));
  const only = process.env.ONLY?.split(',');
  const all = [
    { name: 'plain', yaml: undefined },
    { name: 'no rules', yaml: 'rules: []' },
    { name: 'no rules beside log', yaml: 'rules: []', besideLog: true },
    ...rules.map((r) => ({ name: /id: ([\w.-]+)/.exec(r)?.[1] ?? r, yaml: [...header, 'rules:', r].join('\n') })),
    { name: 'all ten', yaml: BENCH_POLICY },
    // The ten without one of them: what each costs among the others (LEAVE_OUT=1).
    ...(process.env.LEAVE_OUT ? rules.map((r) => ({ name: `-${/id: ([\w.-]+)/.exec(r)?.[1] ?? r}`, yaml: [...header, 'rules:', ...rules.filter((x) => x !== r)].join('\n') })) : []),
  ];
  const picked = only ? all.filter((v) => only.includes(v.name)) : all;
  const base = process.env.BASE_DIST;
  return base ? picked.flatMap((v) => [v, { ...v, name: `${v.name} (base)`, dist: base }]) : picked;
}


runWithHarness('policy-marginal', async ({ tmp, fake, load }) => {
  const list = variants();
  // The policy files in their own folder: llmtap watches the policy file's folder, and the
  // bench writes the proxies' logs into tmp (the 'log dir' variant shows what that costs).
  const policyDir = join(tmp, 'policies');
  mkdirSync(policyDir);
  const perReq = new Map<string, number[]>(list.map((v) => [v.name, []]));
  const mainPerReq = new Map<string, number[]>(list.map((v) => [v.name, []]));
  const kernelPerReq = new Map<string, number[]>(list.map((v) => [v.name, []]));
  const latencyRequests = Number(process.env.LATENCY ?? 0);
  const p50 = new Map<string, number[]>(list.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const v of list) {
      const args: string[] = [];
      if (v.yaml) {
        const file = join(v.besideLog ? tmp : policyDir, `${v.name.replace(/\W/g, '_')}.yaml`);
        writeFileSync(file, v.yaml);
        args.push('--policy', file);
      }
      const sys = await startLlmtap(tmp, fake, `llmtap-${round}`, { args, dist: v.dist });
      try {
        const target = proxyTarget(sys, fake);
        await load.run({ kind: 'closed', target, concurrency, warmup: { ms: 500 }, durationMs: 2500, ratePerSec });
        const before = cpuMsOf(sys.pid);
        const main0 = mainThreadCpu(sys.pid, (f) => readFileSync(f, 'utf8'));
        const r = await load.run<ClosedResult>({ kind: 'closed', target, concurrency, warmup: { ms: 0 }, durationMs: seconds * 1000, ratePerSec });
        const us = ((cpuMsOf(sys.pid) - before) * 1000) / r.requests;
        const main1 = mainThreadCpu(sys.pid, (f) => readFileSync(f, 'utf8'));
        const mainUs = ((main1.userMs + main1.systemMs - main0.userMs - main0.systemMs) * 1000) / r.requests;
        kernelPerReq.get(v.name)!.push(((main1.systemMs - main0.systemMs) * 1000) / r.requests);
        perReq.get(v.name)!.push(us);
        mainPerReq.get(v.name)!.push(mainUs);
        if (latencyRequests > 0) {
          const c1 = await load.run<ClosedResult>({ kind: 'closed', target, concurrency: 1, warmup: { count: 50 }, count: latencyRequests });
          p50.get(v.name)!.push(c1.latency.p50 * 1000);
        }
        process.stderr.write(`round ${round + 1}/${rounds} ${v.name}: ${us.toFixed(0)} µs/request, ${Math.round(r.rps)} req/s${r.errors ? `, ${r.errors} errors` : ''}${latencyRequests > 0 ? `, c=1 p50 ${p50.get(v.name)!.at(-1)!.toFixed(0)} µs` : ''}\n`);
      } finally {
        await sys.stop();
      }
    }
  }
  const tables: [string, Map<string, number[]>][] = [['whole process, CPU', perReq], ['main thread, CPU', mainPerReq], ['main thread in the kernel (system time), CPU', kernelPerReq]];
  if (latencyRequests > 0) tables.push(['c=1 latency p50,', p50]);
  for (const [label, table] of tables) {
    process.stdout.write(`${label} µs per request (median; every run):\n`);
    const base = median(table.get('plain') ?? [NaN]);
    for (const [name, xs] of table) {
      const m = median(xs);
      process.stdout.write(`  ${name.padEnd(18)} ${m.toFixed(0).padStart(5)}  ${name === 'plain' ? 'baseline' : `${m - base >= 0 ? '+' : ''}${(m - base).toFixed(0)}`.padStart(8)}  runs: ${xs.map((x) => x.toFixed(0)).join(' ')}\n`);
    }
  }
});
