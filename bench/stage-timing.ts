/**
 * `node --import tsx bench/stage-timing.ts [rounds] [seconds]`: where the policy's time goes
 * inside the running proxy, stage by stage. CPU profiles and alternated CPU figures are too
 * coarse for stages of a few µs on a shared machine, and a hot loop (policy-eval.ts) runs them
 * 3-5× faster than the proxy does between sockets. So this copies the build, wraps the stage
 * functions the request path calls (applyPolicy, lookupCache, forwardPlanned or withHopCredential, chargeUsage,
 * storeAnswer, and inside them evaluatePolicy, the cache key's parts, priceOf …) in a wall-clock
 * timer, runs plain recording and the bench's 10-rule policy under the bench's c=16 load, and
 * prints each stage's µs per request, measured after a warm-up. A wrapper costs ~0.2 µs, and a
 * nested stage is inside its caller's figure. The copy is removed afterwards; src/ and dist/
 * are not touched. POLICY='…' times another policy.
 */
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClosedResult } from './loadgen.js';
import { BENCH_POLICY } from './policy-file.js';
import { ROOT, runWithHarness } from './policy-harness.js';
import { cpuMsOf } from './procs.js';
import { proxyTarget, startLlmtap } from './systems.js';

const rounds = Number(process.argv[2] ?? 2);
const seconds = Number(process.argv[3] ?? 5);

/** Per built module: the imported functions to time (the module's own calls to them go through the timer). */
const STAGES: Record<string, string[]> = {
  'proxy/handle-exchange.js': ['applyPolicy', 'lookupCache', 'forwardPlanned', 'withHopCredential', 'chargeUsage', 'storeAnswer', 'relay', 'identifyTool'],
  'policy/stage.js': ['evaluatePolicy', 'evaluateRouting', 'identifyTool', 'factsOf'],
  'policy/evaluate.js': ['redactRequest', 'evaluateLimits', 'evaluateBudgets'],
  'cache/cache-stage.js': ['cacheKey', 'canonicalRequest', 'credentialScope', 'bodyMatches'],
  'proxy/fallback.js': ['requestForHop', 'credentialFor', 'relay'],
  'recorder/recorder.js': ['encodeRecord'],
};

/** The timer every wrapped module imports: totals per stage, cleared on SIGUSR2, written to STAGE_OUT at exit. */
const TIMER = `import { writeFileSync } from 'node:fs';
const totals = new Map();
export function timed(name, fn) {
  const start = process.hrtime.bigint();
  try { return fn(); } finally {
    const ns = Number(process.hrtime.bigint() - start);
    const t = totals.get(name);
    if (t) { t[0] += ns; t[1]++; } else totals.set(name, [ns, 1]);
  }
}
process.on('SIGUSR2', () => totals.clear());
process.on('exit', () => { if (process.env.STAGE_OUT) writeFileSync(process.env.STAGE_OUT, JSON.stringify([...totals])); });
`;

/** A copy of dist/ whose modules call the STAGES functions through the timer. */
function instrumentedCopy(dir: string): string {
  const dist = join(dir, 'dist');
  cpSync(join(ROOT, 'dist'), dist, { recursive: true });
  // Packages resolve from the copy as from the build: node_modules beside it.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  writeFileSync(join(dist, 'stage-timer.js'), TIMER);
  for (const [file, names] of Object.entries(STAGES)) {
    const path = join(dist, file);
    let text = readFileSync(path, 'utf8');
    for (const name of names) {
      const binding = new RegExp(`(import \\{[^}]*?)\\b${name}\\b([^}]*\\} from)`);
      if (!binding.test(text)) throw new Error(`${file} no longer imports ${name}: update STAGES`);
      text = text.replace(binding, `$1${name} as ${name}$timed$2`);
      text += `\nfunction ${name}(...args) { return timed('${name}', () => ${name}$timed(...args)); }\n`;
    }
    const up = '../'.repeat(file.split('/').length - 1);
    writeFileSync(path, `import { timed } from '${up}stage-timer.js';\n${text}`);
  }
  return dist;
}

runWithHarness('stage-timing', async ({ tmp, fake, load }) => {
  const dist = instrumentedCopy(join(tmp, 'build'));
  mkdirSync(join(tmp, 'policy'));
  const policyFile = join(tmp, 'policy', 'policy.yaml');
  writeFileSync(policyFile, process.env.POLICY ?? BENCH_POLICY);
  const figures = new Map<string, Map<string, number[]>>();
  for (let round = 0; round < rounds; round++) {
    for (const [name, args] of [['plain', []], ['policy', ['--policy', policyFile]]] as const) {
      const out = join(tmp, `stages-${name}-${round}.json`);
      process.env.STAGE_OUT = out;
      const sys = await startLlmtap(tmp, fake, `stages-${name}`, { args: [...args], dist });
      let requests = 0;
      let cpuUs = 0;
      try {
        const target = proxyTarget(sys, fake);
        await load.run({ kind: 'closed', target, concurrency: 16, warmup: { ms: 500 }, durationMs: 2500 });
        process.kill(sys.pid, 'SIGUSR2');
        const cpu0 = cpuMsOf(sys.pid);
        const r = await load.run<ClosedResult>({ kind: 'closed', target, concurrency: 16, warmup: { ms: 0 }, durationMs: seconds * 1000 });
        requests = r.requests;
        cpuUs = ((cpuMsOf(sys.pid) - cpu0) * 1000) / r.requests;
      } finally {
        await sys.stop();
      }
      const per = figures.get(name) ?? new Map<string, number[]>();
      figures.set(name, per);
      per.set('(proxy CPU, whole process)', [...(per.get('(proxy CPU, whole process)') ?? []), cpuUs]);
      for (const [stage, [ns]] of JSON.parse(readFileSync(out, 'utf8')) as [string, [number, number]][]) per.set(stage, [...(per.get(stage) ?? []), ns / 1000 / requests]);
      process.stderr.write(`round ${round + 1}/${rounds} ${name}: ${requests} requests, ${cpuUs.toFixed(0)} µs CPU per request\n`);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  for (const [name, per] of figures) {
    process.stdout.write(`${name}: µs per request (median of ${rounds}; every round)\n`);
    for (const [stage, xs] of per) process.stdout.write(`  ${stage.padEnd(28)} ${median(xs).toFixed(1).padStart(6)}   ${xs.map((x) => x.toFixed(1)).join(' ')}\n`);
  }
});
