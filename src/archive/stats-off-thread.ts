import { Worker } from 'node:worker_threads';
import { compiledWorkerEntry } from '../worker-entry.js';
import type { ExchangeFilter } from './exchange-filter.js';
import type { RuleStatsRow, StatsQuery, StatsRow } from './store.js';

export type StatsTable = { rows: StatsRow[]; total: StatsRow | undefined };

let entry: URL | undefined;
/** The one read running, if any: the next waits for it (a report page clicked five times runs five reads, one after another). */
let running: Promise<unknown> = Promise.resolve();

/**
 * A stats table read in a worker thread of its own, for the proxy's web UI: the read
 * scans every exchange in the range (~0.5 s per 100,000 on a laptop), which on the
 * event loop would hold every request in flight meanwhile. One read at a time.
 */
export function statsOffThread(file: string, query: StatsQuery): Promise<StatsTable> {
  return queued(() => readInWorker(file, { read: 'statsTable', query }));
}

/** The decisions per policy rule (`stats --by rule`), read the same way. */
export function ruleStatsOffThread(file: string, query: ExchangeFilter): Promise<RuleStatsRow[]> {
  return queued(() => readInWorker(file, { read: 'ruleStats', query }));
}

function queued<T>(read: () => Promise<T>): Promise<T> {
  const next = running.then(read, read);
  running = next.catch(() => undefined);
  return next;
}

function readInWorker<T>(file: string, what: { read: 'statsTable' | 'ruleStats'; query: unknown }): Promise<T> {
  entry ??= compiledWorkerEntry(import.meta.url, 'stats-worker.js');
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry!, { workerData: { file, ...what }, execArgv: [] });
    let answered = false;
    worker.once('message', (result: T) => {
      answered = true;
      resolve(result);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the archive's report thread exited (code ${code}) without an answer`));
    });
  });
}
