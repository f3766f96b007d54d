import type { BlockCode } from './evaluate.js';
import type { ArchivedRequest } from './archived-request.js';

/** What one rule would have done over the archive (one entry per rule, action and target). */
export interface RuleEffect {
  rule: string;
  kind: string;
  mode: 'enforce' | 'monitor';
  /** deny, replace/block, limit (requests|tokens), hit, warn/block, clamp, route, retry, inject. */
  action: string;
  /** Requests the rule acted on this way. */
  requests: number;
  /** Where a route, fallback or credentials rule sent the request (`upstream` and `model`), or a limit's field. */
  to?: string;
  /** Tokens and USD (the stored cost) of requests that would not have gone upstream. */
  savedTokens: number;
  savedUsd: number;
  /** redact: how often each detector fired. */
  detectors?: Record<string, number>;
  /** route: priced cost at the routed model minus the archived cost, over the requests both are known for. */
  costDeltaUsd?: number;
  /** route: requests whose routed or archived cost is unknown (not in costDeltaUsd). */
  unpriced?: number;
}

/** Counts over enforced rules only: what the policy would have done. */
export interface PolicyTestTotals {
  blocked: number;
  /** Refusals per error code (model_not_allowed, content_blocked, rate_limited, budget_exceeded, request_too_large, max_tokens_exceeded). */
  blockedBy: Partial<Record<BlockCode, number>>;
  rateLimited: number;
  redacted: number;
  /** Detector → hits, over the requests redacted. */
  detectors: Record<string, number>;
  /** Requests whose max-tokens field would have been lowered. */
  clamped: number;
  /** Requests sent to another upstream or model by a route rule. */
  rerouted: number;
  /** Requests whose recorded failure a fallback rule would have retried elsewhere. */
  fellBack: number;
  /** Requests that would have carried a credential from a rule. */
  credentials: number;
  cached: number;
  savedTokens: number;
  savedUsd: number;
  /** Cost change of rerouted requests where both prices are known. */
  routeCostDeltaUsd: number;
}

export interface PolicyTestReport {
  exchanges: number;
  /** Of those, WebSocket sessions (answered 101). */
  webSocketSessions: number;
  /** The requests of the Codex sessions among them, replayed one by one (a session without them is replayed as one request). */
  sessionRequests: number;
  since: number | null;
  /** Where budget spend starts: the earliest current period start of any budget rule at `since` (null: no budgets or no --since). */
  budgetsFrom: number | null;
  rules: RuleEffect[];
  totals: PolicyTestTotals;
}

/** Accumulates effects per rule, action and target while the archive is replayed. */
export class EffectTally {
  private readonly effects = new Map<string, RuleEffect>();
  readonly totals: PolicyTestTotals = {
    blocked: 0, blockedBy: {}, rateLimited: 0, redacted: 0, detectors: {}, clamped: 0, rerouted: 0, fellBack: 0, credentials: 0, cached: 0, savedTokens: 0, savedUsd: 0, routeCostDeltaUsd: 0,
  };

  /** The entry for a rule, action and (optional) target; created on first use with one more request counted. */
  act(rule: string, kind: string, enforced: boolean, action: string, to?: string): RuleEffect {
    const k = `${rule}\u0000${action}\u0000${to ?? ''}`;
    let e = this.effects.get(k);
    if (!e) this.effects.set(k, (e = { rule, kind, mode: enforced ? 'enforce' : 'monitor', action, requests: 0, savedTokens: 0, savedUsd: 0, ...(to === undefined ? {} : { to }) }));
    e.requests++;
    return e;
  }

  /** The request would not have gone upstream: its tokens and cost are saved (in the totals when enforced). */
  save(e: RuleEffect, r: ArchivedRequest, enforced: boolean): void {
    e.savedTokens += r.tokens;
    e.savedUsd += r.costUsd ?? 0;
    if (!enforced) return;
    this.totals.savedTokens += r.tokens;
    this.totals.savedUsd += r.costUsd ?? 0;
  }

  block(code: BlockCode): void {
    this.totals.blocked++;
    this.totals.blockedBy[code] = (this.totals.blockedBy[code] ?? 0) + 1;
    if (code === 'rate_limited') this.totals.rateLimited++;
  }

  rules(): RuleEffect[] {
    return [...this.effects.values()];
  }
}

export function addCounts(into: Record<string, number>, hits: readonly { detector: string; count: number }[]): void {
  for (const h of hits) into[h.detector] = (into[h.detector] ?? 0) + h.count;
}
