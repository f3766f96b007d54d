/**
 * zstd encoding for the fuzz properties. Node 20's zlib has no zstd and fzstd only
 * decodes, so bodies are compressed by Debian's `zstd` CLI: a process per call is too
 * slow per case, so a property compresses a pool of bodies in one run over a directory
 * of files, then draws from the pool.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The bodies, each compressed (level 1, frame checksum on: the CLI's default). */
export function zstdMany(bodies: readonly Uint8Array[]): Buffer[] {
  const dir = mkdtempSync(join(tmpdir(), 'llmtap-zstd-fuzz-'));
  try {
    const files = bodies.map((b, i) => {
      const f = join(dir, `b${i}`);
      writeFileSync(f, b);
      return f;
    });
    if (files.length > 0) execFileSync('zstd', ['-q', '-1', ...files]);
    return files.map((f) => readFileSync(`${f}.zst`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How many distinct pooled bodies a run of `runs` cases uses well. */
export const zstdPoolSize = (runs: number): number => Math.min(2000, Math.max(50, Math.ceil(runs / 50)));
