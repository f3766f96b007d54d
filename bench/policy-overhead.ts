import type { TargetSpec } from './clients.js';
import type { ClosedResult } from './loadgen.js';
import type { LoadGen } from './loadgen-client.js';
import { cpuMsOf } from './procs.js';
import { median } from './stats.js';

/** One figure of plain recording and of the policy, window by window, and whether they differ beyond noise. */
export interface WindowVerdict {
  /** The figure in each window, in the order run. */
  plain: number[];
  policy: number[];
  /** Median of the policy's windows minus the median of plain recording's. */
  medianGap: number;
  /** Plain recording's own spread over its windows (largest minus smallest): the noise. */
  plainSpread: number;
  /** The policy's median window is no higher than plain recording's highest. */
  withinNoise: boolean;
  /** Plain recording's windows varied by more than 10 % of their median. */
  tooNoisy: boolean;
  /**
   * One-sided Mann-Whitney p: the chance, if the policy made no difference, that its windows
   * would rank this high against plain's (exact; five windows each, all five above all five: 1/252).
   */
  higherP: number;
  /**
   * `not met` when the policy's windows are higher than plain's beyond chance (higherP < 0.05),
   * however noisy the machine; `met` when the policy's median is no higher than plain's
   * highest window on a steady machine; else `too noisy` (a noisy machine makes anything
   * look within noise, and hides a small difference).
   */
  verdict: 'met' | 'not met' | 'too noisy';
}

/** The 10-rule policy against plain recording, window by window (results.ts policyOverhead). */
export interface PolicyOverhead {
  /** What a user waits: latency at c=1, p50 per window (ms). */
  latencyP50Ms: WindowVerdict;
  /** The same windows' p99 (ms), shown beside: over ~1,000 requests it is too noisy to judge on. */
  latencyP99Ms: { plain: number[]; policy: number[] };
  /** What the proxy spends: its CPU per request in each c=16 closed-loop window (µs). */
  cpuUs: WindowVerdict;
  /** The same windows' throughput (req/s), shown beside. */
  rps: { plain: number[]; policy: number[] };
}

export interface OverheadSide {
  target: TargetSpec;
  pid: number;
}


/**
 * "Within noise", measured rather than eyeballed: a fresh plain and a fresh policy proxy
 * run side by side (the idle one costs nothing), warm up, and take turns, so drift in the
 * machine's speed falls on both: `rounds` c=1 windows of `latencyRequests` each (the
 * latency a user waits), then `rounds` c=16 closed-loop windows of `windowMs` (the CPU the
 * proxy spends per request). Each figure is judged alone (verdictOf). Pure over the
 * figures apart from the load.
 */
export async function measurePolicyOverhead(load: LoadGen, plain: OverheadSide, policy: OverheadSide, opts: { rounds: number; windowMs: number; warmupMs: number; firstWarmupMs: number; latencyRequests: number }): Promise<PolicyOverhead> {
  // Both start fresh (same age, same archive size) and get a long closed loop first, so no
  // window pays for the JIT or the archive writer's start.
  for (const side of [plain, policy]) await load.run<ClosedResult>({ kind: 'closed', target: side.target, concurrency: 16, warmup: { ms: 0 }, durationMs: opts.firstWarmupMs });
  const p50 = { plain: [] as number[], policy: [] as number[] };
  const p99 = { plain: [] as number[], policy: [] as number[] };
  const cpu = { plain: [] as number[], policy: [] as number[] };
  const rps = { plain: [] as number[], policy: [] as number[] };
  // Which side goes first alternates round by round, so a machine that drifts within a round
  // does not always fall on the same side.
  const sides = (round: number) => (round % 2 === 0 ? [['plain', plain], ['policy', policy]] as const : [['policy', policy], ['plain', plain]] as const);
  for (let round = 0; round < opts.rounds; round++) {
    for (const [name, side] of sides(round)) {
      const r = await load.run<ClosedResult>({ kind: 'closed', target: side.target, concurrency: 1, warmup: { count: 50 }, count: opts.latencyRequests });
      p50[name].push(r.latency.p50);
      p99[name].push(r.latency.p99);
    }
  }
  for (let round = 0; round < opts.rounds; round++) {
    for (const [name, side] of sides(round)) {
      const w = await closedWindow(load, side, opts.warmupMs, opts.windowMs);
      cpu[name].push(w.cpuUsPerRequest);
      rps[name].push(w.rps);
    }
  }
  return { latencyP50Ms: verdictOf(p50.plain, p50.policy), latencyP99Ms: p99, cpuUs: verdictOf(cpu.plain, cpu.policy), rps };
}

/** One c=16 closed-loop window: the proxy's CPU per request over the measured part only (after the warm-up). */
export async function closedWindow(load: LoadGen, side: OverheadSide, warmupMs: number, durationMs: number): Promise<ClosedResult & { cpuUsPerRequest: number }> {
  let cpu0 = NaN;
  const r = await load.run<ClosedResult>(
    { kind: 'closed', target: side.target, concurrency: 16, warmup: { ms: warmupMs }, durationMs },
    (ev: { phase?: string }) => void (ev.phase === 'measuring' && (cpu0 = cpuMsOf(side.pid))),
  );
  return { ...r, cpuUsPerRequest: ((cpuMsOf(side.pid) - cpu0) * 1000) / r.requests };
}

/** Judges a figure where higher is worse (latency, CPU per request): see WindowVerdict.verdict. */
export function verdictOf(plain: number[], policy: number[]): WindowVerdict {
  const plainSpread = Math.max(...plain) - Math.min(...plain);
  const withinNoise = median(policy) <= Math.max(...plain);
  const tooNoisy = plainSpread > 0.1 * median(plain);
  const higherP = mannWhitneyHigherP(plain, policy);
  const verdict = higherP < 0.05 ? 'not met' : withinNoise && !tooNoisy ? 'met' : 'too noisy';
  return { plain, policy, medianGap: median(policy) - median(plain), plainSpread, withinNoise, tooNoisy, higherP, verdict };
}

/**
 * P(U ≥ u) under "no difference", where u counts the (plain, policy) pairs in which the
 * policy's window is the higher (ties count half): exact, by counting the orderings of the
 * two samples' ranks (small samples: a handful of windows each).
 */
export function mannWhitneyHigherP(plain: readonly number[], policy: readonly number[]): number {
  let u = 0;
  for (const b of policy) for (const a of plain) u += b > a ? 1 : b === a ? 0.5 : 0;
  // ways[n][m][k]: orderings of n plain and m policy windows with k (policy above plain) pairs.
  const n = plain.length;
  const m = policy.length;
  const ways: number[][][] = [];
  for (let i = 0; i <= n; i++) {
    ways.push([]);
    for (let j = 0; j <= m; j++) {
      const row = new Array<number>(i * j + 1).fill(0);
      if (i === 0 || j === 0) row[0] = 1;
      else {
        // The highest window is a policy one (above all i plain) or a plain one (above none).
        ways[i]![j - 1]!.forEach((w, k) => (row[k + i] = (row[k + i] ?? 0) + w));
        ways[i - 1]![j]!.forEach((w, k) => (row[k] = (row[k] ?? 0) + w));
      }
      ways[i]!.push(row);
    }
  }
  const dist = ways[n]![m]!;
  const total = dist.reduce((a, b) => a + b, 0);
  let atLeast = 0;
  dist.forEach((w, k) => (k >= u - 1e-9 ? (atLeast += w) : undefined));
  return atLeast / total;
}
