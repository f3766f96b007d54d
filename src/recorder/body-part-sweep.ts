import type { BodyPartStore } from './body-parts.js';

/**
 * Deleting the stored body parts no exchange refers to any more, after a purge deleted
 * exchanges. Two ways:
 *
 * - sweepAll reads every exchange's envelope (mark and sweep): no link table or
 *   reference counts, since a link row per part per exchange grows as fast as the bodies
 *   did, and counts would dirty a page per part on every insert and drift on any missed
 *   decrement. ~7.5 s per 100,000 exchanges.
 * - sweepUnused asks body_part_use, through its index, for the parts last used before
 *   the cut, and reads only the envelopes of exchanges that started within USE_STEP_MS
 *   after it (the only ones that may still use a part last used just before). Hourly
 *   retention, where little or nothing is old, costs an index probe or a few rows.
 *
 * Both are safe beside a writer on another connection (`llmtap purge` while the proxy
 * records): reading is not one transaction with the deletes (it would hold the write
 * lock for seconds), so each short delete transaction first reads the envelopes of rows
 * inserted since the last look and keeps what they use. That holds because the writer
 * inserts a row, its parts and their use in one transaction and never updates a body.
 */

/**
 * How stale a part's last use may be. A write moves it on only when it is older than
 * this: a conversation's parts are used again every turn, and a write per part per turn
 * would dirty a page (and an index entry) per part, as reference counts would. So for
 * every exchange E that refers to a part: last_used >= E.started_at - USE_STEP_MS.
 */
export const USE_STEP_MS = 10 * 60_000;

/** The body_part_use row that says parts without a use row may exist (stored before the table). */
export const USE_PENDING = Buffer.alloc(0);

/** Parts deleted per write transaction (as purge.ts deletes rows). */
const SWEEP_CHUNK = 2000;
/** Rows between progress reports of sweepAll's read. */
const PROGRESS_EVERY = 1000;

/** Hashes (hex) of parts in use, each with the latest started_at of an exchange using it. */
type Live = Map<string, number>;

export function sweepAll(store: BodyPartStore, onRead?: (read: number, total: number) => void): number {
  const { db } = store;
  const live: Live = new Map();
  const newest = db.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM exchanges').pluck();
  const seen = newest.get() ?? 0;
  const total = onRead ? (db.prepare<[number], number>('SELECT count(*) FROM exchanges WHERE rowid <= ?').pluck().get(seen) ?? 0) : 0;
  markRows(store, live, 'rowid <= ?', [seen], onRead && ((read) => onRead(read, total)));
  const unused = db.prepare<[], Buffer>('SELECT hash FROM body_parts').pluck().all().filter((hash) => !live.has(hash.toString('hex')));
  const hasUse = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'body_part_use'").get() !== undefined;
  const removeUse = hasUse ? db.prepare<[Buffer]>('DELETE FROM body_part_use WHERE hash = ?') : undefined;
  const remove = db.prepare<[Buffer]>('DELETE FROM body_parts WHERE hash = ?');
  const removed = sweep(store, live, seen, unused, (hash) => {
    removeUse?.run(hash);
    return remove.run(hash).changes;
  });
  if (hasUse && db.prepare('SELECT 1 FROM body_part_use WHERE hash = ?').get(USE_PENDING)) backfillUse(store, live);
  return removed;
}

/**
 * The parts no exchange uses any more, once purgeArchive deleted every exchange that
 * started before `before`: those whose last use is before the cut, less the ones used by
 * an exchange that started within a step after it, or by a row written meanwhile that
 * started before it (a long session's row comes at its end).
 */
export function sweepUnused(store: BodyPartStore, before: number): number {
  const { db } = store;
  if (db.prepare('SELECT 1 FROM body_part_use WHERE hash = ?').get(USE_PENDING)) return sweepAll(store);
  const seen = db.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM exchanges').pluck().get() ?? 0;
  const candidates = db.prepare<[number], { hash: Buffer; last_used: number }>('SELECT hash, last_used FROM body_part_use WHERE last_used < ?').all(before);
  if (candidates.length === 0) return 0;
  const live: Live = new Map();
  markRows(store, live, 'started_at < ?', [before]);
  // A part last used less than a step before the cut may serve an exchange that started up to a step after it.
  if (candidates.some((c) => c.last_used >= before - USE_STEP_MS)) markRows(store, live, 'started_at >= ? AND started_at < ?', [before, before + USE_STEP_MS]);
  // The use row goes only if still older than the cut: a write since may have used the part again.
  const removeUse = db.prepare<[Buffer, number]>('DELETE FROM body_part_use WHERE hash = ? AND last_used < ?');
  const remove = db.prepare<[Buffer]>('DELETE FROM body_parts WHERE hash = ?');
  return sweep(store, live, seen, candidates.map((c) => c.hash), (hash) => (removeUse.run(hash, before).changes === 0 ? 0 : remove.run(hash).changes));
}

/** Deletes the parts not in `live`, in short write transactions, each first marking the rows written since `seen`. */
function sweep(store: BodyPartStore, live: Live, seen: number, hashes: readonly Buffer[], remove: (hash: Buffer) => number): number {
  const newest = store.db.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM exchanges').pluck();
  let removed = 0;
  const chunk = store.db.transaction((part: readonly Buffer[]) => {
    const now = newest.get() ?? 0;
    if (now > seen) markRows(store, live, 'rowid > ? AND rowid <= ?', [seen, now]);
    seen = Math.max(seen, now);
    for (const hash of part) if (!live.has(hash.toString('hex'))) removed += remove(hash);
  });
  // Short write transactions, like the rest of the purge: a recorder waits at most its busy timeout.
  for (let at = 0; at < hashes.length; at += SWEEP_CHUNK) chunk.immediate(hashes.slice(at, at + SWEEP_CHUNK));
  return removed;
}

/**
 * Adds the parts (and hash runs) the envelopes of the exchanges `where` selects refer to.
 * Every row is read (bodies only when they are envelopes), so `onRead` counts rows.
 */
function markRows(store: BodyPartStore, live: Live, where: string, params: unknown[], onRead?: (read: number) => void): void {
  const note = (hash: Buffer, at: number): void => {
    const key = hash.toString('hex');
    live.set(key, Math.max(live.get(key) ?? at, at));
  };
  const rows = store.db.prepare<unknown[], { at: number; q: Buffer | null; a: Buffer | null }>(`
    SELECT started_at AS at, CASE WHEN request_body_layout = 'parts1' THEN request_body END AS q,
      CASE WHEN response_body_layout = 'parts1' THEN response_body END AS a
    FROM exchanges WHERE ${where}`);
  const runs = new Map<string, { run: Buffer; at: number }>();
  let read = 0;
  for (const { at, q, a } of rows.iterate(...params)) {
    for (const body of [q, a]) {
      if (body === null) continue;
      for (const run of store.envelopeRuns(body)) {
        note(run, at);
        const key = run.toString('hex');
        const known = runs.get(key);
        if (known === undefined) runs.set(key, { run: Buffer.from(run), at });
        else known.at = Math.max(known.at, at);
      }
    }
    if (++read % PROGRESS_EVERY === 0) onRead?.(read);
  }
  onRead?.(read);
  // Runs are read after the scan: better-sqlite3 runs one statement at a time while iterating.
  for (const { run, at } of runs.values()) for (const hash of store.runHashes(run)) note(hash, at);
}

/**
 * After sweepAll on an archive whose parts predate body_part_use: each part left gets its
 * last use from the exchanges just read, then the pending row goes, and from the next pass
 * on retention reads the index. A part in use by none of them (written since) has its row.
 */
function backfillUse(store: BodyPartStore, live: Live): void {
  const { db } = store;
  const upsert = db.prepare<[Buffer, number]>('INSERT INTO body_part_use (hash, last_used) VALUES (?, ?) ON CONFLICT (hash) DO UPDATE SET last_used = max(last_used, excluded.last_used)');
  const entries = [...live];
  const chunk = db.transaction((part: readonly [string, number][]) => {
    for (const [hex, at] of part) upsert.run(Buffer.from(hex, 'hex'), at);
  });
  for (let at = 0; at < entries.length; at += SWEEP_CHUNK) chunk.immediate(entries.slice(at, at + SWEEP_CHUNK));
  db.prepare('DELETE FROM body_part_use WHERE hash = ?').run(USE_PENDING);
}
