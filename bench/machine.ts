import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, startNoiseMeter } from './procs.js';
import type { Progress } from './progress.js';
import type { Machine } from './results.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function versionOf(cmd: string, args: string[], pattern: RegExp): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? pattern.exec(r.stdout + r.stderr)?.[1] : undefined;
}

/** mitmdump from Debian; installs it when missing. Returns the version or the reason it is unavailable. */
export function ensureMitmdump(progress: Progress): { version?: string; reason?: string } {
  const have = versionOf('mitmdump', ['--version'], /Mitmproxy:\s*(\S+)/);
  if (have) return { version: have };
  progress.note('mitmdump missing: apt-get install -y mitmproxy');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', 'mitmproxy'], { encoding: 'utf8', env, timeout: 300_000 });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { encoding: 'utf8', env, timeout: 300_000 });
    r = spawnSync('apt-get', ['install', '-y', 'mitmproxy'], { encoding: 'utf8', env, timeout: 300_000 });
  }
  const after = versionOf('mitmdump', ['--version'], /Mitmproxy:\s*(\S+)/);
  if (after) return { version: after };
  const why = (r.error?.message ?? r.stderr ?? '').trim().split('\n').pop() || `apt-get exited ${r.status}`;
  return { reason: `mitmproxy not installable: ${why}` };
}

export function machineInfo(mitm: string): Machine {
  const pkg = (p: string): string => (JSON.parse(readFileSync(join(ROOT, p), 'utf8')) as { version: string }).version;
  return {
    date: new Date().toISOString(),
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: totalmem() / 2 ** 30,
    kernel: release(),
    node: process.version,
    undici: pkg('node_modules/undici/package.json'),
    mitmproxy: mitm,
    httpMitmProxy: pkg('node_modules/http-mitm-proxy/package.json'),
    llmtap: pkg('package.json'),
  };
}

/** Copies a build to <tmp>/llmtap/dist with package.json and node_modules beside it, so it resolves as ./dist does. */
export function snapshotDist(dist: string, tmp: string): string {
  const root = join(tmp, 'llmtap');
  mkdirSync(root, { recursive: true });
  cpSync(dist, join(root, 'dist'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  return join(root, 'dist');
}

/** Other work on a 2-core machine skews everything: wait (bounded) for it to calm down. */
export async function waitForQuiet(progress: Progress, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const meter = startNoiseMeter();
    await sleep(3000);
    const other = meter();
    if (other < 25) return;
    if (Date.now() > deadline) {
      progress.note(`machine still busy (other processes at ${other.toFixed(0)} % of a core); going ahead, figures will be noisier`);
      return;
    }
    progress.note(`other processes use ${other.toFixed(0)} % of a core; waiting for a quieter machine`);
  }
}
