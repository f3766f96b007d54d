/**
 * `node --import tsx bench/policy-drift.ts [windows] [seconds]`: one llmtap with the bench's
 * 10-rule policy (POLICY='' for none) under a steady c=16 closed loop, window after window:
 * proxy CPU per request, request rate and RSS per window. A figure that climbs from window
 * to window is work or memory that grows with the traffic served.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClosedResult } from './loadgen.js';
import { BENCH_POLICY } from './policy-file.js';
import { runWithHarness } from './policy-harness.js';
import { cpuMsOf, memOf } from './procs.js';
import { proxyTarget, startLlmtap } from './systems.js';

const windows = Number(process.argv[2] ?? 8);
const seconds = Number(process.argv[3] ?? 5);

runWithHarness('policy-drift', async ({ tmp, fake, load }) => {
  const yaml = process.env.POLICY ?? BENCH_POLICY;
  const args: string[] = [];
  if (yaml) {
    mkdirSync(join(tmp, 'policy'));
    const file = join(tmp, 'policy', 'policy.yaml');
    writeFileSync(file, yaml);
    args.push('--policy', file);
  }
  const sys = await startLlmtap(tmp, fake, 'llmtap-drift', { args });
  try {
    const target = proxyTarget(sys, fake);
    for (let w = 0; w < windows; w++) {
      let cpu0 = NaN;
      const r = await load.run<ClosedResult>({ kind: 'closed', target, concurrency: 16, warmup: { ms: 200 }, durationMs: seconds * 1000 }, (ev: { phase?: string }) => void (ev.phase === 'measuring' && (cpu0 = cpuMsOf(sys.pid))));
      const us = ((cpuMsOf(sys.pid) - cpu0) * 1000) / r.requests;
      process.stdout.write(`window ${w + 1}: ${us.toFixed(0)} µs/request, ${Math.round(r.rps)} req/s, RSS ${((memOf(sys.pid)?.rss ?? NaN) / 1e6).toFixed(0)} MB\n`);
    }
  } finally {
    await sys.stop();
  }
});
