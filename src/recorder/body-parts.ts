import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import type { Database, Statement } from 'better-sqlite3';
import { joinJsonBody, splitJsonBody } from './json-split.js';

/**
 * Compact body storage for the archive. Agents resend the whole conversation
 * every turn, so request bodies stored whole grow with the square of a session's
 * length. A request body that is a JSON object is cut (json-split.ts) into the
 * pieces that get resent (messages, input items, tools, system blocks); each piece
 * is stored once, keyed by its hash, and the exchange keeps only a compressed
 * envelope: the skeleton plus the list of part hashes. Other bodies are
 * compressed whole. `decode` always gives back the exact stored bytes.
 *
 * Layouts (the `*_body_layout` column; versioned so the format can evolve):
 * - null: the column holds the bytes as they are (small bodies, and every row
 *   written before this existed).
 * - 'br1': the column is the body compressed with brotli.
 * - 'parts1': the column is brotli of an envelope: u32 BE count, that many
 *   16-byte hashes of *list* parts, then the skeleton. Each list part is a run of
 *   16-byte part hashes; the part hashes, in order, fill the skeleton's holes.
 *
 * Why list parts: a 100-turn session references ~13 000 parts in total, and 16
 * bytes each, written into every row, would itself grow quadratically. The hash
 * list is cut where a hash's first byte is below 16 (content-defined, about 16
 * hashes per run), so runs before the newest messages are the same every turn
 * and stored once; each row carries about n/16 hashes instead of n.
 *
 * Hashes are the first 16 bytes of SHA-256: 128 bits keep accidental collisions
 * out of reach (about 2^64 parts before one is likely) and crafted ones would
 * need a break of SHA-256, while halving key and reference size against the full
 * 32 bytes, which matters because references are what grows with session length.
 *
 * Brotli, not deflate (measured on a generated 100-turn Claude Code session,
 * node 20, one core): single parts (~1 KB of JSON) compress 2.00× at quality 5
 * in ~50 µs against 1.89× for deflate level 6 in ~45 µs (brotli's built-in
 * dictionary helps small texts), and whole 200 KB bodies 3.07× at quality 1 in
 * ~1 ms against deflate 6's 3.32× in ~4.8 ms. Only parts never seen before are
 * compressed (two or three a turn), so a request costs little more than hashing.
 * zstd is not in node 20's zlib.
 */

export const BODY_PARTS_DDL = `
  CREATE TABLE body_parts (
    hash BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
  ) WITHOUT ROWID;
`;

/** null in a layout column means the body column holds plain bytes, as every row before this did. */
export const BODY_LAYOUT_DDL = `
  ALTER TABLE exchanges ADD COLUMN request_body_layout TEXT;
  ALTER TABLE exchanges ADD COLUMN response_body_layout TEXT;
`;

/** One migration step: the parts table and the layout columns. */
export const BODY_STORAGE_MIGRATION = BODY_PARTS_DDL + BODY_LAYOUT_DDL;

export type BodyLayout = 'br1' | 'parts1';
export type BodyKind = 'request' | 'response';

export interface EncodedBody {
  /** What goes in `request_body` / `response_body`. */
  column: Buffer;
  /** What goes in `request_body_layout` / `response_body_layout`. */
  layout: BodyLayout | null;
}

export type BodyPartsErrorCode = 'body_layout_unknown' | 'body_part_missing' | 'body_column_damaged';

/** A stored body that cannot be given back exactly: never a silently different body. */
export class BodyPartsError extends Error {
  readonly code: BodyPartsErrorCode;
  constructor(code: BodyPartsErrorCode, detail: string) {
    super(detail);
    this.name = 'BodyPartsError';
    this.code = code;
  }
}

/**
 * Bodies below this stay plain: compression and indirection would not pay for
 * themselves. Splitting and compressing a 1 KB chat request cost ~90 µs of writer
 * CPU (a quarter of a recorded request's) to save well under 1 KB; the savings that
 * matter are in agent turns of tens or hundreds of KB.
 */
export const PLAIN_BELOW_BYTES = 2048;
const HASH_BYTES = 16;
/** A run of part hashes ends after a hash whose first byte is below this (1 in 16), or at the cap. */
const RUN_BOUNDARY_BELOW = 16;
const RUN_MAX_HASHES = 64;
/** Parts deleted per write transaction when purging (as purge.ts deletes rows). */
const SWEEP_CHUNK = 2000;
/** Rows between progress reports of the sweep's scan. */
const PROGRESS_EVERY = 1000;
const PART_QUALITY = 5;
const WHOLE_QUALITY = 1;

function compress(bytes: Buffer, quality: number): Buffer {
  return brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });
}

function hashOf(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest().subarray(0, HASH_BYTES);
}

/** Content-defined runs of hashes, so an append leaves the earlier runs unchanged. */
function hashRuns(hashes: readonly Buffer[]): Buffer[] {
  const runs: Buffer[] = [];
  let run: Buffer[] = [];
  for (const hash of hashes) {
    run.push(hash);
    if ((hash[0] ?? 0) < RUN_BOUNDARY_BELOW || run.length === RUN_MAX_HASHES) {
      runs.push(Buffer.concat(run));
      run = [];
    }
  }
  if (run.length > 0) runs.push(Buffer.concat(run));
  return runs;
}

function splitHashes(list: Buffer): Buffer[] {
  if (list.length % HASH_BYTES !== 0) throw new BodyPartsError('body_column_damaged', 'a hash list is not whole hashes');
  const hashes: Buffer[] = [];
  for (let at = 0; at < list.length; at += HASH_BYTES) hashes.push(list.subarray(at, at + HASH_BYTES));
  return hashes;
}

/** Synchronous, for the archive writer thread; call `encode` inside the transaction that inserts the exchange row. */
export class BodyPartStore {
  private readonly has: Statement<[Buffer], number>;
  private readonly insert: Statement<[Buffer, number, Buffer]>;
  private readonly get: Statement<[Buffer], { size: number; data: Buffer }>;
  private readonly storeParts: (parts: readonly Buffer[]) => Buffer[];
  /**
   * Parts read lately, by hash. Exchanges of one session share nearly all their
   * parts, so reading them in order (export, show) decompresses each part once.
   * Never stale: a hash names its bytes. No cache on the write side: a part
   * inserted by a transaction that then rolls back would be wrongly "known".
   */
  private readonly recent = new Map<string, Buffer>();
  private recentBytes = 0;

  constructor(private readonly db: Database, private readonly cacheBytes = 16 * 1024 * 1024) {
    this.has = db.prepare<[Buffer], number>('SELECT 1 FROM body_parts WHERE hash = ?').pluck();
    this.insert = db.prepare<[Buffer, number, Buffer]>('INSERT OR IGNORE INTO body_parts (hash, size, data) VALUES (?, ?, ?)');
    this.get = db.prepare<[Buffer], { size: number; data: Buffer }>('SELECT size, data FROM body_parts WHERE hash = ?');
    // A savepoint when the caller already holds a transaction, one transaction otherwise.
    this.storeParts = db.transaction((parts: readonly Buffer[]) => parts.map((part) => this.put(part)));
  }

  encode(body: Buffer, kind: BodyKind): EncodedBody {
    if (body.length < PLAIN_BELOW_BYTES) return { column: body, layout: null };
    const split = kind === 'request' ? splitJsonBody(body) : undefined;
    if (split !== undefined) {
      const hashes = this.storeParts(split.parts);
      const runs = this.storeParts(hashRuns(hashes));
      const count = Buffer.alloc(4);
      count.writeUInt32BE(runs.length);
      return { column: compress(Buffer.concat([count, ...runs, split.skeleton]), PART_QUALITY), layout: 'parts1' };
    }
    const compressed = compress(body, WHOLE_QUALITY);
    return compressed.length < body.length ? { column: compressed, layout: 'br1' } : { column: body, layout: null };
  }

  decode(column: Buffer, layout: string | null): Buffer {
    if (layout === null) return column;
    if (layout === 'br1') return brotliDecompressSync(column);
    if (layout !== 'parts1') throw new BodyPartsError('body_layout_unknown', `unknown body layout ${JSON.stringify(layout)}`);
    const { runs, skeleton } = this.readEnvelope(column);
    const parts = runs.flatMap((run) => splitHashes(this.fetch(run))).map((hash) => this.fetch(hash));
    return joinJsonBody(skeleton, parts);
  }

  /**
   * Deletes parts no exchange refers to any more, after exchanges were deleted;
   * returns how many. Mark and sweep over the envelopes rather than a link table
   * or reference counts: a link row per part per exchange grows as fast as the
   * bodies did, and counts would dirty a page per part on every insert and drift
   * on any missed decrement. Purging is rare; reading every envelope is its cost.
   *
   * Safe beside a writer on another connection (`llmtap purge` while the proxy
   * records): the scan is not one transaction with the deletes (it would hold the
   * write lock for seconds), so meanwhile the writer may commit exchanges that use a
   * part the scan found unused (a resent message) or one newer than the scan. Each
   * short delete transaction first reads the envelopes of rows inserted since the
   * highest rowid read so far and keeps what they use. That holds because the writer
   * inserts a row and its parts in one transaction and never updates a body.
   */
  purgeUnreferenced(onRead?: (read: number, total: number) => void): number {
    const live = new Set<string>();
    const newest = this.db.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM exchanges').pluck();
    let seen = newest.get() ?? 0;
    const total = onRead ? (this.db.prepare<[number], number>('SELECT count(*) FROM exchanges WHERE rowid <= ?').pluck().get(seen) ?? 0) : 0;
    this.markReferenced(live, 0, seen, onRead && ((read) => onRead(read, total)));
    const candidates = this.db.prepare<[], Buffer>('SELECT hash FROM body_parts').pluck().all()
      .filter((hash) => !live.has(hash.toString('hex')));
    const remove = this.db.prepare<[Buffer]>('DELETE FROM body_parts WHERE hash = ?');
    let removed = 0;
    const sweep = this.db.transaction((chunk: readonly Buffer[]) => {
      const now = newest.get() ?? 0;
      if (now > seen) this.markReferenced(live, seen, now);
      seen = Math.max(seen, now);
      for (const hash of chunk) if (!live.has(hash.toString('hex'))) removed += remove.run(hash).changes;
    });
    // Short write transactions, like the rest of the purge: a recorder waits at most its busy timeout.
    for (let at = 0; at < candidates.length; at += SWEEP_CHUNK) sweep.immediate(candidates.slice(at, at + SWEEP_CHUNK));
    return removed;
  }

  /**
   * Adds the parts (and hash runs) the envelopes of exchanges with rowid in (after, upTo]
   * refer to. Every row is read (bodies only when they are envelopes), so `onRead` can
   * count rows against the table's size: on a large archive this is the purge's long part.
   */
  private markReferenced(live: Set<string>, after: number, upTo: number, onRead?: (read: number) => void): void {
    const mark = (hash: Buffer): void => void live.add(hash.toString('hex'));
    const rows = this.db.prepare<[number, number], { q: Buffer | null; a: Buffer | null }>(`
      SELECT CASE WHEN request_body_layout = 'parts1' THEN request_body END AS q,
        CASE WHEN response_body_layout = 'parts1' THEN response_body END AS a
      FROM exchanges WHERE rowid > ? AND rowid <= ?`);
    const runs: Buffer[] = [];
    let read = 0;
    for (const { q, a } of rows.iterate(after, upTo)) {
      for (const body of [q, a]) {
        if (body === null) continue;
        for (const run of this.readEnvelope(body).runs) {
          if (!live.has(run.toString('hex'))) runs.push(Buffer.from(run));
          mark(run);
        }
      }
      if (++read % PROGRESS_EVERY === 0) onRead?.(read);
    }
    onRead?.(read);
    // Runs are read after the scan: better-sqlite3 runs one statement at a time while iterating.
    for (const run of runs) {
      const row = this.get.get(run);
      if (row !== undefined) for (const hash of splitHashes(this.unpack(row))) mark(hash);
    }
  }

  /** Stores a part unless present (only new parts are compressed); returns its hash. */
  private put(part: Buffer): Buffer {
    const hash = hashOf(part);
    if (this.has.get(hash) === undefined) {
      const compressed = compress(part, PART_QUALITY);
      // Compressed exactly when strictly smaller, so `data.length < size` tells which.
      this.insert.run(hash, part.length, compressed.length < part.length ? compressed : part);
    }
    return hash;
  }

  private fetch(hash: Buffer): Buffer {
    const key = hash.toString('latin1');
    const cached = this.recent.get(key);
    if (cached !== undefined) {
      this.recent.delete(key); // re-insert: Map order is the LRU order
      this.recent.set(key, cached);
      return cached;
    }
    const row = this.get.get(hash);
    if (row === undefined) throw new BodyPartsError('body_part_missing', `body part ${hash.toString('hex')} is missing`);
    const bytes = this.unpack(row);
    this.recent.set(key, bytes);
    this.recentBytes += bytes.length;
    for (const [oldest, old] of this.recent) {
      if (this.recentBytes <= this.cacheBytes) break;
      this.recent.delete(oldest);
      this.recentBytes -= old.length;
    }
    return bytes;
  }

  private unpack(row: { size: number; data: Buffer }): Buffer {
    const bytes = row.data.length < row.size ? brotliDecompressSync(row.data) : row.data;
    if (bytes.length !== row.size) throw new BodyPartsError('body_column_damaged', 'a body part does not have its recorded size');
    return bytes;
  }

  private readEnvelope(column: Buffer): { runs: Buffer[]; skeleton: Buffer } {
    const envelope = brotliDecompressSync(column);
    if (envelope.length < 4) throw new BodyPartsError('body_column_damaged', 'a parts envelope is too short');
    const count = envelope.readUInt32BE(0);
    const skeletonAt = 4 + count * HASH_BYTES;
    if (skeletonAt > envelope.length) throw new BodyPartsError('body_column_damaged', 'a parts envelope is cut short');
    return { runs: splitHashes(envelope.subarray(4, skeletonAt)), skeleton: envelope.subarray(skeletonAt) };
  }
}
