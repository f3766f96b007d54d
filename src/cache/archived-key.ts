import { headerPairs } from '../archive/export.js';
import type { ExchangeRow } from '../recorder/db.js';
import { REDACTED } from '../redact/key-patterns.js';
import { cacheKey, canonicalRequest, credentialScope } from './canonical-key.js';

/**
 * How much of the response cache's key an archived exchange shows:
 * - `recorded`: a cache rule saw the request and its decision kept the key (exact).
 * - `computed`: no credential was sent, so the key computed from the archive is the cache's (exact).
 * - `credential_unseen`: a credential was sent; the archive keeps its name, never its
 *   value, so requests of one proxy user sending the same kind of credential share a key
 *   here even when the cache would keep them apart.
 * - `unknown`: the body is not whole in the archive (capture limit, a coding it could not
 *   undo) and no rule recorded the key: the request is compared with nothing.
 * - `redacted`: the archive replaced a key-shaped string in the body (`[REDACTED]`), and no
 *   rule recorded the key: the cache keyed the real bytes, which the archive does not hold,
 *   so two requests with different keys in them would look alike. Compared with nothing.
 */
export type KeyBasis = 'recorded' | 'computed' | 'credential_unseen' | 'unknown' | 'redacted';

export interface ArchivedKey {
  /** The first 16 hex digits of the cache key (as a cache decision and `show` print it); `unknown:<id>` for `unknown`, `redacted:<id>` for `redacted`. */
  key: string;
  basis: KeyBasis;
}

/**
 * The response cache's key for an archived request, built by the cache's own
 * functions (canonical-key.ts: volatile fields per provider, key order ignored,
 * scoped by proxy user and credential) from what the archive holds. `json` is the
 * stored request body parsed (undefined when it is not JSON).
 */
export function archivedCacheKey(row: ExchangeRow, json: unknown): ArchivedKey {
  const recorded = recordedKey(row.policy);
  if (recorded !== undefined) return { key: recorded, basis: 'recorded' };
  // A prefix or a digest would make different requests look alike.
  if (row.request_body_truncated || (row.request_body_size > 0 && !row.request_body)) return { key: `unknown:${row.id}`, basis: 'unknown' };
  // The placeholder may also be the client's own text: then too the stored bytes cannot be told
  // from a redacted body, and comparing nothing is the side that never claims a false repeat.
  const raw = row.request_body ? Buffer.from(row.request_body) : undefined;
  if (raw?.includes(REDACTED)) return { key: `redacted:${row.id}`, basis: 'redacted' };
  const user = row.client_user ?? undefined;
  // The stored credential values are placeholders: the scope still tells which kind was sent.
  const scope = credentialScope(headerPairs(row.request_headers).flat(), row.path, user);
  const anonymous = credentialScope([], '', user);
  const canonical = canonicalRequest({ provider: row.provider ?? undefined, method: row.method, host: row.host, path: row.path, json: json !== null && typeof json === 'object' ? json : undefined, raw });
  return { key: cacheKey(scope, canonical).slice(0, 16), basis: scope === anonymous ? 'computed' : 'credential_unseen' };
}

/** The key a cache decision recorded on the exchange (every cache rule of one request records the same key). */
function recordedKey(policy: string | null): string | undefined {
  if (!policy || !policy.includes('"cache"')) return undefined;
  try {
    const decisions = (JSON.parse(policy) as { decisions?: { kind?: unknown; key?: unknown }[] }).decisions ?? [];
    for (const d of decisions) if (d.kind === 'cache' && typeof d.key === 'string' && /^[0-9a-f]{16}$/.test(d.key)) return d.key;
  } catch {
    // An unreadable policy column: computed like any other row.
  }
  return undefined;
}
