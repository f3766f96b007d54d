import { randomUUID } from 'node:crypto';

/**
 * Record ids: UUIDv7 (RFC 9562), time-ordered. The archive's primary keys are these
 * ids, and random (v4) ones land all over the key's B-tree: every commit then dirties
 * pages across the whole index, and inserts slowed from ~23 to ~57 µs per row by
 * 50,000 rows (they keep slowing as the archive grows). Ids in time order append.
 *
 * Layout: 48-bit Unix milliseconds, version 7, a 12-bit sequence that orders ids made
 * in the same millisecond (RFC 9562 method 1), then the variant and 62 random bits
 * (taken from randomUUID, which draws from a cached entropy pool). Strictly increasing
 * within a process, also when the clock steps back.
 */
export function idGenerator(now: () => number = Date.now): () => string {
  let lastMs = 0;
  let sequence = 0;
  return () => {
    const ms = now();
    if (ms > lastMs) {
      lastMs = ms;
      sequence = 0;
    } else if (++sequence > 0xfff) {
      lastMs++; // more than 4,096 ids in one millisecond (or a clock that went back): borrow the next one
      sequence = 0;
    }
    const time = lastMs.toString(16).padStart(12, '0');
    // randomUUID(): xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx; from index 18 on it is "-Vxxx-…", variant included.
    return `${time.slice(0, 8)}-${time.slice(8)}-7${sequence.toString(16).padStart(3, '0')}${randomUUID().slice(18)}`;
  };
}

/** A new time-ordered record id. */
export const newId: () => string = idGenerator();
