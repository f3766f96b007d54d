import type { ExchangeRow } from '../recorder/db.js';
import { archivedRequest, UpstreamCosts } from '../policy/archived-request.js';

/** One request shape (canonical key) seen more than once. */
export interface RepeatedShape {
  /** First 16 hex digits of the response cache's key (what a cache decision records). */
  key: string;
  host: string;
  path: string;
  model: string | null;
  /** Proxy user ('-' without one): with the credential, the scope a cache entry is kept per. */
  who: string;
  /** A credential was sent and no cache rule recorded the key: requests with different credential values may be grouped here. */
  credentialUnseen: boolean;
  requests: number;
  /** Requests after the first: what an exact cache (without expiry) would have answered. */
  repeats: number;
  /** Of those, how many llmtap's response cache did answer (their savings count too: at the cost of the answer they replayed). */
  served: number;
  savedTokens: number;
  savedUsd: number;
  firstAt: number;
  lastAt: number;
}

export interface CacheReport {
  exchanges: number;
  /** Requests compared with nothing: their body is not whole in the archive and no cache rule recorded their key. */
  unkeyed: number;
  /** Requests compared with nothing: the archive redacted a key-shaped string in their body and no cache rule recorded their key. */
  redacted: number;
  since: number | null;
  shapes: RepeatedShape[];
  totals: { repeats: number; served: number; savedTokens: number; savedUsd: number };
}

/**
 * Groups the archive's 2xx complete exchanges by the response cache's own key
 * (archived-key.ts: recorded by a cache rule, else computed with the cache's functions)
 * and lists the shapes seen more than once with what the repeats cost: what a cache
 * would have saved. Sorted by USD saved, then repeats.
 */
export function cacheReport(rows: Iterable<ExchangeRow>, since?: number): CacheReport {
  const byKey = new Map<string, RepeatedShape>();
  const upstream = new UpstreamCosts();
  let exchanges = 0;
  let unkeyed = 0;
  let redacted = 0;
  for (const row of rows) {
    if (row.status === 101 || !row.api) continue;
    exchanges++;
    const r = archivedRequest(row, new Map());
    if (!r.cacheable) continue;
    if (r.keyBasis === 'unknown' || r.keyBasis === 'redacted') {
      if (r.keyBasis === 'unknown') unkeyed++;
      else redacted++;
      continue;
    }
    const costUsd = upstream.of(r);
    const shape = byKey.get(r.key);
    if (!shape) {
      byKey.set(r.key, { key: r.key, host: row.host, path: row.path.split('?')[0]!, model: row.model, who: row.client_user ?? '-', credentialUnseen: r.keyBasis === 'credential_unseen', requests: 1, repeats: 0, served: 0, savedTokens: 0, savedUsd: 0, firstAt: r.at, lastAt: r.at });
      continue;
    }
    shape.requests++;
    shape.repeats++;
    if (r.answeredFromCache) shape.served++;
    shape.savedTokens += r.tokens;
    shape.savedUsd += costUsd ?? 0;
    shape.firstAt = Math.min(shape.firstAt, r.at);
    shape.lastAt = Math.max(shape.lastAt, r.at);
  }
  const shapes = [...byKey.values()].filter((s) => s.repeats > 0).sort((a, b) => b.savedUsd - a.savedUsd || b.repeats - a.repeats || a.firstAt - b.firstAt);
  const sum = (pick: (s: RepeatedShape) => number): number => shapes.reduce((a, s) => a + pick(s), 0);
  return { exchanges, unkeyed, redacted, since: since ?? null, shapes, totals: { repeats: sum((s) => s.repeats), served: sum((s) => s.served), savedTokens: sum((s) => s.savedTokens), savedUsd: sum((s) => s.savedUsd) } };
}
