import type { Logger } from '../log.js';

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

const DEFAULT_MAX_BATCH = 64;
const DEFAULT_MAX_QUEUE = 10_000;
const DEFAULT_MAX_BATCH_BYTES = 1 << 20;
const DEFAULT_BATCH_BUDGET_MS = 1;
const DEFAULT_SYNC_TIMEOUT_MS = 10_000;

/** The recorder's limits with defaults filled in; counts and sizes are at least 1. */
export function resolveRecorderOptions(options: RecorderOptions): Required<Omit<RecorderOptions, 'logger'>> {
  return {
    maxBatch: Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH),
    maxQueue: Math.max(1, options.maxQueue ?? DEFAULT_MAX_QUEUE),
    maxBatchBytes: Math.max(1, options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES),
    batchBudgetMs: options.batchBudgetMs ?? DEFAULT_BATCH_BUDGET_MS,
    syncTimeoutMs: Math.max(1, options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS),
  };
}
