import type { ServerResponse } from 'node:http';
import { decodeBody } from '../content-encoding.js';
import { headerValue, now, type Exchange } from '../exchange.js';
import { parseJsonBody } from '../providers/json.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { factsOf } from '../policy/evaluate.js';
import type { Decision } from '../policy/types.js';
import { bodyMatches, type CacheRule } from './cache-rule.js';
import { cacheKey, canonicalRequest, credentialScope } from './canonical-key.js';
import type { CacheEntry } from './response-cache.js';
import type { CachePersistence, ResponseCaches } from './response-caches.js';

/** The response header saying what the cache did. */
export const CACHE_HEADER = 'x-llmtap-cache';

/** What the cache decided for one request; handed back after the response to store it. */
export interface CacheTicket {
  /** Rules whose caches take the answer on a miss (the enforced one, and monitor rules before it). */
  store: { rule: CacheRule; key: string }[];
  /** An enforced hit: answer with this, make no upstream call. */
  hit?: CacheEntry;
}

/**
 * The cache stage, after the policy stage let the request through. Within cache
 * rules the first enforced match decides; monitor rules matched before it record
 * whether they would have hit (never serving) and still collect answers. `body` is
 * what goes upstream (after redaction), decoded.
 */
export function lookupCache(policy: CompiledPolicy, caches: ResponseCaches, ex: Exchange, body: Buffer | undefined): CacheTicket | undefined {
  if (policy.cache.length === 0) return undefined;
  const facts = factsOf(ex, policy.teams);
  let json: unknown;
  let key: string | undefined;
  const ticket: CacheTicket = { store: [] };
  const decisions: Decision[] = [];
  for (const rule of policy.cache) {
    if (!rule.match(facts)) continue;
    json ??= body && body.length > 0 ? parseJsonBody(body) : null;
    if (!bodyMatches(rule, json)) continue;
    key ??= cacheKey(
      credentialScope(ex.request.headers, ex.request.path, ex.client.user),
      canonicalRequest({ provider: ex.provider, method: ex.request.method, host: ex.target.host, path: ex.request.path, json: json ?? undefined, raw: body }),
    );
    const enforced = rule.mode === 'enforce';
    const entry = caches.for(rule).get(key);
    const decision: Decision = { rule: rule.id, kind: 'cache', action: entry ? 'hit' : 'miss', enforced, key: key.slice(0, 16) };
    if (entry) decision.ageSeconds = Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000));
    decisions.push(decision);
    if (enforced && entry) {
      ticket.hit = entry;
      break;
    }
    if (!entry) ticket.store.push({ rule, key });
    if (enforced) break;
  }
  if (decisions.length === 0) return undefined;
  ex.policy = { ...(ex.policy ?? {}), decisions: [...(ex.policy?.decisions ?? []), ...decisions] };
  return ticket;
}

/**
 * Answers from the cache: the stored status and body with its content type, `age`
 * and `x-llmtap-cache: hit`. An event stream goes out as the provider framed it
 * (chunked, no length), so an SDK's stream reader yields the same events.
 */
export function serveHit(res: ServerResponse, ex: Exchange, entry: CacheEntry, captureLimit: number): void {
  const sse = entry.contentType.toLowerCase().startsWith('text/event-stream');
  const headers = ['content-type', entry.contentType, CACHE_HEADER, 'hit', 'age', String(Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000)))];
  if (!sse) headers.push('content-length', String(entry.body.length));
  else headers.push('cache-control', 'no-cache');
  const t = now();
  ex.timings.upstreamHeaders = t;
  ex.timings.firstByte = t;
  res.writeHead(entry.status, headers);
  res.end(entry.body);
  const body = entry.body;
  ex.response = { status: entry.status, headers, body: { bytes: body.length <= captureLimit ? body : body.subarray(0, captureLimit), size: body.length, truncated: body.length > captureLimit } };
  ex.outcome = 'completed';
}

/**
 * After a forwarded exchange ended: keeps its answer when it is worth replaying —
 * 2xx, complete (outcome completed, body not cut at the capture limit, an event
 * stream that reached its stop reason), in a content coding we can undo.
 */
export function storeAnswer(ticket: CacheTicket | undefined, ex: Exchange, caches: ResponseCaches, persist: CachePersistence | undefined): void {
  if (!ticket || ticket.hit || ticket.store.length === 0) return;
  const res = ex.response;
  if (ex.outcome !== 'completed' || !res || res.status < 200 || res.status > 299 || res.body.truncated) return;
  const contentType = headerValue(res.headers, 'content-type') ?? 'application/json';
  if (contentType.toLowerCase().startsWith('text/event-stream') && !res.reassembled?.stopReason) return;
  const body = decodeBody(res.body.bytes, headerValue(res.headers, 'content-encoding'));
  if (!body) return;
  const storedAt = Date.now();
  for (const { rule, key } of ticket.store) {
    const entry: CacheEntry = { key, rule: rule.id, status: res.status, contentType, body, storedAt, expiresAt: storedAt + rule.bounds.ttlMs, exchangeId: ex.id };
    const { stored, evicted } = caches.for(rule).set(entry);
    if (stored) persist?.put(entry);
    if (evicted.length > 0) persist?.delete(evicted);
  }
}
