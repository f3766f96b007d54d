import type { Exchange, TunnelRecord, WsMessageRecord } from '../exchange.js';
import type { Archive, ExchangeRow, TunnelRow, WsMessageRow } from './db.js';
import { decodeRecord } from './record-codec.js';
import { builtInRedactor, createRedactor, type Redactor } from '../redact/redactor.js';
import { exchangeToRow, tunnelToRow, wsMessageToRow } from './rows.js';
import type { PriceOverrides } from '../cost/override-match.js';
import { purgeArchive } from '../archive/purge.js';
import type { PurgeCounts } from '../archive/store.js';
import { applyCost } from './row-cost.js';
import { estimateMissingUsage, mayEstimateUsage } from './row-estimate.js';
import { amendWithEstimates, type Estimable, type EstimatedUsage } from './estimate-pass.js';
import { modelUsageColumn } from './model-parts.js';
import { groupingSummary } from './row-grouping.js';
import type { ExchangeSummary } from '../sessions/group.js';
import type { CacheEntry } from '../cache/response-cache.js';
import { writeCacheOps } from '../cache/cache-table.js';
import { outputTokens, promptTokens } from '../providers/usage-totals.js';
import { estimatedPart, type EstimatedPart } from '../archive/estimated-part.js';

/** One record as recorded; it waits and crosses to the writer thread encoded (record-codec.ts). */
export type Pending =
  | { kind: 'exchange'; exchange: Exchange }
  | { kind: 'tunnel'; tunnel: TunnelRecord }
  /** Messages of a WebSocket session, ahead of (and apart from) the session's exchange record. */
  | { kind: 'ws_messages'; exchangeId: string; messages: WsMessageRecord[] }
  /** Response cache (src/cache): an answer to keep (its body rides in the frame's response slot), and keys to forget. */
  | { kind: 'cache_put'; entry: CacheEntry }
  | { kind: 'cache_delete'; keys: string[] };

export type LogLevel = 'error' | 'warn' | 'info';

/** Where the writer's own log lines go: the Recorder's logger, or a message to the main thread. */
export type WriterLog = (level: LogLevel, fields: Record<string, unknown>, msg: string) => void;

/** What is kept of an error: message and SQLite code, never row data. */
export interface ErrorInfo {
  message: string;
  code?: string;
}

export interface WriteOutcome {
  /** Rows committed. */
  recorded: number;
  /** Records lost: those that could not be mapped, plus every row of a failed write. */
  lost: number;
  /** Rows the write attempted (records minus those that could not be mapped). */
  rows: number;
  /** Why the write (or opening the archive for it) failed. */
  error?: ErrorInfo;
  /** What the archive assigned to each exchange it committed; only when asked for (write's `report`). */
  written?: WrittenExchange[];
  /** Committed exchanges whose usage the writer estimated (row-estimate.ts), always reported: budgets charge them. */
  estimated?: EstimatedUsage[];
  /** Committed exchanges that were to be estimated and will not be: what waits for them is let go at once. */
  unestimated?: string[];
}

export type { EstimatedUsage };

/**
 * Where an exchange landed: its session, thread and turn are decided as it is written
 * (in the writer thread), so whoever showed it before then (the web UI's live list)
 * learns them from this report.
 */
export interface WrittenExchange {
  id: string;
  sessionId: string | null;
  threadId: string | null;
  turn: number | null;
  costUsd: number | null;
  costSource: string | null;
  /** The proxy user it was recorded under, so a report goes only to those who may see it. */
  user: string | null;
  /** The tokens the writer estimated (the answer reported none, or an Anthropic stream was cut): the live row showed none. */
  estimated?: { promptTokens: number; outputTokens: number | null; part: EstimatedPart };
}

/** What the Recorder mirrors of the writer (the writer may live on another thread). */
export interface WriterState {
  /** Times the archive file was found deleted or replaced and re-created at its path. */
  recreated: number;
  /** Connections opened so far. */
  opened: number;
  /** Serial number (1, 2, …) of the open connection; undefined while none is open. */
  connection: number | undefined;
}

/**
 * The part of recording that touches SQLite: decodes the queued frames and maps the
 * records to rows (content decoding, redaction, JSON), opens the archive lazily, writes one transaction per batch, notices a
 * deleted archive file, drops connections that cannot recover, checkpoints on close.
 * Synchronous; the Recorder runs it in a worker thread (writer-worker.ts) or, for an
 * Archive object handed in directly, on the calling thread.
 */
export class ArchiveWriter {
  #archive: Archive | undefined;
  /** Opens a fresh connection: the factory we were given, or the archive's own reopen. */
  readonly #openArchive: (() => Archive) | undefined;
  readonly #log: WriterLog;
  #redact: Redactor = builtInRedactor;
  #prices: PriceOverrides | undefined;
  #recreated = 0;
  #opened = 0;
  #connection: number | undefined;
  /** An estimate failed once already (logged then, not again). */
  #estimateFailed = false;

  constructor(archive: Archive | (() => Archive), log: WriterLog) {
    if (typeof archive === 'function') {
      this.#openArchive = archive;
    } else {
      this.#archive = archive;
      this.#openArchive = archive.reopen?.bind(archive);
      this.#connection = ++this.#opened;
    }
    this.#log = log;
  }

  get archive(): Archive | undefined {
    return this.#archive;
  }

  get state(): WriterState {
    return { recreated: this.#recreated, opened: this.#opened, connection: this.#connection };
  }

  setRedactions(patterns: readonly RegExp[]): void {
    this.#redact = createRedactor(patterns);
  }

  setPrices(overrides: PriceOverrides | undefined): void {
    this.#prices = overrides;
  }

  /** Retention: deletes what started before `before`, in short transactions (purge.ts); body parts found by their last use. */
  purge(before: number): PurgeCounts | ErrorInfo {
    try {
      return purgeArchive(this.#getArchive().db, before, undefined, 'unused');
    } catch (err) {
      this.#dropIfBroken(err);
      return errorInfo(err);
    }
  }

  /** Opens the archive now if it is not open; the error, if it cannot be. */
  open(): ErrorInfo | undefined {
    try {
      this.#getArchive();
      return undefined;
    } catch (err) {
      this.#dropIfBroken(err);
      return errorInfo(err);
    }
  }

  /**
   * Decodes, maps and writes one batch of encoded records in one transaction. Never
   * throws. With `report`, the outcome lists what each committed exchange was assigned.
   */
  write(batch: readonly Uint8Array[], report = false): WriteOutcome {
    const exchanges: ExchangeRow[] = [];
    const summaries: (ExchangeSummary | undefined)[] = [];
    const tunnels: TunnelRow[] = [];
    const messages: WsMessageRow[] = [];
    /** Records of message batches (counted as one record each, like the exchange they belong to). */
    let messageBatches = 0;
    let unmapped = 0;
    const cachePuts: CacheEntry[] = [];
    const cacheDeletes: string[] = [];
    const estimable: Estimable[] = [];
    for (const frame of batch) {
      try {
        const item = decodeRecord(frame);
        if (item.kind === 'exchange') {
          const row = exchangeToRow(item.exchange, this.#redact);
          applyCost(row, item.exchange, this.#prices);
          row.model_usage = modelUsageColumn(row, item.exchange, this.#prices, this.#redact.text);
          exchanges.push(row);
          // An answer without usage: estimated once the row is committed (estimate-pass.ts);
          // committed as awaiting it (0), which readers such as `tail` can see.
          if (mayEstimateUsage(item.exchange)) {
            row.usage_estimated = 0;
            estimable.push({ ex: item.exchange, row });
          }
          summaries.push(summaryOrNothing(row, item.exchange));
          for (const m of item.exchange.websocket?.messages ?? []) messages.push(wsMessageToRow(item.exchange.id, m, this.#redact));
        } else if (item.kind === 'ws_messages') {
          messageBatches++;
          for (const m of item.messages) messages.push(wsMessageToRow(item.exchangeId, m, this.#redact));
        } else if (item.kind === 'cache_put') {
          // Never store a secret: an answer the redactor would change is not kept on disk.
          const text = Buffer.from(item.entry.body).toString('utf8');
          if (this.#redact.body(text) === text) cachePuts.push(item.entry);
          else unmapped++;
        } else if (item.kind === 'cache_delete') {
          cacheDeletes.push(...item.keys);
        } else tunnels.push(tunnelToRow(item.tunnel));
      } catch (err) {
        // One malformed record must not take its batch-mates down with it.
        unmapped++;
        this.#log('warn', { err: errorMessage(err) }, 'could not map a record for the archive');
      }
    }
    let cacheOutcome: WriteOutcome | undefined;
    if (cachePuts.length + cacheDeletes.length > 0) cacheOutcome = this.#writeCache(cachePuts, cacheDeletes);
    const rows = exchanges.length + tunnels.length + messageBatches;
    if (rows === 0 && messages.length === 0) return { recorded: cacheOutcome?.recorded ?? 0, lost: unmapped + (cacheOutcome?.lost ?? 0), rows: cacheOutcome?.rows ?? 0, error: cacheOutcome?.error };
    if (cacheOutcome) unmapped += cacheOutcome.lost; // (rare) a cache write failed beside exchanges that may still land

    try {
      const archive = this.#getArchive();
      const kinds = (exchanges.length > 0 ? 1 : 0) + (tunnels.length > 0 ? 1 : 0) + (messages.length > 0 ? 1 : 0);
      const insert = (): void => {
        archive.insertExchanges(exchanges, summaries);
        archive.insertTunnels(tunnels);
        archive.insertWsMessages(messages);
      };
      // Several kinds in one commit; the inner transactions become savepoints.
      if (kinds > 1) archive.db.transaction(insert).immediate();
      else insert();
      const outcome: WriteOutcome = { recorded: rows, lost: unmapped, rows };
      if (estimable.length > 0) this.#amend(archive, estimable, outcome);
      if (report && exchanges.length > 0) outcome.written = exchanges.map(writtenExchange);
      return outcome;
    } catch (err) {
      this.#dropIfBroken(err);
      return { recorded: 0, lost: unmapped + rows, rows, error: errorInfo(err) };
    }
  }

  /**
   * The committed rows of answers without usage get their estimate (estimate-pass.ts). It
   * failing (the tokenizer will not load, say) costs nothing recorded: those rows stay
   * without usage, and the first failure is logged.
   */
  #amend(archive: Archive, estimable: readonly Estimable[], outcome: WriteOutcome): void {
    const estimate = (ex: Exchange): boolean => {
      try {
        return estimateMissingUsage(ex);
      } catch (err) {
        if (!this.#estimateFailed) this.#log('warn', { err: errorMessage(err) }, 'could not estimate the usage of an answer that reported none; such exchanges are recorded without tokens');
        this.#estimateFailed = true;
        return false;
      }
    };
    try {
      const { estimated, none } = amendWithEstimates(archive.db, estimable, this.#prices, estimate);
      if (estimated.length > 0) outcome.estimated = estimated;
      if (none.length > 0) outcome.unestimated = none;
    } catch (err) {
      this.#log('warn', { err: errorMessage(err) }, 'could not record estimated usage; the exchanges are recorded without it');
      // Their rows stay awaiting (0) in the archive; `tail` waits for them only a moment.
      outcome.unestimated = estimable.map(({ row }) => row.id);
    }
  }

  /** Cache rows in their own transaction: a cache failure (no table yet, say) never costs an exchange row. */
  #writeCache(puts: CacheEntry[], deletes: string[]): WriteOutcome {
    const rows = puts.length + (deletes.length > 0 ? 1 : 0);
    try {
      writeCacheOps(this.#getArchive().db, puts, deletes);
      return { recorded: rows, lost: 0, rows };
    } catch (err) {
      this.#log('warn', { err: errorMessage(err) }, 'could not write the response cache');
      return { recorded: 0, lost: rows, rows, error: errorInfo(err) };
    }
  }

  /** Runs a PRAGMA on the open connection (diagnostics and tests); throws when none is open. */
  pragma(source: string): unknown {
    if (!this.#archive) throw new Error('no archive connection is open');
    return this.#archive.db.pragma(source);
  }

  /** Checkpoints (TRUNCATE) and closes the archive, if open. Never throws. */
  close(): void {
    const archive = this.#archive;
    this.#archive = undefined;
    this.#connection = undefined;
    if (!archive) return; // never opened: nothing to checkpoint, and no reason to create a file now
    try {
      archive.checkpoint();
    } catch (err) {
      this.#log('warn', { err: errorMessage(err) }, 'archive checkpoint failed');
    }
    try {
      archive.close();
    } catch (err) {
      this.#log('warn', { err: errorMessage(err) }, 'archive close failed');
    }
  }

  /**
   * A connection that went read-only, lost its file or was closed under us stays
   * broken; reopening on the next batch picks up a fixed file. SQLITE_BUSY and
   * SQLITE_FULL clear by themselves on the same connection.
   */
  #dropIfBroken(err: unknown): void {
    const archive = this.#archive;
    if (archive && this.#openArchive && needsReopen(err, archive)) {
      this.#archive = undefined;
      this.#connection = undefined;
      closeQuietly(archive);
    }
  }

  #getArchive(): Archive {
    const current = this.#archive;
    // One stat() per batch. Off the event loop (in the writer thread) it costs
    // microseconds; checking less often would let the batches in between go into
    // the unlinked file, lost silently, which is what this check exists to prevent.
    if (current?.replaced?.()) {
      // Deleted (or swapped) under us: SQLite would go on writing to the unlinked file
      // and every later record would vanish. Close it (that checkpoints into the old
      // file and removes its -wal/-shm, so nothing stale is left for the new one),
      // then create a new archive at the path below. Caveat: SQLite removes those by
      // path, so if another process already made a new archive there, its WAL goes too.
      // Close before opening, never after: closing last would remove our own new WAL.
      this.#recreated++;
      this.#archive = undefined;
      this.#connection = undefined;
      closeQuietly(current);
      this.#log('error', { recreated: this.#recreated }, 'archive file was deleted or replaced while open; creating a new one at its path');
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
    this.#connection = ++this.#opened;
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

export function errorInfo(err: unknown): ErrorInfo {
  const code = errorCode(err);
  return code === undefined ? { message: errorMessage(err) } : { message: errorMessage(err), code };
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Grouping never costs a record: a summary that cannot be built leaves the row ungrouped. */
function summaryOrNothing(row: ExchangeRow, exchange: Exchange): ExchangeSummary | undefined {
  try {
    return groupingSummary(row, exchange);
  } catch {
    return undefined;
  }
}

function writtenExchange(row: ExchangeRow): WrittenExchange {
  const written: WrittenExchange = { id: row.id, sessionId: row.session_id, threadId: row.thread_id, turn: row.turn, costUsd: row.cost_usd, costSource: row.cost_source, user: row.client_user };
  // Reported after the amendment (estimate-pass.ts): the live list learns the estimate with the cost priced from it.
  const part = estimatedPart(row.usage_estimated);
  if (part) written.estimated = { promptTokens: promptTokens(row), outputTokens: outputTokens(row), part };
  return written;
}
