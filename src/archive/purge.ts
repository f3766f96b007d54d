import type Database from 'better-sqlite3';
import { sweepUnused } from '../recorder/body-part-sweep.js';
import { BodyPartStore } from '../recorder/body-parts.js';
import { SqliteGroupIndex } from '../sessions/group-index.js';
import type { PurgeCounts } from './store.js';

/**
 * Rows per transaction. A running proxy writes to the same file and waits at most
 * its busy timeout (200 ms) for the lock, so the purge deletes in short transactions
 * instead of one long one that would make the recorder drop records.
 */
const CHUNK = 2000;

/**
 * Told as a purge goes (`purge` draws it on a terminal): on a large archive it takes a
 * minute or more, most of it reading every exchange left for the body parts it uses.
 */
export type PurgeProgress = (step: 'deleting exchanges' | 'sweeping stored body parts', done: number, total: number) => void;

/**
 * How the parts of request bodies are swept (body-part-sweep.ts): `all` reads every
 * exchange left (`llmtap purge`), `unused` finds the parts last used before the cut
 * through an index (hourly retention: a pass with little to delete costs little).
 */
export type PartsSweep = 'all' | 'unused';

/**
 * Deletes exchanges, their WebSocket messages (and those of sessions whose row never came:
 * ORPHANED_SESSIONS) and tunnels that started before `before`
 * (epoch ms), sessions and threads that ended before it, and the response cache's answers
 * stored before it (a TTL longer than the retention would otherwise keep an answer on disk
 * after its exchange went). A session still running across the cut keeps its totals.
 */
export function purgeArchive(db: Database.Database, before: number, progress: PurgeProgress = () => {}, parts: PartsSweep = 'all'): PurgeCounts {
  const counts: PurgeCounts = { exchanges: 0, tunnels: 0, wsMessages: 0, sessions: 0, cacheEntries: 0, bodyParts: 0 };
  const pick = db.prepare('SELECT id FROM exchanges WHERE started_at < ? LIMIT ?');
  const deleteMessages = db.prepare('DELETE FROM ws_messages WHERE exchange_id = ?');
  const deleteExchange = db.prepare('DELETE FROM exchanges WHERE id = ?');
  const chunk = db.transaction((ids: string[]) => {
    for (const id of ids) {
      counts.wsMessages += deleteMessages.run(id).changes;
      counts.exchanges += deleteExchange.run(id).changes;
    }
  });
  const toDelete = (db.prepare('SELECT COUNT(*) AS n FROM exchanges WHERE started_at < ?').get(before) as { n: number }).n;
  progress('deleting exchanges', 0, toDelete);
  for (;;) {
    const ids = (pick.all(before, CHUNK) as { id: string }[]).map((r) => r.id);
    if (ids.length === 0) break;
    chunk(ids);
    progress('deleting exchanges', counts.exchanges, toDelete);
  }
  const inChunks = (sql: string, cuts = 1): number => {
    const statement = db.prepare(sql);
    let total = 0;
    for (;;) {
      const { changes } = statement.run(...Array<number>(cuts).fill(before), CHUNK);
      total += changes;
      if (changes < CHUNK) return total;
    }
  };
  counts.wsMessages += db.prepare(`DELETE FROM ws_messages WHERE exchange_id IN (${ORPHANED_SESSIONS})`).run({ cut: orphanCut(before) }).changes;
  counts.tunnels = inChunks('DELETE FROM tunnels WHERE rowid IN (SELECT rowid FROM tunnels WHERE started_at < ? LIMIT ?)');
  inChunks('DELETE FROM threads WHERE rowid IN (SELECT rowid FROM threads WHERE ended_at < ? LIMIT ?)');
  // A session ends after it starts: the started_at index narrows the search to the sessions that began before the cut.
  counts.sessions = inChunks('DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE started_at < ? AND ended_at < ? LIMIT ?)', 2);
  counts.cacheEntries = inChunks('DELETE FROM response_cache WHERE rowid IN (SELECT rowid FROM response_cache WHERE stored_at < ? LIMIT ?)');
  // Request bodies share parts across exchanges: those no remaining exchange refers to go now.
  const store = new BodyPartStore(db);
  counts.bodyParts = parts === 'unused' ? sweepUnused(store, before) : store.purgeUnreferenced((read, total) => progress('sweeping stored body parts', read, total));
  // Grouping keys of conversations idle since then: a request continuing one now starts a new thread.
  new SqliteGroupIndex(db).prune(before);
  return counts;
}

/**
 * WebSocket sessions whose exchange row never came (the proxy died mid-session: their
 * messages were written in batches as they went): nothing reads them, and the retention
 * must not keep their prompts forever. Those quiet since the cut go, and never one quiet
 * for less than a day, which may still be open (its row is written when it ends).
 */
// Sessions with a message before the cut and none since (max(at) < cut), found through the
// `at` index: after the exchanges went, the messages before the cut are the orphans' alone.
// INDEXED BY: for DISTINCT the planner would rather walk the whole primary key.
export const ORPHANED_SESSIONS = `SELECT DISTINCT m.exchange_id FROM ws_messages m INDEXED BY ws_messages_at WHERE m.at < @cut
  AND NOT EXISTS (SELECT 1 FROM exchanges e WHERE e.id = m.exchange_id)
  AND NOT EXISTS (SELECT 1 FROM ws_messages n WHERE n.exchange_id = m.exchange_id AND n.at >= @cut)`;
const DAY_MS = 86_400_000;
const orphanCut = (before: number, now = Date.now()): number => Math.min(before, now - DAY_MS);

/** The rows purgeArchive(db, before) would delete, counted in one read each (`purge --dry-run`). */
export function purgePreview(db: Database.Database, before: number): Omit<PurgeCounts, 'bodyParts'> {
  const count = (sql: string): number => (db.prepare(sql).get(before) as { n: number }).n;
  return {
    exchanges: count('SELECT COUNT(*) AS n FROM exchanges WHERE started_at < ?'),
    wsMessages: count('SELECT COUNT(*) AS n FROM ws_messages WHERE exchange_id IN (SELECT id FROM exchanges WHERE started_at < ?)')
      + (db.prepare(`SELECT COUNT(*) AS n FROM ws_messages WHERE exchange_id IN (${ORPHANED_SESSIONS})`).get({ cut: orphanCut(before) }) as { n: number }).n,
    tunnels: count('SELECT COUNT(*) AS n FROM tunnels WHERE started_at < ?'),
    sessions: count('SELECT COUNT(*) AS n FROM sessions WHERE ended_at < ?'),
    cacheEntries: count('SELECT COUNT(*) AS n FROM response_cache WHERE stored_at < ?'),
  };
}
