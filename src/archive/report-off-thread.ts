import { Worker } from 'node:worker_threads';
import { compiledWorkerEntry, type WorkerAnswer } from '../worker-entry.js';
import type { BackgroundReads } from './store.js';

let entry: URL | undefined;

/** How long the thread waits for another read before it ends: a page asks for several in a row, and a dashboard again soon. */
const IDLE_MS = 60_000;

/**
 * Report reads in a worker thread, for the proxy's web UI: a report scans every exchange
 * in its range (~0.5 s per 100,000 on a laptop), which on the event loop would hold every
 * request in flight meanwhile. One read at a time (a report page clicked five times runs
 * five reads, one after another). The thread stays for the next read until it has been
 * idle for a minute — starting one (an isolate, the SQLite binding, the archive opened)
 * costs ~50 ms of CPU, more than most reads — and never keeps the process alive.
 */
export class ReportThread {
  private worker: Worker | undefined;
  private waiting: { resolve(result: unknown): void; reject(error: Error): void } | undefined;
  private idle: NodeJS.Timeout | undefined;
  /** The read running, if any: the next waits for it. */
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string, private readonly options: { idleMs?: number } = {}) {}

  read<K extends keyof BackgroundReads>(read: K, query: BackgroundReads[K]['query']): Promise<BackgroundReads[K]['result']> {
    const inThread = (): Promise<BackgroundReads[K]['result']> => this.send(read, query) as Promise<BackgroundReads[K]['result']>;
    const next = this.running.then(inThread, inThread);
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Ends the thread (a read in progress is rejected); a later read starts another. */
  close(): void {
    const worker = this.worker;
    this.forget(new Error("the archive's report thread was closed"));
    void worker?.terminate();
  }

  private send(read: string, query: unknown): Promise<unknown> {
    clearTimeout(this.idle);
    const worker = this.worker ?? this.start();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      worker.postMessage({ read, query });
    });
  }

  private start(): Worker {
    // The session and exchange views' code lives with the web UI's server: a dist/ older than it is stale too.
    entry ??= compiledWorkerEntry(import.meta.url, 'report-worker.js', ['ui/server/session-page.ts', 'ui/server/exchange-page.ts', 'ui/server/request-diff.ts', 'ui/server/prices-for.ts', 'ui/server/curl.ts', 'ui/server/curl-credentials.ts', 'ui/server/access.ts', 'sessions/turns.ts']);
    const worker = new Worker(entry, { workerData: { file: this.file }, execArgv: [] });
    worker.unref();
    worker.on('message', (answer: WorkerAnswer) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      this.idle = setTimeout(() => this.close(), this.options.idleMs ?? IDLE_MS).unref();
      if (answer.ok) waiting?.resolve(answer.result);
      else waiting?.reject(new Error(answer.message));
    });
    // A thread that failed is dropped whole: the next read starts a fresh one.
    worker.once('error', (error) => {
      if (this.worker === worker) this.forget(error);
    });
    worker.once('exit', (code) => {
      if (this.worker === worker) this.forget(new Error(`the archive's report thread exited (code ${code}) without an answer`));
    });
    this.worker = worker;
    return worker;
  }

  private forget(error: Error): void {
    clearTimeout(this.idle);
    this.worker = undefined;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}
