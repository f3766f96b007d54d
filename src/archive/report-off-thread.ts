import { Worker } from 'node:worker_threads';
import { compiledWorkerEntry } from '../worker-entry.js';
import type { BackgroundReads } from './store.js';

let entry: URL | undefined;
/** The one read running, if any: the next waits for it (a report page clicked five times runs five reads, one after another). */
let running: Promise<unknown> = Promise.resolve();

/**
 * A report read in a worker thread of its own, for the proxy's web UI: a report scans
 * every exchange in its range (~0.5 s per 100,000 on a laptop), which on the event loop
 * would hold every request in flight meanwhile. One read at a time.
 */
export function reportOffThread<K extends keyof BackgroundReads>(file: string, read: K, query: BackgroundReads[K]['query']): Promise<BackgroundReads[K]['result']> {
  const inWorker = (): Promise<BackgroundReads[K]['result']> => readInWorker(file, read, query);
  const next = running.then(inWorker, inWorker);
  running = next.catch(() => undefined);
  return next;
}

function readInWorker<T>(file: string, read: string, query: unknown): Promise<T> {
  entry ??= compiledWorkerEntry(import.meta.url, 'report-worker.js');
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry!, { workerData: { file, read, query }, execArgv: [] });
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
