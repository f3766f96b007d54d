import { evaluateBudgets, type BudgetLedger } from './budget.js';
import type { CompiledPolicy } from './compile.js';
import { evaluateAccess, evaluateRateLimits, type PolicyBuckets, type PolicyOutcome } from './evaluate.js';
import { Placeholders, redactRequest } from './redact-body.js';
import type { Decision, MatchFacts } from './types.js';

/** The codes a request inside a WebSocket session can be refused with. */
export type SessionRequestCode = 'model_not_allowed' | 'content_blocked' | 'budget_exceeded' | 'rate_limited';

export interface SessionRequestVerdict {
  /** Access decisions, budget refusals and rate limits hit, in that order. */
  decisions: Decision[];
  block?: SessionRequestCode;
  /** The token buckets the request's response is charged to (when not refused). */
  tokenCharges: PolicyOutcome['charges'];
}

/**
 * One request inside a Codex WebSocket session (a `response.create`), judged as an HTTP
 * request of its model would be: the access rules, the redact rules that block, then the
 * budgets, then the rate limits (this request taken from their buckets). A redact rule that
 * replaces does not apply (a message is relayed as sent: rewriting one would break the
 * compression window both ends share), nor do limits. Pure apart from the buckets it takes
 * from and `event`, whose text a refusing block rule replaces with placeholders (what the
 * archive keeps); used live (proxy/ws-screen.ts) and when `policy test` replays a recorded
 * session (simulate.ts). `unreadable`: the message was cut at the capture limit, so a block
 * rule cannot read it all and refuses it, as it refuses an HTTP body it cannot read.
 */
export function judgeSessionRequest(
  policy: CompiledPolicy, facts: MatchFacts, event: Record<string, unknown>,
  state: { buckets: PolicyBuckets; budgets?: BudgetLedger; now: number }, unreadable = false,
): SessionRequestVerdict {
  const decisions: Decision[] = [];
  const access: Decision[] = [];
  const denied = evaluateAccess(policy.access, facts, access);
  // An access decision names the model it judged (a session's requests may differ).
  for (const d of access) decisions.push(d.kind === 'access' && facts.model !== undefined ? { ...d, model: facts.model } : d);
  if (denied) return { decisions, block: 'model_not_allowed', tokenCharges: [] };
  if (blockRulesRefuse(policy, facts, event, unreadable, decisions)) return { decisions, block: 'content_blocked', tokenCharges: [] };
  if (state.budgets && policy.budget.length > 0) {
    const budgeted = evaluateBudgets(policy.budget, facts, state.budgets, state.now);
    // A session's warnings would repeat request after request: its refusals are what it keeps.
    for (const d of budgeted.decisions) if (d.action === 'block') decisions.push(d);
    if (budgeted.block) return { decisions, block: 'budget_exceeded', tokenCharges: [] };
  }
  // The token pre-check reads the request's own max_output_tokens (on the event, or in its `response`).
  const body = (event.response as Record<string, unknown> | undefined) ?? event;
  const rated = evaluateRateLimits(policy.rateLimit, facts, body, state.buckets, decisions);
  if (rated.retryAfterSeconds !== undefined) return { decisions, block: 'rate_limited', tokenCharges: [] };
  return { decisions, tokenCharges: rated.charges };
}

/**
 * A message of a session that asks for nothing (a Gemini Live turn's text, its realtime
 * text, a tool's answer after the setup), judged by the redact rules that block only: it
 * is no request (no access rule, budget or rate limit asks), but its text leaves this
 * machine as a request's does. Pure apart from `event`, whose text a refusing rule
 * replaces with placeholders (what the archive keeps).
 */
export function judgeSessionMessage(policy: CompiledPolicy, facts: MatchFacts, event: Record<string, unknown>, unreadable = false): { decisions: Decision[]; block?: 'content_blocked' } {
  const decisions: Decision[] = [];
  return blockRulesRefuse(policy, facts, event, unreadable, decisions) ? { decisions, block: 'content_blocked' } : { decisions };
}

/** Whether a policy has a redact rule that blocks: only such a rule reads a session's messages that ask for nothing. */
export function hasBlockRule(policy: CompiledPolicy): boolean {
  return policy.redact.some((rule) => rule.action === 'block');
}

/** The redact rules that block, on a session message's text: true when an enforced one refuses it (its decisions added). */
function blockRulesRefuse(policy: CompiledPolicy, facts: MatchFacts, event: Record<string, unknown>, unreadable: boolean, decisions: Decision[]): boolean {
  const placeholders = new Placeholders();
  for (const rule of policy.redact) {
    if (rule.action !== 'block' || !rule.match(facts)) continue;
    const enforced = rule.mode === 'enforce';
    const hits = unreadable ? [{ detector: 'unreadable', at: 'message', count: 1 }] : redactRequest(facts.api, event, rule.detectors, placeholders, enforced);
    if (hits.length === 0) continue;
    decisions.push({ rule: rule.id, kind: 'redact', action: 'block', enforced, hits });
    if (enforced) return true;
  }
  return false;
}
