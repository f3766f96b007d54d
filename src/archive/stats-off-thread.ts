import { Worker } from 'node:worker_threads';
import { compiledWorkerEntry } from '../worker-entry.js';
import type { StatsQuery, StatsRow } from './store.js';

type StatsTable = { rows: StatsRow[]; total: StatsRow | undefined };

let entry: URL | undefined;
/** The one stats read running, if any: the next waits for it (a report page clicked five times runs five reads, one after another). */
let running: Promise<unknown> = Promise.resolve();

/**
 * A stats table read in a worker thread of its own, for the proxy's web UI: the read
 * scans every exchange in the range (~0.4 s per 100,000 on a laptop), which on the
 * event loop would hold every request in flight meanwhile. One read at a time.
 */
export function statsOffThread(file: string, query: StatsQuery): Promise<StatsTable> {
  const next = running.then(() => readInWorker(file, query), () => readInWorker(file, query));
  running = next.catch(() => undefined);
  return next;
}

function readInWorker(file: string, query: StatsQuery): Promise<StatsTable> {
  entry ??= compiledWorkerEntry(import.meta.url, 'stats-worker.js');
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry!, { workerData: { file, query }, execArgv: [] });
    let answered = false;
    worker.once('message', (table: StatsTable) => {
      answered = true;
      resolve(table);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the stats thread exited (code ${code}) without an answer`));
    });
  });
}
