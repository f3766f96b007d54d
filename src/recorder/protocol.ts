/**
 * Messages between the Recorder (main thread) and its writer thread (writer-worker.ts).
 * They travel over a dedicated MessageChannel so the main thread can also read answers
 * synchronously (receiveMessageOnPort) while it blocks in flush() or close().
 */
import type { MessagePort } from 'node:worker_threads';
import type { ArchiveOptions } from './db.js';
import type { ErrorInfo, LogLevel, WriteOutcome, WriterState } from './writer.js';
import type { PriceOverride } from '../cost/override-match.js';

/** PriceOverrides without their compiled patterns, as they can cross threads. */
export interface PriceOverridesData {
  file: string;
  version: string;
  rules: PriceOverride[];
}

export interface WriterInit {
  /** The archive file. */
  file: string;
  /** The worker's end of the channel. */
  port: MessagePort;
  /**
   * Int32 counter the worker bumps and Atomics.notify()s after every message it posts,
   * so a main thread blocked in Atomics.wait wakes up to read it.
   */
  signal: SharedArrayBuffer;
}

/** A RegExp as it can cross threads. */
export interface PatternSource {
  source: string;
  flags: string;
}

/**
 * Every request but `redact` carries an id (increasing); the worker answers in order,
 * so "answered up to id N" is all the main thread needs to track. `options` rides on
 * each request that may open the archive: they are read on every (re)open.
 */
export type ToWriter =
  /** `records`: encoded records (record-codec.ts) joined into one transferred buffer. */
  /** `report`: list what each written exchange was assigned (someone is watching, see Recorder.onWritten). */
  | { t: 'batch'; id: number; options: ArchiveOptions; records: Uint8Array; report: boolean }
  | { t: 'open'; id: number; options: ArchiveOptions }
  | { t: 'redact'; patterns: PatternSource[] }
  /** Price overrides (--prices) as plain rules; the worker compiles them. */
  | { t: 'prices'; overrides: PriceOverridesData | null }
  /** Retention: delete what started before `before` (epoch ms). Unanswered; the outcome is logged. */
  | { t: 'purge'; before: number }
  /** A barrier: answered once everything posted before it is committed (or lost). */
  | { t: 'flush'; id: number }
  | { t: 'pragma'; id: number; source: string }
  /** Checkpoint (TRUNCATE) and close the archive; the worker then exits by itself. */
  | { t: 'close'; id: number };

export type FromWriter =
  /** Batches up to and including id `upTo` (`batches` of them, merged into one transaction). */
  | { t: 'written'; upTo: number; batches: number; outcome: WriteOutcome; state: WriterState }
  /** Answer to open/flush/pragma/close. For `open`, `error` is why the archive cannot be opened. */
  | { t: 'answer'; id: number; value?: unknown; error?: ErrorInfo; state: WriterState }
  | { t: 'log'; level: LogLevel; fields: Record<string, unknown>; msg: string }
  /** The worker hit a bug of its own and is exiting; the main thread restarts it on the next batch. */
  | { t: 'fatal'; error: ErrorInfo };
