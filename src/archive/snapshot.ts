import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { compiledWorkerEntry, type WorkerAnswer } from '../worker-entry.js';

export interface SnapshotResult {
  /** The copy's path. */
  file: string;
  bytes: number;
  exchanges: number;
  /** SQLite's quick_check of the copy: "ok", or its first problem. */
  check: string;
  ms: number;
}

/** About how large the copy will be: the archive's pages in use (the copy leaves out the free ones). */
export function snapshotEstimate(source: string): number {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    const pages = (db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number);
    return pages * (db.pragma('page_size', { simple: true }) as number);
  } finally {
    db.close();
  }
}

/**
 * A consistent copy of the archive while the proxy goes on recording into it. VACUUM INTO
 * reads one snapshot of the database in a single read transaction — in WAL mode the writer
 * is not held up, and what it commits meanwhile is not in the copy — and writes it out
 * compacted (no free pages). SQLite's backup API restarts whenever another connection
 * writes, which on a busy proxy could mean never finishing; a plain file copy of a WAL
 * database can miss committed pages. The copy is created exclusively (an existing file is
 * never overwritten) and 0600 before a byte is written, as the archive is: it holds the
 * prompts. A copy that fails is removed; one that is written is checked (quick_check)
 * and its exchanges counted.
 */
export function snapshotArchive(source: string, dest: string): SnapshotResult {
  const started = performance.now();
  closeSync(openSync(dest, 'wx', 0o600));
  try {
    const db = new Database(source, { readonly: true, fileMustExist: true });
    try {
      // The proxy's short write transactions are waited for, not failed on.
      db.pragma('busy_timeout = 5000');
      db.prepare('VACUUM INTO ?').run(dest);
    } finally {
      db.close();
    }
    const copy = new Database(dest, { readonly: true, fileMustExist: true });
    try {
      const check = copy.pragma('quick_check', { simple: true }) as string;
      const exchanges = (copy.prepare('SELECT COUNT(*) AS n FROM exchanges').get() as { n: number }).n;
      return { file: dest, bytes: statSync(dest).size, exchanges, check, ms: Math.round(performance.now() - started) };
    } finally {
      copy.close();
    }
  } catch (error) {
    rmSync(dest, { force: true });
    throw error;
  }
}

/** snapshotArchive in a worker thread (snapshot-worker.ts): one long statement, so the caller's thread stays free to show progress. */
export function snapshotOffThread(source: string, dest: string): Promise<SnapshotResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(compiledWorkerEntry(import.meta.url, 'snapshot-worker.js'), { workerData: { source, dest }, execArgv: [] });
    worker.once('message', (answer: WorkerAnswer<SnapshotResult>) => {
      if (answer.ok) resolve(answer.result);
      else reject(new Error(answer.message));
    });
    worker.once('error', reject);
    // Settled already when it answered; otherwise it ended without a word.
    worker.once('exit', (code) => reject(new Error(`the snapshot thread exited (code ${code}) without an answer`)));
  });
}
