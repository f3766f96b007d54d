/**
 * `node --import tsx bench/policy-drift.ts [windows] [seconds]`: one llmtap with the bench's
 * 10-rule policy (POLICY='' for none) under a steady c=16 closed loop, window after window:
 * proxy CPU per request, request rate and RSS per window. A figure that climbs from window
 * to window is work or memory that grows with the traffic served.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_POLICY } from './policy-file.js';
import { closedWindow } from './policy-overhead.js';
import { runWithHarness } from './policy-harness.js';
import { memOf } from './procs.js';
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
      const r = await closedWindow(load, { target, pid: sys.pid }, 200, seconds * 1000);
      process.stdout.write(`window ${w + 1}: ${r.cpuUsPerRequest.toFixed(0)} µs/request, ${Math.round(r.rps)} req/s, RSS ${((memOf(sys.pid)?.rss ?? NaN) / 1e6).toFixed(0)} MB\n`);
    }
  } finally {
    await sys.stop();
  }
});
