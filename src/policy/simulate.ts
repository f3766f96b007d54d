import type { ExchangeRow } from '../recorder/db.js';
import { bodyMatches } from '../cache/cache-rule.js';
import { ResponseCaches } from '../cache/response-caches.js';
import { archivedRequest, type ArchivedRequest } from './archived-request.js';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy, PolicyBuckets } from './evaluate.js';

/** What one rule would have done over the archive. */
export interface RuleEffect {
  rule: string;
  kind: string;
  mode: 'enforce' | 'monitor';
  /** Requests the rule acted on: refused, redacted, limited or answered from the cache. */
  requests: number;
  action: string;
  /** Tokens and USD (the stored cost) of requests that would not have gone upstream. */
  savedTokens: number;
  savedUsd: number;
}

export interface PolicyTestReport {
  exchanges: number;
  since: number | null;
  rules: RuleEffect[];
  totals: { blocked: number; redacted: number; rateLimited: number; cached: number; savedTokens: number; savedUsd: number };
}

/**
 * Replays the archive through a policy, oldest first, with its clock at each
 * exchange's start: rate limits fill as they would have, the cache stores 2xx
 * answers and serves repeats. Nothing is sent anywhere. Monitor rules are counted
 * as what they would have done, and (as live) change nothing.
 */
export function simulatePolicy(policy: CompiledPolicy, rows: Iterable<ExchangeRow>, since?: number): PolicyTestReport {
  let clock = 0;
  const buckets = new PolicyBuckets(() => clock);
  const caches = new ResponseCaches(() => clock);
  const effects = new Map<string, RuleEffect>();
  const effect = (rule: string, kind: string, mode: 'enforce' | 'monitor', action: string): RuleEffect => {
    const k = `${rule}\u0000${action}`;
    let e = effects.get(k);
    if (!e) effects.set(k, (e = { rule, kind, mode, action, requests: 0, savedTokens: 0, savedUsd: 0 }));
    return e;
  };
  const totals = { blocked: 0, redacted: 0, rateLimited: 0, cached: 0, savedTokens: 0, savedUsd: 0 };
  const save = (e: RuleEffect, r: ArchivedRequest, enforced: boolean): void => {
    e.savedTokens += r.tokens;
    e.savedUsd += r.costUsd ?? 0;
    if (!enforced) return;
    totals.savedTokens += r.tokens;
    totals.savedUsd += r.costUsd ?? 0;
  };
  let exchanges = 0;
  for (const row of rows) {
    if (row.status === 101) continue; // WebSocket sessions: messages, not one request
    exchanges++;
    const r = archivedRequest(row, policy.teams);
    clock = r.at;
    // The body is parsed afresh per exchange, so redaction may change it in place.
    const outcome = evaluatePolicy(policy, r.facts, r.body, buckets, r.unreadable);
    for (const d of outcome.record.decisions) {
      const mode = d.enforced ? 'enforce' : 'monitor';
      if (d.kind === 'access' && d.action === 'deny') {
        const e = effect(d.rule, d.kind, mode, 'deny');
        e.requests++;
        save(e, r, d.enforced);
      } else if (d.kind === 'redact') {
        const e = effect(d.rule, d.kind, mode, d.action);
        e.requests++;
        if (d.action === 'block') save(e, r, d.enforced);
        else if (d.enforced) totals.redacted++;
      } else if (d.kind === 'rateLimit') {
        const e = effect(d.rule, d.kind, mode, `limit (${d.limit})`);
        e.requests++;
        save(e, r, d.enforced);
        if (d.enforced) totals.rateLimited++;
      }
    }
    if (outcome.block) {
      totals.blocked++;
      continue;
    }
    for (const c of outcome.charges) c.limiter.charge(c.key, r.tokens);
    for (const rule of policy.cache) {
      if (!rule.match(r.facts) || !bodyMatches(rule, r.body)) continue;
      const enforced = rule.mode === 'enforce';
      const cache = caches.for(rule);
      if (cache.get(r.key)) {
        const e = effect(rule.id, 'cache', rule.mode, 'hit');
        e.requests++;
        save(e, r, enforced);
        if (enforced) {
          totals.cached++;
          break;
        }
      } else if (r.cacheable) {
        cache.set({ key: r.key, rule: rule.id, status: 200, contentType: '', body: Buffer.allocUnsafe(r.responseBytes), storedAt: clock, expiresAt: clock + rule.bounds.ttlMs, exchangeId: r.id });
      }
      if (enforced) break;
    }
  }
  return { exchanges, since: since ?? null, rules: [...effects.values()], totals };
}
