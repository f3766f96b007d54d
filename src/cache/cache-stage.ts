import type { ServerResponse } from 'node:http';
import { decodeBody } from '../content-encoding.js';
import { headerValue, now, type Exchange, type RawHeaders } from '../exchange.js';
import { parseJsonBody } from '../providers/json.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { factsOf } from '../policy/evaluate.js';
import type { Decision, MatchFacts } from '../policy/types.js';
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
  /** An enforced rule decided: only then does the answer say `x-llmtap-cache` (a monitor rule changes nothing the client gets). */
  enforced: boolean;
}

/**
 * The cache stage, after the policy stage let the request through. Within cache
 * rules the first enforced match decides; monitor rules matched before it record
 * whether they would have hit (never serving) and still collect answers. `body` is
 * what goes upstream (after redaction), decoded; undefined when its content coding could
 * not be undone, and then the request is not cached at all: its key would not hold the
 * body, and two different requests would share one answer.
 */
export function lookupCache(policy: CompiledPolicy, caches: ResponseCaches, ex: Exchange, body: Buffer | undefined, known?: MatchFacts): CacheTicket | undefined {
  if (policy.cache.length === 0 || (body === undefined && ex.request.body.size > 0)) return undefined;
  // The policy stage's facts when it hands them over (nothing it does changes them).
  const facts = known ?? factsOf(ex, policy.teams);
  let json: unknown;
  let key: string | undefined;
  const ticket: CacheTicket = { store: [], enforced: false };
  // The record is this exchange's own (the policy stage made it): appended to, not copied.
  let decisions: Decision[] | undefined;
  for (const rule of policy.cache) {
    if (!rule.match(facts)) continue;
    json ??= body && body.length > 0 ? parseJsonBody(body) : null;
    if (!bodyMatches(rule, json)) continue;
    key ??= cacheKey(
      credentialScope(ex.request.headers, ex.request.path, ex.client.user),
      canonicalRequest({ provider: ex.provider, method: ex.request.method, host: ex.target.host, path: ex.request.path, json: json ?? undefined, raw: body }),
    );
    const enforced = rule.mode === 'enforce';
    ticket.enforced ||= enforced;
    const entry = caches.for(rule).get(key);
    const decision: Decision = { rule: rule.id, kind: 'cache', action: entry ? 'hit' : 'miss', enforced, key: key.slice(0, 16) };
    if (entry) decision.ageSeconds = Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000));
    decisions ??= ex.policy ? ex.policy.decisions : (ex.policy = { decisions: [] }).decisions;
    decisions.push(decision);
    if (enforced && entry) {
      ticket.hit = entry;
      break;
    }
    if (!entry) ticket.store.push({ rule, key });
    if (enforced) break;
  }
  return decisions ? ticket : undefined;
}

/**
 * Answers from the cache: the stored status and body with its content type, `age`
 * and `x-llmtap-cache: hit`. An event stream goes out as the provider framed it
 * (chunked, no length), so an SDK's stream reader yields the same events.
 */
export function serveHit(res: ServerResponse, ex: Exchange, entry: CacheEntry, captureLimit: number): void {
  const sse = entry.contentType.toLowerCase().startsWith('text/event-stream');
  const headers = ['content-type', entry.contentType, CACHE_HEADER, 'hit', 'age', String(Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000)))];
  if (sse) headers.push('cache-control', 'no-cache');
  void serveStored(res, ex, { status: entry.status, headers, body: entry.body }, captureLimit);
}

/** A stored answer to send again (a cache entry, a mock's recording). */
export interface StoredAnswer {
  status: number;
  /** Headers to send; `content-length` is added here for anything but an event stream. */
  headers: RawHeaders;
  /** The whole body, decoded (no content coding). */
  body: Buffer;
}

/**
 * Writes a stored answer: an event stream chunked as the provider framed it (the
 * bytes unchanged, so an SDK's reader yields the same events), anything else with its
 * length. With `pacing` (the mock's --timing) the recorded waits come first: before the
 * headers, then before the first body byte. Without it everything is written at once,
 * synchronously. A client that leaves during a wait ends the exchange `client_aborted`.
 */
export async function serveStored(res: ServerResponse, ex: Exchange, answer: StoredAnswer, captureLimit: number, pacing?: { headersMs: number; firstByteMs: number }): Promise<void> {
  const sse = (headerValue(answer.headers, 'content-type') ?? '').toLowerCase().startsWith('text/event-stream');
  const headers = sse ? answer.headers : [...answer.headers, 'content-length', String(answer.body.length)];
  const body = answer.body;
  if (pacing && !(await pause(res, pacing.headersMs))) return void (ex.outcome = 'client_aborted');
  ex.timings.upstreamHeaders = now();
  res.writeHead(answer.status, headers);
  ex.response = { status: answer.status, headers, body: { bytes: body.length <= captureLimit ? body : body.subarray(0, captureLimit), size: body.length, truncated: body.length > captureLimit } };
  if (pacing && pacing.firstByteMs > 0) {
    res.flushHeaders();
    if (!(await pause(res, pacing.firstByteMs))) {
      ex.response.body = { bytes: Buffer.alloc(0), size: 0, truncated: false };
      return void (ex.outcome = 'client_aborted');
    }
  }
  ex.timings.firstByte = now();
  res.end(body);
  ex.outcome = 'completed';
}

/** Waits `ms` unless the client leaves first (then false). */
function pause(res: ServerResponse, ms: number): Promise<boolean> {
  if (res.destroyed || res.socket?.destroyed) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}

/**
 * After a forwarded exchange ended: keeps its answer when it is worth replaying —
 * 2xx, complete (outcome completed, body not cut at the capture limit, an event
 * stream that reached its stop reason), not ended by an error the provider sent
 * inside the 2xx (Reassembled.failed), in a content coding we can undo, with no trailer
 * fields (a hit could not send them again).
 */
export function storeAnswer(ticket: CacheTicket | undefined, ex: Exchange, caches: ResponseCaches, persist: CachePersistence | undefined): void {
  if (!ticket || ticket.hit || ticket.store.length === 0) return;
  const res = ex.response;
  if (ex.outcome !== 'completed' || !res || res.status < 200 || res.status > 299 || res.body.truncated) return;
  const contentType = headerValue(res.headers, 'content-type') ?? 'application/json';
  if (contentType.toLowerCase().startsWith('text/event-stream') && !res.reassembled?.stopReason) return;
  if (res.reassembled?.failed || res.hadTrailers) return;
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
