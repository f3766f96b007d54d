import Database from 'better-sqlite3';
import type { CompiledPolicy } from '../policy/compile.js';
import { readCacheEntries } from './cache-table.js';
import type { ResponseCaches } from './response-caches.js';

/**
 * At start: the answers still live in the archive's response_cache table go back
 * into memory, so a restart does not empty the cache. One read before the proxy
 * listens (never on the request path). Returns how many were loaded; a missing
 * archive or table loads none.
 */
export function loadCachedAnswers(file: string, caches: ResponseCaches, policy: CompiledPolicy | undefined): number {
  if (!policy || policy.cache.length === 0) return 0;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return caches.load(policy.cache, readCacheEntries(db));
  } catch {
    return 0;
  } finally {
    db?.close();
  }
}
