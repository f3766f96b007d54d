import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort, type Transferable } from 'node:worker_threads';
import type { FromWriter, ToWriter, WriterInit } from './protocol.js';
import { errorInfo, type ErrorInfo } from './writer.js';
import { compiledWorkerEntry } from '../worker-entry.js';

export interface WriterThreadEvents {
  /** Every message from the worker, in order (read asynchronously or while waiting). */
  message(message: FromWriter): void;
  /** The worker crashed, exited, or was given up on; called once, not after dispose(). */
  gone(error: ErrorInfo): void;
}

export type WaitResult = 'answered' | 'timeout' | 'gone';

/**
 * The main thread's handle on one writer worker: posts requests, hands answers to the
 * Recorder, and can block until a given request is answered (flush, close, open) by
 * waiting on a shared counter the worker bumps after each message it posts.
 */
export class WriterThread {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #wake: Int32Array;
  readonly #events: WriterThreadEvents;
  #nextId = 1;
  /** Highest request id answered (answers come in request order). */
  #answered = 0;
  /** Answers someone asked to keep (pragma, open). */
  readonly #kept = new Map<number, Extract<FromWriter, { t: 'answer' }>>();
  #wanted = new Set<number>();
  #gone = false;
  #busy = false;

  constructor(file: string, events: WriterThreadEvents) {
    this.#events = events;
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    this.#wake = new Int32Array(signal);
    this.#port = port1;
    const workerData: WriterInit = { file, port: port2, signal };
    // execArgv: [] so the worker does not inherit loaders or flags (tsx, inspector) it has no use for.
    this.#worker = new Worker(writerWorkerUrl(), { workerData, transferList: [port2], execArgv: [] });
    this.#worker.on('error', (err) => this.#die(errorInfo(err)));
    this.#worker.on('exit', (code) => this.#die({ message: `archive writer thread exited (code ${code})` }));
    port1.on('message', (message: FromWriter) => this.#receive(message));
    // Neither keeps the process alive by itself; busy() refs the worker while work is in flight.
    port1.unref();
    this.#worker.unref();
  }

  get alive(): boolean {
    return !this.#gone;
  }

  /** The worker (diagnostics and tests). */
  get worker(): Worker {
    return this.#worker;
  }

  /** Posts a request; its id is what wait() takes. Throws what postMessage throws (DataCloneError). */
  post(build: (id: number) => ToWriter, transfer: Transferable[] = [], keepAnswer = false): number {
    const id = this.#nextId;
    this.#port.postMessage(build(id), transfer);
    this.#nextId++;
    if (keepAnswer) this.#wanted.add(id);
    return id;
  }

  /** Posts a request that carries no id (answered by nothing). */
  postUnanswered(message: ToWriter): void {
    this.#port.postMessage(message);
  }

  /** While busy, the worker keeps the process alive, so results in flight are not cut off by a natural exit. */
  busy(busy: boolean): void {
    if (busy === this.#busy || this.#gone) return;
    this.#busy = busy;
    if (busy) this.#worker.ref();
    else this.#worker.unref();
  }

  /**
   * Blocks the calling thread until request `id` is answered, handling every message
   * that arrives meanwhile (results, logs) in order.
   */
  wait(id: number, timeoutMs: number): WaitResult {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#gone) return 'gone';
      if (this.#answered >= id) return 'answered';
      // Read the counter before draining: a message posted after the drain moves it,
      // and Atomics.wait then returns at once instead of sleeping past it.
      const seen = Atomics.load(this.#wake, 0);
      if (this.#drain()) continue;
      const left = deadline - performance.now();
      if (left <= 0) return 'timeout';
      Atomics.wait(this.#wake, 0, seen, left);
    }
  }

  /** The kept answer to request `id` (once). */
  take(id: number): Extract<FromWriter, { t: 'answer' }> | undefined {
    const answer = this.#kept.get(id);
    this.#kept.delete(id);
    this.#wanted.delete(id);
    return answer;
  }

  /** Stops the worker without reporting it as gone. */
  dispose(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#stop();
  }

  #drain(): boolean {
    let any = false;
    while (!this.#gone) {
      const received = receiveMessageOnPort(this.#port);
      if (!received) break;
      any = true;
      this.#receive(received.message as FromWriter);
    }
    return any;
  }

  #receive(message: FromWriter): void {
    if (this.#gone) return;
    if (message.t === 'written') {
      this.#answered = Math.max(this.#answered, message.upTo);
    } else if (message.t === 'answer') {
      this.#answered = Math.max(this.#answered, message.id);
      if (this.#wanted.has(message.id)) this.#kept.set(message.id, message);
    } else if (message.t === 'fatal') {
      this.#die(message.error);
      return;
    }
    this.#events.message(message);
  }

  #die(error: ErrorInfo): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#stop();
    this.#events.gone(error);
  }

  #stop(): void {
    this.#port.close();
    this.#worker.unref();
    // A worker blocked inside SQLite stops when the call returns; nobody waits for that.
    this.#worker.terminate().catch(() => {});
  }
}

let workerUrl: URL | undefined;

/** The writer thread's entry: the compiled writer-worker.js (compiledWorkerEntry says where, and refuses a stale one). */
export function writerWorkerUrl(): URL {
  return (workerUrl ??= compiledWorkerEntry(import.meta.url, 'writer-worker.js', ['content-encoding.ts', 'exchange.ts', 'ids.ts']));
}
