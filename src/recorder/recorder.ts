import type { Worker } from 'node:worker_threads';
import type { Exchange, TunnelRecord, WsMessageRecord } from '../exchange.js';
import type { Logger } from '../log.js';
import { resolveRecorderOptions, type RecorderOptions } from './recorder-options.js';
import type { Archive } from './db.js';
import type { CacheEntry } from '../cache/response-cache.js';
import { OffThreadWriter, type ArchiveFile } from './off-thread-writer.js';
import { encodeRecord } from './record-codec.js';
import { Observers } from './observers.js';
import { ArchiveHealth } from './archive-health.js';
import { HandOffTiming } from './batch-channel.js';
import { BatchSizer } from './batch-sizer.js';
import { RecordQueue } from './record-queue.js';
import { ArchiveWriter, errorMessage, type EstimatedUsage, type LogLevel, type Pending, type WriteOutcome, type WrittenExchange } from './writer.js';
import { writerWorkerUrl } from './writer-thread.js';
import type { PriceOverrides } from '../cost/override-match.js';
import { overridesData } from './overrides-transfer.js';

export type { ArchiveFile } from './off-thread-writer.js';
export type { EstimatedUsage, WrittenExchange } from './writer.js';
export { batchChannel, type BatchEvent } from './batch-channel.js';
export type { RecorderOptions } from './recorder-options.js';

export interface RecorderStats {
  recorded: number;
  lost: number;
  /** Records queued here plus those handed to the writer thread and not yet reported. */
  pending: number;
}

/**
 * How long records wait to be handed to the writer thread in one message. Every
 * message costs a fixed amount (waking the thread, the answer coming back) however
 * few records it carries: posting per record at 2,000 exchanges/s spent a fifth of a
 * core on hand-offs. A full batch goes at once.
 */
const POST_DELAY_MS = 10;

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
  /** Rows per automatic batch on the calling thread, from measured cost. */
  readonly #sizer: BatchSizer;

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
  readonly #estimateObservers = new Observers<EstimateReport>((err) => this.#observerFailed(err));
  #prices: PriceOverrides | undefined;
  readonly #health: ArchiveHealth;
  readonly #timing = new HandOffTiming();
  #closed = false;

  constructor(archive: Archive | (() => Archive) | ArchiveFile, options: RecorderOptions) {
    this.#logger = options.logger;
    this.#health = new ArchiveHealth(options.logger);
    const limits = resolveRecorderOptions(options);
    this.#maxBatch = limits.maxBatch;
    this.#maxQueue = limits.maxQueue;
    this.#maxBatchBytes = limits.maxBatchBytes;
    this.#sizer = new BatchSizer(limits.maxBatch, limits.batchBudgetMs);
    const log = (level: LogLevel, fields: Record<string, unknown>, msg: string): void => this.#logger[level](fields, msg);
    if (isArchiveFile(archive)) {
      writerWorkerUrl(); // running from sources with a missing or stale dist/: say so now, loudly
      this.#offThread = new OffThreadWriter(archive, limits.syncTimeoutMs, {
        outcome: (outcome) => this.#applyOutcome(outcome),
        lost: (records, error, msg, always) => {
          this.#health.lost += records;
          this.#health.failed(error, records, msg, always);
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
    return this.#health.healthy;
  }

  stats(): RecorderStats {
    return { recorded: this.#health.recorded, lost: this.#health.lost, pending: this.#pendingCount() };
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
    if (error) this.#health.failed(error, 0);
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

  /**
   * Calls `observer` with the usage the writer estimated for committed exchanges whose
   * answer reported none (recorder/row-estimate.ts): the policy charges their budgets
   * and token limits then, Prometheus adds them to its counters. `none` names those the
   * writer decided not to estimate after all (no readable prompt, the tokenizer failed),
   * so what waits for them is let go at once. Returns the unsubscribe.
   */
  onEstimated(observer: (estimated: readonly EstimatedUsage[], none: readonly string[]) => void): () => void {
    return this.#estimateObservers.add((report) => observer(report.estimated, report.none));
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
      this.#health.lost++;
      return;
    }
    let frame: Buffer;
    try {
      frame = this.#timing.encode(() => encodeRecord(item));
    } catch (err) {
      // Something in the record JSON cannot hold (a bug elsewhere): only it is lost.
      this.#health.lost++;
      this.#logger.warn({ err: errorMessage(err) }, 'could not map a record for the archive');
      return;
    }
    // The disk is not keeping up; the newest traffic is the most useful to keep.
    if (this.#pendingCount() >= this.#maxQueue && this.#queue.dropOldest()) this.#health.dropped(this.#maxQueue);
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
    const start = performance.now();
    const taken = this.#writeBatch(this.#sizer.rows(), this.#maxBatchBytes);
    this.#sizer.measured(performance.now() - start, taken);
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
    this.#health.applyOutcome(outcome);
    if (outcome.written) this.#writtenObservers.emit(outcome.written);
    if (outcome.estimated || outcome.unestimated) this.#estimateObservers.emit({ estimated: outcome.estimated ?? [], none: outcome.unestimated ?? [] });
  }

  #observerFailed(err: unknown): void {
    this.#logger.warn({ err: errorMessage(err) }, 'an exchange observer failed');
  }

  /** Hands one batch to the writer thread, timing the hand-off when someone listens. */
  #postBatch(): void {
    const batch = this.#queue.take(this.#maxBatch, this.#maxBatchBytes);
    if (batch.length === 0) return;
    const timed = this.#timing.wanted;
    const handedOff = this.#offThread!.post(batch, timed, this.#writtenObservers.size > 0);
    if (timed && handedOff) this.#timing.publish(batch.length, handedOff);
  }
}

interface EstimateReport {
  estimated: readonly EstimatedUsage[];
  none: readonly string[];
}

function isArchiveFile(archive: Archive | (() => Archive) | ArchiveFile): archive is ArchiveFile {
  return typeof archive === 'object' && typeof (archive as Partial<ArchiveFile>).file === 'string' && !('db' in archive);
}

