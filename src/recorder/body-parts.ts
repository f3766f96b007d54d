import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import type { Database, Statement } from 'better-sqlite3';
import { sweepAll, USE_STEP_MS } from './body-part-sweep.js';
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

/**
 * A later step: when each part was last used (the started_at of an exchange that refers
 * to it, to within USE_STEP_MS), so retention finds the parts that may have gone unused
 * through an index instead of reading every exchange's envelope (body-part-sweep.ts).
 * A table of its own, not a column of body_parts: a column after `data` is read by
 * walking the blob's overflow pages, and the writer reads it for every part of every
 * request. Parts stored before it have no row until a full sweep gives them one; the
 * row with an empty hash (USE_PENDING, body-part-sweep.ts) says such parts may exist.
 */
export const BODY_PART_USE_MIGRATION = `
  CREATE TABLE body_part_use (
    hash BLOB PRIMARY KEY,
    last_used REAL NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX body_part_use_last_used ON body_part_use (last_used);
  INSERT INTO body_part_use (hash, last_used) SELECT X'', 0 WHERE EXISTS (SELECT 1 FROM body_parts);
`;

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
  /** The write side's statements, prepared on first use: a reader may open an archive whose schema predates body_part_use. */
  private writes: PartWrites | undefined;
  private readonly get: Statement<[Buffer], { size: number; data: Buffer }>;
  private readonly storeParts: (parts: readonly Buffer[], at: number) => Buffer[];
  /**
   * Parts read lately, by hash. Exchanges of one session share nearly all their
   * parts, so reading them in order (export, show) decompresses each part once.
   * Never stale: a hash names its bytes. No cache on the write side: a part
   * inserted by a transaction that then rolls back would be wrongly "known".
   */
  private readonly recent = new Map<string, Buffer>();
  private recentBytes = 0;

  constructor(readonly db: Database, private readonly cacheBytes = 16 * 1024 * 1024) {
    this.get = db.prepare<[Buffer], { size: number; data: Buffer }>('SELECT size, data FROM body_parts WHERE hash = ?');
    // A savepoint when the caller already holds a transaction, one transaction otherwise.
    this.storeParts = db.transaction((parts: readonly Buffer[], at: number) => parts.map((part) => this.put(part, at)));
  }

  /** `usedAt`: the started_at of the exchange the body belongs to, its parts' last use. */
  encode(body: Buffer, kind: BodyKind, usedAt = Date.now()): EncodedBody {
    if (body.length < PLAIN_BELOW_BYTES) return { column: body, layout: null };
    const split = kind === 'request' ? splitJsonBody(body) : undefined;
    if (split !== undefined) {
      const hashes = this.storeParts(split.parts, usedAt);
      const runs = this.storeParts(hashRuns(hashes), usedAt);
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
   * Deletes parts no exchange refers to any more; returns how many. Reads every
   * exchange's envelope (body-part-sweep.ts): `llmtap purge`, and retention's first pass
   * over parts stored before their last use was kept.
   */
  purgeUnreferenced(onRead?: (read: number, total: number) => void): number {
    return sweepAll(this, onRead);
  }

  /** The hash runs a stored `parts1` envelope refers to. */
  envelopeRuns(column: Buffer): Buffer[] {
    return this.readEnvelope(column).runs;
  }

  /** The part hashes a stored run holds; none when the run is missing. */
  runHashes(run: Buffer): Buffer[] {
    const row = this.get.get(run);
    return row === undefined ? [] : splitHashes(this.unpack(row));
  }

  /** Stores a part unless present (only new parts are compressed) and keeps its last use; returns its hash. */
  private put(part: Buffer, at: number): Buffer {
    const hash = hashOf(part);
    const w = (this.writes ??= prepareWrites(this.db));
    const lastUsed = w.lastUsed.get(hash);
    if (lastUsed === undefined) {
      // New, or stored before its use was kept.
      if (w.has.get(hash) === undefined) {
        const compressed = compress(part, PART_QUALITY);
        // Compressed exactly when strictly smaller, so `data.length < size` tells which.
        w.insert.run(hash, part.length, compressed.length < part.length ? compressed : part);
      }
      w.used.run(hash, at);
    } else if (lastUsed < at - USE_STEP_MS) {
      w.used.run(hash, at);
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

interface PartWrites {
  has: Statement<[Buffer], number>;
  insert: Statement<[Buffer, number, Buffer]>;
  lastUsed: Statement<[Buffer], number>;
  used: Statement<[Buffer, number]>;
}

function prepareWrites(db: Database): PartWrites {
  return {
    has: db.prepare<[Buffer], number>('SELECT 1 FROM body_parts WHERE hash = ?').pluck(),
    insert: db.prepare<[Buffer, number, Buffer]>('INSERT OR IGNORE INTO body_parts (hash, size, data) VALUES (?, ?, ?)'),
    lastUsed: db.prepare<[Buffer], number>('SELECT last_used FROM body_part_use WHERE hash = ?').pluck(),
    // Only ever later: a row written late (a long WebSocket session) must not move a part's last use back.
    used: db.prepare<[Buffer, number]>('INSERT INTO body_part_use (hash, last_used) VALUES (?, ?) ON CONFLICT (hash) DO UPDATE SET last_used = max(last_used, excluded.last_used)'),
  };
}
