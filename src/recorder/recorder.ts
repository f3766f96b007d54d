import type { Exchange, TunnelRecord } from '../exchange.js';
import type { Logger } from '../log.js';
import type { Archive, ExchangeRow, TunnelRow } from './db.js';
import { makeRedactor, redactText, type TextRedactor } from './redact.js';
import { exchangeToRow, tunnelToRow } from './rows.js';

export interface RecorderOptions {
  logger: Logger;
  /** Rows per write; keeps each flush well under a millisecond of event-loop time. */
  maxBatch?: number;
  /** Records waiting beyond this push out the oldest, which count as lost. */
  maxQueue?: number;
  /**
   * Captured body bytes per automatic batch (at least one record is always taken):
   * a few large bodies cost as much as many small ones, so the row cap alone does not
   * keep a batch short.
   */
  maxBatchBytes?: number;
  /**
   * Event-loop time an automatic batch aims for. Row cost depends on the disk and
   * body sizes, so the batch size adapts (never above maxBatch) from measured cost.
   */
  batchBudgetMs?: number;
}

export interface RecorderStats {
  recorded: number;
  lost: number;
  pending: number;
}

type Pending = { kind: 'exchange'; exchange: Exchange } | { kind: 'tunnel'; tunnel: TunnelRecord };

const DEFAULT_MAX_BATCH = 64;
const DEFAULT_MAX_QUEUE = 10_000;
const DEFAULT_MAX_BATCH_BYTES = 1 << 20;
const DEFAULT_BATCH_BUDGET_MS = 1;
/** Weight of the newest batch in the per-row cost estimate. */
const COST_SMOOTHING = 0.2;
/** A broken archive fails every batch; one log line per interval is enough. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Writes exchanges and tunnels to the archive off the hot path. Recording is O(1)
 * and never throws; the proxy must keep relaying traffic whatever the disk does.
 * Failures are counted as lost and flip `healthy`, which fail-closed mode turns
 * into 503s.
 */
export class Recorder {
  readonly #logger: Logger;
  #redact: TextRedactor = redactText;
  readonly #maxBatch: number;
  readonly #maxQueue: number;
  readonly #maxBatchBytes: number;
  readonly #batchBudgetMs: number;
  /** Smoothed milliseconds per written record, measured on automatic batches. */
  #rowCostMs: number;
  #archive: Archive | undefined;
  /** Opens a fresh connection: the factory we were given, or the archive's own reopen. */
  readonly #openArchive: (() => Archive) | undefined;

  // Queue as array + head index: push and take-from-front are both O(1) amortized.
  #queue: (Pending | undefined)[] = [];
  #head = 0;
  #scheduled: NodeJS.Immediate | undefined;

  #recorded = 0;
  #lost = 0;
  #recreated = 0;
  #healthy = true;
  #closed = false;
  #lastErrorLog = -Infinity;
  #lastDropLog = -Infinity;

  constructor(archive: Archive | (() => Archive), options: RecorderOptions) {
    if (typeof archive === 'function') {
      this.#openArchive = archive;
    } else {
      this.#archive = archive;
      this.#openArchive = archive.reopen?.bind(archive);
    }
    this.#logger = options.logger;
    this.#maxBatch = Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH);
    this.#maxQueue = Math.max(1, options.maxQueue ?? DEFAULT_MAX_QUEUE);
    this.#maxBatchBytes = Math.max(1, options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES);
    this.#batchBudgetMs = options.batchBudgetMs ?? DEFAULT_BATCH_BUDGET_MS;
    this.#rowCostMs = this.#batchBudgetMs / this.#maxBatch; // start optimistic: full batches
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
    return this.#recreated;
  }

  /** The open archive connection, if any (diagnostics and tests). */
  get archive(): Archive | undefined {
    return this.#archive;
  }

  /**
   * Opens the archive now instead of at the first write, so that an archive that
   * cannot be opened or written shows at start: logged, and `healthy` false (which
   * fail-closed mode turns into 503s). Never throws; later batches keep retrying.
   */
  open(): boolean {
    if (this.#closed) return false;
    try {
      this.#getArchive();
      return true;
    } catch (err) {
      this.#failed(err, 0);
      return false;
    }
  }

  recordExchange(exchange: Exchange): void {
    this.#enqueue({ kind: 'exchange', exchange });
  }

  /** Operator's extra patterns (--redact), applied on top of the built-in key patterns; replaced on reload. */
  setRedactions(patterns: readonly RegExp[]): void {
    this.#redact = makeRedactor(patterns);
  }

  recordTunnel(tunnel: TunnelRecord): void {
    this.#enqueue({ kind: 'tunnel', tunnel });
  }

  /** Writes everything pending now, synchronously (shutdown, tests). */
  flush(): void {
    if (this.#scheduled) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    while (this.#pendingCount() > 0) this.#writeBatch(this.#maxBatch, Infinity);
  }

  /** Flushes, checkpoints and closes the archive; later records count as lost. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    const archive = this.#archive;
    this.#archive = undefined;
    if (!archive) return; // never opened: nothing to checkpoint, and no reason to create a file now
    try {
      archive.checkpoint();
    } catch (err) {
      this.#logger.warn({ err: errorMessage(err) }, 'archive checkpoint failed');
    }
    try {
      archive.close();
    } catch (err) {
      this.#logger.warn({ err: errorMessage(err) }, 'archive close failed');
    }
  }

  #enqueue(item: Pending): void {
    if (this.#closed) {
      this.#lost++;
      return;
    }
    if (this.#pendingCount() >= this.#maxQueue) {
      // The disk is not keeping up; the newest traffic is the most useful to keep.
      this.#queue[this.#head++] = undefined;
      this.#lost++;
      const t = Date.now();
      if (t - this.#lastDropLog >= ERROR_LOG_INTERVAL_MS) {
        this.#lastDropLog = t;
        this.#logger.warn({ maxQueue: this.#maxQueue, lost: this.#lost }, 'archive queue full; dropping oldest records');
      }
    }
    this.#queue.push(item);
    if (!this.#scheduled) this.#scheduled = setImmediate(this.#onImmediate);
  }

  readonly #onImmediate = (): void => {
    this.#scheduled = undefined;
    const rows = Math.min(this.#maxBatch, Math.max(1, Math.floor(this.#batchBudgetMs / this.#rowCostMs)));
    const start = performance.now();
    const taken = this.#writeBatch(rows, this.#maxBatchBytes);
    if (taken > 0) {
      const cost = (performance.now() - start) / taken;
      this.#rowCostMs += (cost - this.#rowCostMs) * COST_SMOOTHING;
    }
    // Yield between batches so requests keep flowing while a backlog drains.
    if (this.#pendingCount() > 0 && !this.#scheduled) this.#scheduled = setImmediate(this.#onImmediate);
  };

  #pendingCount(): number {
    return this.#queue.length - this.#head;
  }

  #take(maxRows: number, maxBytes: number): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    while (batch.length < maxRows && this.#head < this.#queue.length) {
      const item = this.#queue[this.#head]!;
      const size = capturedBytes(item);
      if (batch.length > 0 && bytes + size > maxBytes) break;
      this.#queue[this.#head++] = undefined; // let the exchange be collected
      batch.push(item);
      bytes += size;
    }
    // Reclaim the consumed prefix once it dominates, keeping shifts amortized O(1).
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return batch;
  }

  /** Takes and writes one batch; returns how many records it took (written or lost). */
  #writeBatch(maxRows: number, maxBytes: number): number {
    const batch = this.#take(maxRows, maxBytes);
    if (batch.length === 0) return 0;

    const exchanges: ExchangeRow[] = [];
    const tunnels: TunnelRow[] = [];
    for (const item of batch) {
      try {
        if (item.kind === 'exchange') exchanges.push(exchangeToRow(item.exchange, this.#redact));
        else tunnels.push(tunnelToRow(item.tunnel));
      } catch (err) {
        // One malformed record must not take its batch-mates down with it.
        this.#lost++;
        this.#logger.warn({ err: errorMessage(err) }, 'could not map a record for the archive');
      }
    }
    const rows = exchanges.length + tunnels.length;
    if (rows === 0) return batch.length;

    try {
      const archive = this.#getArchive();
      if (exchanges.length > 0 && tunnels.length > 0) {
        // Both kinds in one commit; the inner transactions become savepoints.
        archive.db.transaction(() => {
          archive.insertExchanges(exchanges);
          archive.insertTunnels(tunnels);
        })();
      } else if (exchanges.length > 0) {
        archive.insertExchanges(exchanges);
      } else {
        archive.insertTunnels(tunnels);
      }
      this.#recorded += rows;
      if (!this.#healthy) {
        this.#healthy = true;
        this.#logger.info({ lost: this.#lost }, 'archive writes recovered');
      }
    } catch (err) {
      this.#lost += rows;
      this.#failed(err, rows);
    }
    return batch.length;
  }

  /** Marks the archive unhealthy, logs (rate-limited), and drops a connection that cannot recover by itself. */
  #failed(err: unknown, rows: number): void {
    const wasHealthy = this.#healthy;
    this.#healthy = false;
    const t = Date.now();
    if (wasHealthy || t - this.#lastErrorLog >= ERROR_LOG_INTERVAL_MS) {
      this.#lastErrorLog = t;
      // Message and code only: row data would put prompts (and whatever they hold) in the log.
      const msg = rows > 0 ? 'archive write failed; records lost' : 'archive unavailable; exchanges are not recorded until it can be opened (retried on each write)';
      this.#logger.error({ err: errorMessage(err), code: errorCode(err), rows, lost: this.#lost }, msg);
    }
    // A connection that went read-only, lost its file or was closed under us stays
    // broken; reopening on the next batch picks up a fixed file. SQLITE_BUSY and
    // SQLITE_FULL clear by themselves on the same connection.
    const archive = this.#archive;
    if (archive && this.#openArchive && needsReopen(err, archive)) {
      this.#archive = undefined;
      closeQuietly(archive);
    }
  }

  #getArchive(): Archive {
    const current = this.#archive;
    if (current?.replaced?.()) {
      // Deleted (or swapped) under us: SQLite would go on writing to the unlinked file
      // and every later record would vanish. Close it (that checkpoints into the old
      // file and removes its -wal/-shm, so nothing stale is left for the new one),
      // then create a new archive at the path below. Caveat: SQLite removes those by
      // path, so if another process already made a new archive there, its WAL goes too.
      // Close before opening, never after: closing last would remove our own new WAL.
      this.#recreated++;
      this.#archive = undefined;
      closeQuietly(current);
      this.#logger.error({ recreated: this.#recreated }, 'archive file was deleted or replaced while open; creating a new one at its path');
    }
    if (this.#archive) return this.#archive;
    // Opening lazily lets the proxy start even when the archive cannot be opened yet;
    // each batch retries until it can.
    if (!this.#openArchive) throw new Error('the archive is gone and this recorder has no way to reopen it');
    const archive = this.#openArchive();
    try {
      // Catch a read-only or locked archive now, not one batch later.
      archive.assertWritable?.();
    } catch (err) {
      closeQuietly(archive);
      throw err;
    }
    this.#archive = archive;
    return archive;
  }
}

const REOPEN_CODES = /^SQLITE_(READONLY|IOERR|CANTOPEN|NOTADB)/;

function needsReopen(err: unknown, archive: Archive): boolean {
  return !archive.db.open || REOPEN_CODES.test(errorCode(err) ?? '');
}

function closeQuietly(archive: Archive): void {
  try {
    archive.close();
  } catch {
    // Already broken; a new connection is what matters.
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function capturedBytes(item: Pending): number {
  if (item.kind === 'tunnel') return 0;
  // Defensive on purpose: a malformed record must fail in mapping (counted), not here (thrown).
  const { request, response } = item.exchange as { request?: Partial<Exchange['request']>; response?: Partial<NonNullable<Exchange['response']>> };
  return (request?.body?.bytes?.length ?? 0) + (response?.body?.bytes?.length ?? 0);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
