import type { GroupIndex, GroupRecord } from './group-index.js';

/**
 * A write-behind view of a group index for one batch of exchanges. Reads see what
 * earlier exchanges of the batch wrote; writes stay in memory until write(), which
 * puts each key once, however many exchanges of the batch touched it (a batch of one
 * conversation's turns or retries rewrites the same few keys). Each exchange's writes
 * are staged apart until keep(): an exchange whose grouping fails leaves nothing behind.
 */
export class StagedGroupIndex implements GroupIndex {
  readonly #batch = new Map<string, GroupRecord>();
  #exchange = new Map<string, GroupRecord>();

  constructor(private readonly store: GroupIndex) {}

  get(key: string): GroupRecord | undefined {
    const staged = this.#exchange.get(key) ?? this.#batch.get(key);
    if (staged) return { ...staged };
    return this.store.get(key);
  }

  put(key: string, record: GroupRecord): void {
    this.#exchange.set(key, { ...record });
  }

  /** The current exchange's writes join the batch's. */
  keep(): void {
    for (const [key, record] of this.#exchange) this.#batch.set(key, record);
    this.#exchange = new Map();
  }

  /** The current exchange's writes are forgotten. */
  drop(): void {
    this.#exchange = new Map();
  }

  /** Puts every kept key into the store, once each. */
  write(): void {
    for (const [key, record] of this.#batch) this.store.put(key, record);
  }
}
