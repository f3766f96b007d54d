import type { Worker } from 'node:worker_threads';
import type { ArchiveOptions } from './db.js';
import type { FromWriter, PatternSource, PriceOverridesData } from './protocol.js';
import { joinFrames } from './record-codec.js';
import { errorInfo, type ErrorInfo, type LogLevel, type WriteOutcome, type WriterState } from './writer.js';
import { WriterThread } from './writer-thread.js';

/**
 * An archive file written by a worker thread: the connection, the row mapping
 * (decoding, redaction, JSON) and every SQLite call, WAL checkpoints included, run off
 * the event loop. `options` is read again for every batch (and so for every reopen);
 * callers may change it while running (tests do, to simulate a fix).
 */
export interface ArchiveFile {
  file: string;
  options?: ArchiveOptions;
}

/** What the Recorder hears from its off-thread writer. */
export interface OffThreadWriterEvents {
  /** A batch's result, as the thread reported it. */
  outcome(outcome: WriteOutcome): void;
  /** Records that never reached the archive (the thread could not start, take them, or was lost). */
  lost(records: number, error: ErrorInfo, msg: string, always: boolean): void;
  log(level: LogLevel, fields: Record<string, unknown>, msg: string): void;
  /** A result came back or a thread was lost: more batches may be posted now. */
  ready(): void;
}

/**
 * Batches handed to the writer thread and not yet reported. More records wait in the
 * Recorder's queue, where maxQueue bounds them; the thread merges the batches it has
 * into one commit.
 */
const MAX_BATCHES_IN_FLIGHT = 4;

/**
 * The Recorder's side of writing through a worker thread: starts one when a batch
 * needs it, posts batches as one transferred buffer, keeps count of what is in flight
 * until the thread reports it, blocks for flush/open/close/pragma, and when a thread
 * crashes, exits or stops answering, counts what it had as lost and lets the next
 * batch start a new one.
 */
export class OffThreadWriter {
  readonly #file: ArchiveFile;
  readonly #syncTimeoutMs: number;
  readonly #events: OffThreadWriterEvents;
  #thread: WriterThread | undefined;
  /** Batches posted to the thread and not yet reported, in order. */
  #inFlight: { id: number; records: number }[] = [];
  #inFlightRecords = 0;
  #patterns: PatternSource[] = [];
  #prices: PriceOverridesData | null = null;
  /** The current thread's last report; what gone threads reported is summed in the *Before fields. */
  #state: WriterState = { recreated: 0, opened: 0, connection: undefined };
  #recreatedBefore = 0;
  #openedBefore = 0;

  constructor(file: ArchiveFile, syncTimeoutMs: number, events: OffThreadWriterEvents) {
    this.#file = file;
    this.#syncTimeoutMs = syncTimeoutMs;
    this.#events = events;
  }

  /** Records posted and not yet reported. */
  get inFlightRecords(): number {
    return this.#inFlightRecords;
  }

  /** Whether another batch may be posted now. */
  get canPost(): boolean {
    return this.#inFlight.length < MAX_BATCHES_IN_FLIGHT;
  }

  get recreated(): number {
    return this.#recreatedBefore + this.#state.recreated;
  }

  get connection(): number | undefined {
    return this.#state.connection === undefined ? undefined : this.#openedBefore + this.#state.connection;
  }

  /** The writer thread, while one runs. */
  get worker(): Worker | undefined {
    return this.#thread?.worker;
  }

  /**
   * Has the thread open the archive; blocks until it has tried. The error if it cannot
   * be opened; 'gone' when the thread was lost meanwhile (already reported).
   */
  open(): ErrorInfo | undefined | 'gone' {
    const thread = this.#ensureThread();
    if (!(thread instanceof WriterThread)) return thread;
    const id = thread.post((id) => ({ t: 'open', id, options: this.#options() }), [], true);
    if (!this.#await(thread, id, 'opening the archive')) return 'gone';
    return thread.take(id)?.error;
  }

  setPrices(overrides: PriceOverridesData | null): void {
    this.#prices = overrides;
    this.#thread?.postUnanswered({ t: 'prices', overrides });
  }

  /** Retention purge, run by the writer thread between batches; its outcome is logged there. */
  purge(before: number): void {
    const thread = this.#ensureThread();
    if (thread instanceof WriterThread) thread.postUnanswered({ t: 'purge', before });
  }

  setRedactions(patterns: readonly RegExp[]): void {
    // RegExps do not cross threads; their source and flags do.
    this.#patterns = patterns.map((re) => ({ source: re.source, flags: re.flags }));
    this.#thread?.postUnanswered({ t: 'redact', patterns: this.#patterns });
  }

  /**
   * Posts encoded records as one batch. Returns the bytes handed over and the
   * event-loop time of the hand-off (joining and posting; starting a thread is not
   * part of it; 0 unless `timed`; `report`: see ArchiveWriter.write), or undefined when the records could not be handed
   * over (reported through lost()).
   */
  post(frames: Uint8Array[], timed = false, report = false): { bytes: number; ms: number } | undefined {
    const thread = this.#ensureThread();
    if (!(thread instanceof WriterThread)) {
      this.#events.lost(frames.length, thread, 'archive writer thread cannot start; records lost', false);
      return undefined;
    }
    const start = timed ? performance.now() : 0;
    const records = joinFrames(frames);
    const bytes = records.byteLength; // read now: posting detaches the buffer
    try {
      const id = thread.post((id) => ({ t: 'batch', id, options: this.#options(), records, report }), [records.buffer]);
      this.#inFlight.push({ id, records: frames.length });
      this.#inFlightRecords += frames.length;
      thread.busy(true);
      return { bytes, ms: timed ? performance.now() - start : 0 };
    } catch (err) {
      this.#events.lost(frames.length, errorInfo(err), 'could not hand records to the archive writer thread; records lost', false);
      return undefined;
    }
  }

  /** Blocks until everything posted is committed (or counted as lost), at most syncTimeoutMs. */
  flush(): void {
    const thread = this.#thread;
    if (!thread || this.#inFlight.length === 0) return;
    const id = thread.post((id) => ({ t: 'flush', id }));
    this.#await(thread, id, 'flush');
  }

  /** Checkpoints and closes the archive and stops the thread (call flush() first). */
  close(): void {
    const thread = this.#thread;
    if (!thread) return; // never started: nothing to checkpoint, and no reason to create a file now
    const id = thread.post((id) => ({ t: 'close', id }));
    const result = thread.wait(id, this.#syncTimeoutMs);
    if (result === 'timeout') this.#events.log('warn', { timeoutMs: this.#syncTimeoutMs }, 'archive writer thread did not close in time; the WAL may be left uncheckpointed');
    this.#thread = undefined;
    thread.dispose();
  }

  pragma(source: string): unknown {
    const thread = this.#thread;
    if (!thread) throw new Error('no archive connection is open');
    const id = thread.post((id) => ({ t: 'pragma', id, source }), [], true);
    if (!this.#await(thread, id, 'pragma')) throw new Error('the archive writer thread did not answer');
    const answer = thread.take(id);
    if (answer?.error) throw new Error(answer.error.message);
    return answer?.value;
  }

  #options(): ArchiveOptions {
    return { ...this.#file.options };
  }

  /** The running writer thread, started if there is none; or why it cannot start. */
  #ensureThread(): WriterThread | ErrorInfo {
    if (this.#thread) return this.#thread;
    try {
      const thread: WriterThread = new WriterThread(this.#file.file, {
        message: (message) => this.#onMessage(thread, message),
        gone: (error) => this.#gone(thread, error),
      });
      if (this.#patterns.length > 0) thread.postUnanswered({ t: 'redact', patterns: this.#patterns });
      if (this.#prices) thread.postUnanswered({ t: 'prices', overrides: this.#prices });
      this.#thread = thread;
      return thread;
    } catch (err) {
      return errorInfo(err);
    }
  }

  #onMessage(thread: WriterThread, message: FromWriter): void {
    if (thread !== this.#thread) return;
    switch (message.t) {
      case 'log':
        this.#events.log(message.level, message.fields, message.msg);
        break;
      case 'written': {
        let records = 0;
        while (this.#inFlight.length > 0 && this.#inFlight[0]!.id <= message.upTo) records += this.#inFlight.shift()!.records;
        this.#inFlightRecords -= records;
        this.#state = message.state;
        this.#events.outcome(message.outcome);
        if (this.#inFlight.length === 0) thread.busy(false);
        this.#events.ready();
        break;
      }
      case 'answer':
        this.#state = message.state;
        break;
      case 'fatal':
        break; // reported through gone()
    }
  }

  /** Blocks until request `id` is answered; gives the thread up if it does not answer in time. */
  #await(thread: WriterThread, id: number, what: string): boolean {
    const result = thread.wait(id, this.#syncTimeoutMs);
    if (result === 'answered') return true;
    if (result === 'timeout') {
      thread.dispose();
      this.#gone(thread, { message: `archive writer thread did not answer (${what}) within ${this.#syncTimeoutMs} ms` });
    }
    return false; // 'gone' was reported through gone()
  }

  /** The thread crashed, exited or was given up: what it had counts as lost; the next batch starts a new one. */
  #gone(thread: WriterThread, error: ErrorInfo): void {
    if (thread !== this.#thread) return;
    this.#thread = undefined;
    this.#recreatedBefore += this.#state.recreated;
    this.#openedBefore += this.#state.opened;
    this.#state = { recreated: 0, opened: 0, connection: undefined };
    const records = this.#inFlightRecords;
    this.#inFlight = [];
    this.#inFlightRecords = 0;
    this.#events.lost(records, error, 'archive writer thread failed; records in flight are lost; a new one starts with the next batch', true);
    this.#events.ready();
  }
}
