/**
 * Encoded records (record-codec.ts) waiting for the writer, oldest first. An array
 * plus a head index: push and take-from-the-front are both O(1) amortized.
 */
export class RecordQueue {
  #items: (Uint8Array | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(frame: Uint8Array): void {
    this.#items.push(frame);
  }

  /** Drops the oldest record (the queue is full); false when there is none. */
  dropOldest(): boolean {
    if (this.#head >= this.#items.length) return false;
    this.#items[this.#head++] = undefined;
    return true;
  }

  /**
   * Takes up to `maxRows` records from the front, stopping before `maxBytes` would be
   * exceeded (one record is always taken, however large).
   */
  take(maxRows: number, maxBytes: number): Uint8Array[] {
    const batch: Uint8Array[] = [];
    let bytes = 0;
    while (batch.length < maxRows && this.#head < this.#items.length) {
      const frame = this.#items[this.#head]!;
      if (batch.length > 0 && bytes + frame.byteLength > maxBytes) break;
      this.#items[this.#head++] = undefined; // let the frame be collected
      batch.push(frame);
      bytes += frame.byteLength;
    }
    // Reclaim the consumed prefix once it dominates, keeping shifts amortized O(1).
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return batch;
  }
}
