import type Database from 'better-sqlite3';
import type { CacheEntry } from './response-cache.js';

/**
 * The durable copy of the response cache, in the archive (for the lead to append to
 * MIGRATIONS as one step). `key` is a SHA-256 over the caller's scope (proxy user and
 * a digest of the credential) and the canonical request: neither the credential nor
 * its digest is stored. `body` is the answer with its content coding undone.
 */
export const RESPONSE_CACHE_DDL = `
  CREATE TABLE response_cache (
    key TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL,
    exchange_id TEXT NOT NULL,
    stored_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL
  );
  CREATE INDEX response_cache_expires ON response_cache (expires_at);
`;

interface CacheRow {
  key: string;
  rule_id: string;
  exchange_id: string;
  stored_at: number;
  expires_at: number;
  status: number;
  content_type: string;
  body: Buffer;
}

const statements = new WeakMap<Database.Database, { put: Database.Statement; del: Database.Statement; expire: Database.Statement }>();

/**
 * Applies stored and evicted entries in one transaction (in the archive's writer
 * thread); rows past their expiry go at the same time, so the table never outgrows
 * what the in-memory caches hold by more than what expired since the last write.
 */
export function writeCacheOps(db: Database.Database, puts: readonly CacheEntry[], deletes: readonly string[], now = Date.now()): void {
  let s = statements.get(db);
  if (!s) {
    s = {
      put: db.prepare('INSERT OR REPLACE INTO response_cache (key, rule_id, exchange_id, stored_at, expires_at, status, content_type, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      del: db.prepare('DELETE FROM response_cache WHERE key = ?'),
      expire: db.prepare('DELETE FROM response_cache WHERE expires_at <= ?'),
    };
    statements.set(db, s);
  }
  const { put, del, expire } = s;
  db.transaction(() => {
    for (const key of deletes) del.run(key);
    for (const e of puts) put.run(e.key, e.rule, e.exchangeId, e.storedAt, e.expiresAt, e.status, e.contentType, e.body);
    expire.run(now);
  }).immediate();
}

/** Live entries, oldest first (so loading them into an LRU keeps the newest), or none when the table is missing. */
export function readCacheEntries(db: Database.Database, now = Date.now()): CacheEntry[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'response_cache'").get();
  if (!exists) return [];
  return (db.prepare('SELECT * FROM response_cache WHERE expires_at > ? ORDER BY stored_at').all(now) as CacheRow[]).map((r) => ({
    key: r.key, rule: r.rule_id, exchangeId: r.exchange_id, storedAt: r.stored_at, expiresAt: r.expires_at, status: r.status, contentType: r.content_type, body: r.body,
  }));
}
