import { channel } from 'node:diagnostics_channel';

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

/** Encoding time between hand-offs, kept only while batchChannel has subscribers. */
export class HandOffTiming {
  #encodeMs = 0;
  #encodeMaxMs = 0;

  /** True while someone listens: only then are hand-offs timed. */
  get wanted(): boolean {
    return batchChannel.hasSubscribers;
  }

  /** Runs `encode`, adding its time to the next hand-off's figures while anyone listens. */
  encode<T>(encode: () => T): T {
    if (!batchChannel.hasSubscribers) return encode();
    const start = performance.now();
    const result = encode();
    const ms = performance.now() - start;
    this.#encodeMs += ms;
    this.#encodeMaxMs = Math.max(this.#encodeMaxMs, ms);
    return result;
  }

  /** Publishes one hand-off with the encoding time gathered since the previous one. */
  publish(records: number, handedOff: { bytes: number; ms: number }): void {
    batchChannel.publish({ records, ...handedOff, encodeMs: this.#encodeMs, encodeMaxMs: this.#encodeMaxMs } satisfies BatchEvent);
    this.#encodeMs = 0;
    this.#encodeMaxMs = 0;
  }
}
