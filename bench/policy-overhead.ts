import type { TargetSpec } from './clients.js';
import type { ClosedResult } from './loadgen.js';
import type { LoadGen } from './loadgen-client.js';
import { cpuMsOf } from './procs.js';

/** The 10-rule policy against plain recording, window by window (results.ts PolicyOverhead). */
export interface PolicyOverhead {
  /** Proxy CPU µs per request in each window, in the order run. */
  plainUs: number[];
  policyUs: number[];
  /** Median of the policy's windows minus the median of plain recording's. */
  medianGapUs: number;
  /** Plain recording's own spread over its windows (largest minus smallest): the noise. */
  plainSpreadUs: number;
  /** The policy's median window is no higher than plain recording's highest. */
  withinNoise: boolean;
  /**
   * Plain recording's windows varied by more than 10 % of their median: the machine was
   * too noisy for a verdict either way (any policy would look "within noise").
   */
  tooNoisy: boolean;
}

export interface OverheadSide {
  target: TargetSpec;
  pid: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * "Within noise", measured rather than eyeballed: a fresh plain and a fresh policy proxy
 * run side by side (the idle one costs nothing), warm up, and take turns, `rounds` closed-loop windows of
 * `windowMs` each at c=16, so drift in the machine's speed falls on both. The noise is
 * plain recording's own spread over its windows; the policy is within it when its median
 * window is no higher than plain's highest, and there is no verdict when plain recording
 * alone varied by more than 10 %. Pure over the figures (verdictOf) apart from the load.
 */
export async function measurePolicyOverhead(load: LoadGen, plain: OverheadSide, policy: OverheadSide, opts: { rounds: number; windowMs: number; warmupMs: number; firstWarmupMs: number }): Promise<PolicyOverhead> {
  // Both start fresh (same age, same archive size) and get a long closed loop first, so no
  // window pays for the JIT or the archive writer's start.
  for (const side of [plain, policy]) await load.run<ClosedResult>({ kind: 'closed', target: side.target, concurrency: 16, warmup: { ms: 0 }, durationMs: opts.firstWarmupMs });
  const plainUs: number[] = [];
  const policyUs: number[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    for (const [side, into] of [[plain, plainUs], [policy, policyUs]] as const) {
      into.push((await closedWindow(load, side, opts.warmupMs, opts.windowMs)).cpuUsPerRequest);
    }
  }
  return verdictOf(plainUs, policyUs);
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

export function verdictOf(plainUs: number[], policyUs: number[]): PolicyOverhead {
  const medianGapUs = median(policyUs) - median(plainUs);
  const plainSpreadUs = Math.max(...plainUs) - Math.min(...plainUs);
  return { plainUs, policyUs, medianGapUs, plainSpreadUs, withinNoise: median(policyUs) <= Math.max(...plainUs), tooNoisy: plainSpreadUs > 0.1 * median(plainUs) };
}
