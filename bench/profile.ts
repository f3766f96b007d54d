/**
 * `npm run bench -- --profile`: runs llmtap (dist/cli/main.js) under `node --cpu-prof`
 * for each scenario where it is measured against a target — c=16 JSON load, SSE
 * streams, first requests to new hosts — and prints the top self-time and inclusive-
 * time functions of each profile. The .cpuprofile files are kept in bench/out/.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchParams } from './config.js';
import type { Job } from './loadgen.js';
import type { Progress } from './progress.js';
import { nextMessage } from './procs.js';
import { proxyTarget, startLlmtap, startLlmtapInproc, type FakeInfo } from './systems.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  name: string;
  where: string;
  selfMs: number;
  selfPct: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm + 13);
  const dist = u.indexOf('/dist/');
  if (dist >= 0) return `llmtap:${u.slice(dist + 6)}`;
  return u.replace(/^node:/, 'node:');
}

/** Which layer a frame belongs to, for the per-layer split. */
function layer(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : 'native/V8';
  if (url.includes('/dist/')) return 'llmtap (dist/)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:internal/')) return `node:internal/${url.slice(14).split('/')[0]!.replace(/\.js$/, '')}`;
  if (url.startsWith('node:')) return url;
  return 'other';
}

export function summarizeProfile(profile: CpuProfile, top = 25): { total: number; idle: number; rows: ProfileRow[]; inclusive: ProfileRow[]; layers: { layer: string; ms: number; pct: number }[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const keyOf = (n: CpuProfileNode): string => `${n.callFrame.functionName || '(anonymous)'}\u0000${shortUrl(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  let total = 0;
  let idle = 0;
  const agg = new Map<string, number>();
  const layers = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    total += ms;
    agg.set(keyOf(n), (agg.get(keyOf(n)) ?? 0) + ms);
    const l = layer(n.callFrame.url, n.callFrame.functionName);
    layers.set(l, (layers.get(l) ?? 0) + ms);
  }
  // Inclusive time per function, counting each function once per stack (recursion-safe).
  const subtree = new Map<number, number>();
  const sub = (id: number): number => {
    const cached = subtree.get(id);
    if (cached !== undefined) return cached;
    const n = byId.get(id)!;
    let t = n.callFrame.functionName === '(idle)' ? 0 : self.get(id) ?? 0;
    for (const c of n.children ?? []) t += sub(c);
    subtree.set(id, t);
    return t;
  };
  const root = profile.nodes[0]!;
  sub(root.id);
  const incl = new Map<string, number>();
  const walk = (id: number, onPath: Set<string>): void => {
    const n = byId.get(id)!;
    const k = keyOf(n);
    const fresh = !onPath.has(k);
    if (fresh && n.callFrame.url.includes('/dist/')) incl.set(k, (incl.get(k) ?? 0) + subtree.get(id)!);
    if (fresh) onPath.add(k);
    for (const c of n.children ?? []) walk(c, onPath);
    if (fresh) onPath.delete(k);
  };
  walk(root.id, new Set());
  const rowsOf = (m: Map<string, number>): ProfileRow[] =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => {
      const [name, where] = k.split('\u0000') as [string, string];
      return { name, where, selfMs: ms, selfPct: (ms / total) * 100 };
    });
  return {
    total, idle,
    rows: rowsOf(agg),
    inclusive: rowsOf(incl),
    layers: [...layers.entries()].sort((a, b) => b[1] - a[1]).map(([l, ms]) => ({ layer: l, ms, pct: (ms / total) * 100 })),
  };
}

export function formatProfile(title: string, s: ReturnType<typeof summarizeProfile>): string {
  const lines = [`### ${title}`, '', `CPU busy ${s.total.toFixed(0)} ms, idle ${s.idle.toFixed(0)} ms.`, '', '| layer | ms | % of busy |', '| --- | ---: | ---: |'];
  for (const l of s.layers.slice(0, 12)) lines.push(`| ${l.layer} | ${l.ms.toFixed(0)} | ${l.pct.toFixed(1)} |`);
  lines.push('', '| self time: function | where | ms | % |', '| --- | --- | ---: | ---: |');
  for (const r of s.rows) lines.push(`| \`${r.name}\` | ${r.where} | ${r.selfMs.toFixed(0)} | ${r.selfPct.toFixed(1)} |`);
  lines.push('', '| inclusive time: llmtap function | where | ms | % |', '| --- | --- | ---: | ---: |');
  for (const r of s.inclusive.slice(0, 15)) lines.push(`| \`${r.name}\` | ${r.where} | ${r.selfMs.toFixed(0)} | ${r.selfPct.toFixed(1)} |`);
  return lines.join('\n') + '\n';
}

interface LoadLike {
  run<T>(job: Job, onEvent?: (event: any) => void, timeoutMs?: number): Promise<T>;
}

export async function runProfile(ctx: { tmp: string; fake: FakeInfo; load: LoadLike; params: BenchParams; progress: Progress }): Promise<void> {
  const { tmp, fake, load, params: P, progress } = ctx;
  const out = join(ROOT, 'bench', 'out');
  mkdirSync(out, { recursive: true });
  let report = `# llmtap CPU profiles (${new Date().toISOString()})\n\n`;
  const summarizeFile = (name: string, file: string): void => {
    copyFileSync(file, join(out, `llmtap-${name}.cpuprofile`));
    report += formatProfile(name, summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile)) + '\n';
  };

  // 1. Steady state, in-process llmtap: the profiler runs only during the measured window.
  const inproc = await startLlmtapInproc(tmp, fake, { instrument: false });
  try {
    const target = proxyTarget(inproc, fake);
    const windows: { name: string; job: Job }[] = [
      { name: 'steady-c16-json', job: { kind: 'closed', target, concurrency: 16, warmup: { ms: 1000 }, durationMs: P.profileMs } },
      { name: 'steady-c64-json', job: { kind: 'closed', target, concurrency: 64, warmup: { ms: 2000 }, durationMs: P.profileMs } },
      { name: 'steady-sse', job: { kind: 'sse', target, streams: P.sse.streams, concurrency: P.sse.concurrency, events: P.sse.events, gapMs: P.sse.gapMs } },
    ];
    for (const w of windows) {
      const done = progress.phase('profile', `${w.name} (in-process, inspector profiler over the measured window)`, P.profileMs + 3000);
      const file = join(tmp, `${w.name}.cpuprofile`);
      let started: Promise<unknown> = Promise.resolve();
      try {
        const result = await load.run<{ rps?: number; requests?: number }>(w.job, (ev) => {
          if (ev.phase !== 'measuring') return;
          inproc.child.send({ cmd: 'profile-start' });
          started = nextMessage(inproc.child, (m) => m.ok === 'profile-start', 5000, 'profile-start');
        });
        await started;
        inproc.child.send({ cmd: 'profile-stop', file });
        await nextMessage(inproc.child, (m) => m.ok === 'profile-stop', 30_000, 'profile-stop');
        if (result.rps) report += `${w.name}: ${Math.round(result.rps)} req/s, ${result.requests} requests in the window.\n\n`;
        summarizeFile(w.name, file);
      } finally {
        done();
      }
    }
  } finally {
    await inproc.stop();
  }

  // 2. New hosts: the whole CLI process under --cpu-prof (connection set-up is the point here).
  const dir = join(tmp, 'prof-new-hosts');
  mkdirSync(dir, { recursive: true });
  const done = progress.phase('profile', 'new-hosts: dist/cli/main.js under node --cpu-prof', Math.min(P.hosts.capMs, 20_000) + 3000);
  const sys = await startLlmtap(tmp, fake, 'llmtap-prof-hosts', { args: ['--intercept', '*.bench.test'], nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  try {
    const r = await load.run<{ done: number; perHost: { p50: number } }>({ kind: 'hosts', target: proxyTarget(sys, fake, 'x'), count: P.hosts.count, capMs: Math.min(P.hosts.capMs, 20_000), pattern: 'h{i}.bench.test', warmupHosts: 5 });
    report += `new-hosts: ${r.done} hosts, p50 ${r.perHost.p50.toFixed(1)} ms each.\n\n`;
  } finally {
    await sys.stop();
    done();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file) summarizeFile('new-hosts-whole-process', join(dir, file));

  writeFileSync(join(out, 'profile.md'), report);
  process.stdout.write(report);
  progress.note('profiles in bench/out/*.cpuprofile, summary bench/out/profile.md');
}
