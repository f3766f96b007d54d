import { channel } from 'node:diagnostics_channel';
import type { Worker } from 'node:worker_threads';
import type { Exchange, TunnelRecord, WsMessageRecord } from '../exchange.js';
import type { Logger } from '../log.js';
import type { Archive } from './db.js';
import type { CacheEntry } from '../cache/response-cache.js';
import { OffThreadWriter, type ArchiveFile } from './off-thread-writer.js';
import { encodeRecord } from './record-codec.js';
import { Observers } from './observers.js';
import { RecordQueue } from './record-queue.js';
import { ArchiveWriter, errorMessage, type ErrorInfo, type LogLevel, type Pending, type WriteOutcome, type WrittenExchange } from './writer.js';
import { writerWorkerUrl } from './writer-thread.js';
import type { PriceOverrides } from '../cost/override-match.js';
import { overridesData } from './row-cost.js';

export type { ArchiveFile } from './off-thread-writer.js';
export type { WrittenExchange } from './writer.js';

export interface RecorderOptions {
  logger: Logger;
  /**
   * Rows per write on the calling thread (keeps each well under a millisecond of
   * event-loop time), or per message to the writer thread (bounds the copying).
   */
  maxBatch?: number;
  /** Records waiting beyond this push out the oldest, which count as lost. */
  maxQueue?: number;
  /**
   * Encoded bytes (bodies and metadata) per automatic batch (at least one record is
   * always taken): a few large bodies cost as much as many small ones, so the row cap
   * alone does not keep a batch short.
   */
  maxBatchBytes?: number;
  /**
   * Event-loop time an automatic batch aims for when writing on the calling thread.
   * Row cost depends on the disk and body sizes, so the batch size adapts (never above
   * maxBatch) from measured cost.
   */
  batchBudgetMs?: number;
  /**
   * Longest flush(), open() or close() blocks waiting for the writer thread. Past it
   * the thread is given up (its records count as lost) and a new one started on the
   * next batch, so a stuck disk cannot hang shutdown forever.
   */
  syncTimeoutMs?: number;
}

export interface RecorderStats {
  recorded: number;
  lost: number;
  /** Records queued here plus those handed to the writer thread and not yet reported. */
  pending: number;
}

const DEFAULT_MAX_BATCH = 64;
const DEFAULT_MAX_QUEUE = 10_000;
const DEFAULT_MAX_BATCH_BYTES = 1 << 20;
const DEFAULT_BATCH_BUDGET_MS = 1;
const DEFAULT_SYNC_TIMEOUT_MS = 10_000;
/**
 * How long records wait to be handed to the writer thread in one message. Every
 * message costs a fixed amount (waking the thread, the answer coming back) however
 * few records it carries: posting per record at 2,000 exchanges/s spent a fifth of a
 * core on hand-offs. A full batch goes at once.
 */
const POST_DELAY_MS = 10;
/**
 * Published for every batch handed to the writer thread (when someone subscribes).
 * The benchmark reads it; nothing is timed without a subscriber.
 */
export const batchChannel = channel('llmtap:recorder:batch');
export interface BatchEvent {
  records: number;
  /** Encoded bytes handed over. */
  bytes: number;
  /** Event-loop time of the hand-off itself: joining the frames and posting them. */
  ms: number;
  /** Event-loop time spent encoding records since the previous hand-off, and the longest single one. */
  encodeMs: number;
  encodeMaxMs: number;
}
/** Weight of the newest batch in the per-row cost estimate. */
const COST_SMOOTHING = 0.2;
/** A broken archive fails every batch; one log line per interval is enough. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Writes exchanges and tunnels to the archive off the hot path. Recording encodes
 * the record once (record-codec.ts; microseconds), queues the bytes and never throws;
 * the proxy must keep relaying traffic whatever the disk does.
 * Failures are counted as lost and flip `healthy`, which fail-closed mode turns
 * into 503s.
 *
 * Two ways to write. Given an `ArchiveFile` (what the proxy uses), a worker thread
 * owns the connection (off-thread-writer.ts): batches are posted to it, it reports
 * each result back, and `healthy`/`stats()` mirror those reports. Given an `Archive` (or a factory of them),
 * the writes run on the calling thread in short, self-timed batches; that keeps the
 * archive object reachable (unit tests inspect and break it directly).
 */
export class Recorder {
  readonly #logger: Logger;
  readonly #maxBatch: number;
  readonly #maxQueue: number;
  readonly #maxBatchBytes: number;
  readonly #batchBudgetMs: number;
  /** Smoothed milliseconds per written record, measured on automatic batches (calling-thread writes). */
  #rowCostMs: number;

  /** Writes on the calling thread (Archive given). */
  readonly #inline: ArchiveWriter | undefined;
  /** Writes in a worker thread (ArchiveFile given). */
  readonly #offThread: OffThreadWriter | undefined;

  readonly #queue = new RecordQueue();
  #scheduled: NodeJS.Immediate | undefined;
  /** A hand-off to the writer thread waiting for more records (see POST_DELAY_MS). */
  #delayed: NodeJS.Timeout | undefined;

  readonly #observers = new Observers<Exchange>((err) => this.#observerFailed(err));
  readonly #writtenObservers = new Observers<readonly WrittenExchange[]>((err) => this.#observerFailed(err));
  #prices: PriceOverrides | undefined;
  #recorded = 0;
  #lost = 0;
  #healthy = true;
  #closed = false;
  #lastErrorLog = -Infinity;
  #lastDropLog = -Infinity;
  /** Encoding time since the last hand-off, kept only while batchChannel has subscribers. */
  #encodeMs = 0;
  #encodeMaxMs = 0;

  constructor(archive: Archive | (() => Archive) | ArchiveFile, options: RecorderOptions) {
    this.#logger = options.logger;
    this.#maxBatch = Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH);
    this.#maxQueue = Math.max(1, options.maxQueue ?? DEFAULT_MAX_QUEUE);
    this.#maxBatchBytes = Math.max(1, options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES);
    this.#batchBudgetMs = options.batchBudgetMs ?? DEFAULT_BATCH_BUDGET_MS;
    this.#rowCostMs = this.#batchBudgetMs / this.#maxBatch; // start optimistic: full batches
    const log = (level: LogLevel, fields: Record<string, unknown>, msg: string): void => this.#logger[level](fields, msg);
    if (isArchiveFile(archive)) {
      writerWorkerUrl(); // running from sources with a missing or stale dist/: say so now, loudly
      this.#offThread = new OffThreadWriter(archive, Math.max(1, options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS), {
        outcome: (outcome) => this.#applyOutcome(outcome),
        lost: (records, error, msg, always) => {
          this.#lost += records;
          this.#failed(error, records, msg, always);
        },
        log,
        ready: () => {
          if (!this.#closed && this.#queue.length > 0) this.#schedule();
        },
      });
    } else {
      this.#inline = new ArchiveWriter(archive, log);
    }
  }

  /** False after a failed write until the next write succeeds. */
  get healthy(): boolean {
    return this.#healthy;
  }

  stats(): RecorderStats {
    return { recorded: this.#recorded, lost: this.#lost, pending: this.#pendingCount() };
  }

  /** Times the archive file was found deleted or replaced and re-created at its path. */
  get recreated(): number {
    return this.#inline ? this.#inline.state.recreated : this.#offThread!.recreated;
  }

  /**
   * Serial number (1, 2, …) of the writer's open archive connection, undefined while
   * none is open; a new number means the connection was dropped and reopened.
   * Diagnostics and tests. With a writer thread, as of its last report.
   */
  get connection(): number | undefined {
    return this.#inline ? this.#inline.state.connection : this.#offThread!.connection;
  }

  /** The open archive connection when writing on the calling thread (diagnostics and tests); undefined with a writer thread. */
  get archive(): Archive | undefined {
    return this.#inline?.archive;
  }

  /** The writer thread, while one runs (diagnostics and tests). */
  get writerThread(): Worker | undefined {
    return this.#offThread?.worker;
  }

  /**
   * Opens the archive now instead of at the first write, so that an archive that
   * cannot be opened or written shows at start: logged, and `healthy` false (which
   * fail-closed mode turns into 503s). Never throws; later batches keep retrying.
   * Blocks until the writer thread has tried (at start, before traffic).
   */
  open(): boolean {
    if (this.#closed) return false;
    const error = this.#inline ? this.#inline.open() : this.#offThread!.open();
    if (error === 'gone') return false; // already reported
    if (error) this.#failed(error, 0);
    return !error;
  }

  recordExchange(exchange: Exchange): void {
    // Observers (Prometheus, OpenTelemetry) see the exchange as it is handed over; one
    // that throws must never cost the archive its record.
    this.#observers.emit(exchange);
    this.#enqueue({ kind: 'exchange', exchange });
  }

  /** Calls `observer` with every finished exchange handed to the archive, synchronously; returns the unsubscribe. */
  onExchange(observer: (exchange: Exchange) => void): () => void {
    return this.#observers.add(observer);
  }

  /**
   * Calls `observer` after each committed batch with what the archive assigned to its
   * exchanges (session, thread, turn, cost). The writer reports them only while someone
   * subscribes, so nobody watching costs nothing. Returns the unsubscribe.
   */
  onWritten(observer: (written: readonly WrittenExchange[]) => void): () => void {
    return this.#writtenObservers.add(observer);
  }

  /** The --prices overrides last set (the Prometheus cost counter prices with the same). */
  get prices(): PriceOverrides | undefined {
    return this.#prices;
  }

  /** The response cache's durable copy (src/cache/cache-table.ts), written with the archive's other rows. */
  recordCacheEntry(entry: CacheEntry): void {
    this.#enqueue({ kind: 'cache_put', entry });
  }

  recordCacheEviction(keys: string[]): void {
    if (keys.length > 0) this.#enqueue({ kind: 'cache_delete', keys });
  }

  /** Messages of a WebSocket session still open (long sessions are recorded in batches). */
  recordWsMessages(exchangeId: string, messages: WsMessageRecord[]): void {
    this.#enqueue({ kind: 'ws_messages', exchangeId, messages });
  }

  /** Operator's extra patterns (--redact), applied on top of the built-in key patterns; replaced on reload. */
  setRedactions(patterns: readonly RegExp[]): void {
    if (this.#inline) this.#inline.setRedactions(patterns);
    else this.#offThread!.setRedactions(patterns);
  }

  /** Negotiated prices (--prices) over the built-in price data. */
  setPrices(overrides: PriceOverrides | undefined): void {
    this.#prices = overrides;
    if (this.#inline) this.#inline.setPrices(overrides);
    else this.#offThread!.setPrices(overridesData(overrides));
  }

  /** Deletes what started before `before` (retention); on the writer thread, in short transactions. */
  purge(before: number): void {
    if (this.#inline) this.#inline.purge(before);
    else this.#offThread!.purge(before);
  }

  recordTunnel(tunnel: TunnelRecord): void {
    this.#enqueue({ kind: 'tunnel', tunnel });
  }

  /**
   * Writes everything pending now, synchronously (shutdown, tests): when it returns,
   * every record so far is committed (or counted as lost) and visible to other
   * connections. With a writer thread this blocks until the thread has answered, at
   * most `syncTimeoutMs`.
   */
  flush(): void {
    this.#unschedule();
    if (this.#inline) {
      while (this.#pendingCount() > 0) this.#writeBatch(this.#maxBatch, Infinity);
      return;
    }
    if (this.#pendingCount() === 0) return;
    while (this.#queue.length > 0) this.#postBatch();
    this.#offThread!.flush();
  }

  /** Flushes, checkpoints and closes the archive; later records count as lost. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    if (this.#inline) this.#inline.close();
    else this.#offThread!.close();
  }

  /**
   * Runs a PRAGMA on the writer's open connection and returns its rows (diagnostics and
   * tests: a test frees "disk space" with max_page_count this way). Throws when no
   * connection is open. Blocks until the writer thread answers.
   */
  pragma(source: string): unknown {
    return this.#inline ? this.#inline.pragma(source) : this.#offThread!.pragma(source);
  }

  #enqueue(item: Pending): void {
    if (this.#closed) {
      this.#lost++;
      return;
    }
    const timed = batchChannel.hasSubscribers;
    const start = timed ? performance.now() : 0;
    let frame: Buffer;
    try {
      frame = encodeRecord(item);
    } catch (err) {
      // Something in the record JSON cannot hold (a bug elsewhere): only it is lost.
      this.#lost++;
      this.#logger.warn({ err: errorMessage(err) }, 'could not map a record for the archive');
      return;
    }
    if (timed) {
      const ms = performance.now() - start;
      this.#encodeMs += ms;
      this.#encodeMaxMs = Math.max(this.#encodeMaxMs, ms);
    }
    // The disk is not keeping up; the newest traffic is the most useful to keep.
    if (this.#pendingCount() >= this.#maxQueue && this.#queue.dropOldest()) {
      this.#lost++;
      const t = Date.now();
      if (t - this.#lastDropLog >= ERROR_LOG_INTERVAL_MS) {
        this.#lastDropLog = t;
        this.#logger.warn({ maxQueue: this.#maxQueue, lost: this.#lost }, 'archive queue full; dropping oldest records');
      }
    }
    this.#queue.push(frame);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    // Calling-thread writes and full batches go in the next turn; a thread hand-off of
    // a few records waits a little for company.
    if (this.#inline || this.#queue.length >= this.#maxBatch) {
      this.#unschedule();
      this.#scheduled = setImmediate(this.#onScheduled);
    } else {
      this.#delayed ??= setTimeout(this.#onScheduled, POST_DELAY_MS);
    }
  }

  #unschedule(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    if (this.#delayed) clearTimeout(this.#delayed);
    this.#scheduled = undefined;
    this.#delayed = undefined;
  }

  readonly #onScheduled = (): void => {
    this.#unschedule();
    const offThread = this.#offThread;
    if (offThread) {
      // One batch per call; the next is scheduled while the writer can take more, else
      // when a result comes back (ready()).
      if (offThread.canPost) this.#postBatch();
      if (this.#queue.length > 0 && offThread.canPost) this.#schedule();
      return;
    }
    const rows = Math.min(this.#maxBatch, Math.max(1, Math.floor(this.#batchBudgetMs / this.#rowCostMs)));
    const start = performance.now();
    const taken = this.#writeBatch(rows, this.#maxBatchBytes);
    if (taken > 0) {
      const cost = (performance.now() - start) / taken;
      this.#rowCostMs += (cost - this.#rowCostMs) * COST_SMOOTHING;
    }
    // Yield between batches so requests keep flowing while a backlog drains.
    if (this.#pendingCount() > 0) this.#schedule();
  };

  #pendingCount(): number {
    return this.#queue.length + (this.#offThread?.inFlightRecords ?? 0);
  }

  /** Calling-thread mode: takes and writes one batch; returns how many records it took (written or lost). */
  #writeBatch(maxRows: number, maxBytes: number): number {
    const batch = this.#queue.take(maxRows, maxBytes);
    if (batch.length === 0) return 0;
    this.#applyOutcome(this.#inline!.write(batch, this.#writtenObservers.size > 0));
    return batch.length;
  }

  #applyOutcome(outcome: WriteOutcome): void {
    this.#recorded += outcome.recorded;
    this.#lost += outcome.lost;
    if (outcome.written) this.#writtenObservers.emit(outcome.written);
    if (outcome.error) {
      this.#failed(outcome.error, outcome.rows);
    } else if (outcome.rows > 0 && !this.#healthy) {
      this.#healthy = true;
      this.#logger.info({ lost: this.#lost }, 'archive writes recovered');
    }
  }

  #observerFailed(err: unknown): void {
    this.#logger.warn({ err: errorMessage(err) }, 'an exchange observer failed');
  }

  /** Marks the archive unhealthy and logs (rate-limited): message and code only. */
  #failed(error: ErrorInfo, rows: number, msg?: string, always = false): void {
    const wasHealthy = this.#healthy;
    this.#healthy = false;
    const t = Date.now();
    if (wasHealthy || always || t - this.#lastErrorLog >= ERROR_LOG_INTERVAL_MS) {
      this.#lastErrorLog = t;
      // Message and code only: row data would put prompts (and whatever they hold) in the log.
      msg ??= rows > 0 ? 'archive write failed; records lost' : 'archive unavailable; exchanges are not recorded until it can be opened (retried on each write)';
      this.#logger.error({ err: error.message, code: error.code, rows, lost: this.#lost }, msg);
    }
  }

  /** Hands one batch to the writer thread, timing the hand-off when someone listens. */
  #postBatch(): void {
    const batch = this.#queue.take(this.#maxBatch, this.#maxBatchBytes);
    if (batch.length === 0) return;
    const timed = batchChannel.hasSubscribers;
    const handedOff = this.#offThread!.post(batch, timed, this.#writtenObservers.size > 0);
    if (timed && handedOff) {
      batchChannel.publish({ records: batch.length, ...handedOff, encodeMs: this.#encodeMs, encodeMaxMs: this.#encodeMaxMs } satisfies BatchEvent);
      this.#encodeMs = 0;
      this.#encodeMaxMs = 0;
    }
  }
}

function isArchiveFile(archive: Archive | (() => Archive) | ArchiveFile): archive is ArchiveFile {
  return typeof archive === 'object' && typeof (archive as Partial<ArchiveFile>).file === 'string' && !('db' in archive);
}

