import type { Exchange } from '../exchange.js';
import type { CompiledPolicy, RateLimitRule } from './compile.js';
import { hasMessageText, Placeholders, redactRequest } from './redact-body.js';
import { redactForm, takesUploads, type UploadForm } from './redact-form.js';
import { RateLimiter } from './rate-limit.js';
import type { Decision, MatchFacts, PolicyRecord, RateKey } from './types.js';
import { evaluateBudgets, type BudgetCharge, type BudgetLedger } from './budget.js';
import { evaluateLimits, type Clamp } from './limits.js';
import { signedReason } from './signed-request.js';

/** The codes an enforced decision answers with (x-llmtap-error). */
export type BlockCode = 'model_not_allowed' | 'content_blocked' | 'rate_limited' | 'budget_exceeded' | 'request_too_large' | 'max_tokens_exceeded';

export interface PolicyOutcome {
  record: PolicyRecord;
  block?: { code: BlockCode; retryAfterSeconds?: number };
  /** The body to send when redaction changed it (parsed and changed in place). */
  changedBody?: unknown;
  /** The upload whose text fields redaction changed (rewriteForm makes the body to send). */
  changedForm?: UploadForm;
  /** Token buckets to charge with the exchange's recorded usage once it ends. */
  charges: { limiter: RateLimiter; key: string }[];
  // budgets and limits (budget.ts, limits.ts)
  /** Budgets to charge with the exchange's cost once it ends. */
  budgetCharges?: BudgetCharge[];
  /** Max-tokens fields an enforced limit lowered (the body is changed in place). */
  clamps?: Clamp[];
}

/** State the budget and limits rules read beside the body (none needed by the other kinds). */
export interface EvaluateExtras {
  budgets?: BudgetLedger;
  /** The request body's size as sent (maxRequestBytes). */
  bodySize?: number;
  /** Epoch ms: which budget period the request falls in. */
  now?: number;
  /** Access and rate-limit rules are left to each request the session sends (a Codex WebSocket upgrade: proxy/ws-screen.ts). */
  perRequest?: boolean;
  /** A file upload's text fields (redact-form.ts): what redaction reads instead of a JSON body. */
  form?: UploadForm;
}

/** Reads the facts rules match on from an Exchange (tool and agent metadata filled in by the caller). */
export function factsOf(ex: Exchange, teams: ReadonlyMap<string, string>): MatchFacts {
  const user = ex.client.user;
  return {
    provider: ex.provider,
    host: ex.target.host,
    path: ex.request.path,
    api: ex.api,
    model: ex.request.model,
    tool: ex.tool?.name,
    client: ex.client.address,
    user,
    team: user === undefined ? undefined : teams.get(user),
    session: ex.agent?.sessionId,
    signed: signedReason(ex.request.headers, ex.request.path),
  };
}

/**
 * Facts taken earlier (a WebSocket session's, at its upgrade) with the team `teams` (the
 * live policy's) gives their user: a reload that moves a user to another team moves an open
 * session's requests to that team's rate-limit buckets and budgets too. The same object
 * when the team is unchanged (a Map lookup per request, nothing built).
 */
export function withLiveTeam(facts: MatchFacts, teams: ReadonlyMap<string, string>): MatchFacts {
  const team = facts.user === undefined ? undefined : teams.get(facts.user);
  return team === facts.team ? facts : { ...facts, team };
}

/** The most output a request may produce, as it says itself (the token pre-check). */
export function declaredMaxTokens(body: unknown): number {
  if (!body || typeof body !== 'object') return 0;
  const b = body as Record<string, Record<string, unknown> | unknown>;
  // In this order, the first positive number wins (no list built: this runs on every token-limited request).
  return positive(b.max_tokens) || positive(b.max_completion_tokens) || positive(b.max_output_tokens)
    || positive((b.generationConfig as Record<string, unknown> | undefined)?.maxOutputTokens)
    || positive((b.inferenceConfig as Record<string, unknown> | undefined)?.maxTokens)
    || positive((b.options as Record<string, unknown> | undefined)?.num_predict);
}

function positive(value: unknown): number {
  return typeof value === 'number' && value > 0 ? value : 0;
}

/**
 * Rate-limit buckets per rule, kept across reloads for rules whose id and limits
 * did not change (a reload must not hand everyone a fresh burst).
 */
export class PolicyBuckets {
  private readonly byRule = new Map<string, { requests?: RateLimiter; tokens?: RateLimiter }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** After a reload: forgets the buckets of rules that are gone or changed. */
  retain(policy: CompiledPolicy): void {
    const live = new Set(policy.rateLimit.map(signature));
    for (const sig of this.byRule.keys()) if (!live.has(sig)) this.byRule.delete(sig);
  }

  for(rule: RateLimitRule): { requests?: RateLimiter; tokens?: RateLimiter } {
    const sig = signature(rule);
    let entry = this.byRule.get(sig);
    if (!entry) {
      entry = {
        requests: rule.requestsPerMinute ? new RateLimiter({ limit: rule.requestsPerMinute, windowMs: 60_000 }, this.now) : undefined,
        tokens: rule.tokensPerMinute ? new RateLimiter({ limit: rule.tokensPerMinute, windowMs: 60_000 }, this.now) : undefined,
      };
      this.byRule.set(sig, entry);
    }
    return entry;
  }
}

/** Remembered per compiled rule: every request matching a rate rule looks its buckets up. */
const signatures = new WeakMap<RateLimitRule, string>();
function signature(rule: RateLimitRule): string {
  let sig = signatures.get(rule);
  if (sig === undefined) signatures.set(rule, (sig = `${rule.id}\u0000${rule.requestsPerMinute ?? ''}\u0000${rule.tokensPerMinute ?? ''}\u0000${rule.per}`));
  return sig;
}

function bucketKey(per: RateKey, f: MatchFacts): string {
  const who = f.user ?? f.client;
  switch (per) {
    case 'user': return `user:${who}`;
    case 'client': return `client:${f.client}`;
    case 'team': return f.team === undefined ? `user:${who}` : `team:${f.team}`;
    case 'tool': return `tool:${f.tool ?? ''}`;
    case 'model': return `model:${f.model ?? ''}`;
    case 'provider': return `provider:${f.provider ?? f.host}`;
  }
}

/**
 * Access rules (allow/deny) over one request's facts: each matching rule's decision is
 * added to `decisions` up to the first enforced one, which decides; true when that one
 * denies. Also screens the model each request inside a WebSocket session names (ws-screen.ts).
 */
export function evaluateAccess(rules: CompiledPolicy['access'], facts: MatchFacts, decisions: Decision[]): boolean {
  for (const rule of rules) {
    if (!rule.match(facts)) continue;
    const enforced = rule.mode === 'enforce';
    decisions.push({ rule: rule.id, kind: 'access', action: rule.action, enforced });
    if (enforced) return rule.action === 'deny';
  }
  return false;
}

/**
 * Rate-limit rules over one request: its token pre-check (from the max tokens it declares)
 * and its request taken from each matching rule's buckets, up to the first enforced one.
 * Limits hit are added to `decisions`; `retryAfterSeconds` when an enforced one refuses;
 * else the token buckets to charge with what the request really used.
 */
export function evaluateRateLimits(rules: readonly RateLimitRule[], facts: MatchFacts, body: unknown, buckets: PolicyBuckets, decisions: Decision[]): { retryAfterSeconds?: number; charges: PolicyOutcome['charges'] } {
  const charges: PolicyOutcome['charges'] = [];
  let declared: number | undefined;
  for (const rule of rules) {
    if (!rule.match(facts)) continue;
    const enforced = rule.mode === 'enforce';
    const key = bucketKey(rule.per, facts);
    const { requests, tokens } = buckets.for(rule);
    // Read from the body once, and only when a token bucket asks.
    const tokenCheck = tokens?.check(key, Math.max(1, (declared ??= declaredMaxTokens(body))));
    if (tokenCheck && !tokenCheck.ok) {
      decisions.push({ rule: rule.id, kind: 'rateLimit', action: 'limit', enforced, key, retryAfterSeconds: tokenCheck.retryAfterSeconds, limit: 'tokens' });
      if (enforced) return { retryAfterSeconds: tokenCheck.retryAfterSeconds, charges: [] };
      continue;
    }
    const requestTake = requests?.take(key);
    if (requestTake && !requestTake.ok) {
      decisions.push({ rule: rule.id, kind: 'rateLimit', action: 'limit', enforced, key, retryAfterSeconds: requestTake.retryAfterSeconds, limit: 'requests' });
      if (enforced) return { retryAfterSeconds: requestTake.retryAfterSeconds, charges: [] };
      continue;
    }
    if (tokens) charges.push({ limiter: tokens, key });
    if (enforced) break;
  }
  return { charges };
}

/**
 * The token buckets what these facts asked for is charged to under `rules`, nothing taken
 * or checked (evaluateRateLimits' charges): a WebSocket session's responses, each charged
 * under the rules in force when it ends, as an HTTP request after a reload is.
 */
export function tokenChargesFor(rules: readonly RateLimitRule[], facts: MatchFacts, buckets: PolicyBuckets): PolicyOutcome['charges'] {
  const charges: PolicyOutcome['charges'] = [];
  for (const rule of rules) {
    if (!rule.match(facts)) continue;
    const { tokens } = buckets.for(rule);
    if (tokens) charges.push({ limiter: tokens, key: bucketKey(rule.per, facts) });
    if (rule.mode === 'enforce') break;
  }
  return charges;
}

/**
 * Decides what the policy does with one request: pure over the facts and the
 * parsed body, apart from the token buckets it is handed. Within each kind the
 * first ENFORCED rule that matches wins (redaction excepted: every matching redact
 * rule applies); monitor rules that match before it are recorded (what they would
 * have done) and passed over, so adding a rule in monitor mode never changes what is
 * enforced.
 */
export function evaluatePolicy(policy: CompiledPolicy, facts: MatchFacts, body: unknown, buckets: PolicyBuckets, bodyUnreadable = false, extras: EvaluateExtras = {}): PolicyOutcome {
  const decisions: Decision[] = [];
  const outcome: PolicyOutcome = { record: { decisions }, charges: [] };
  const block = (code: BlockCode, retryAfterSeconds?: number): PolicyOutcome => {
    outcome.block = { code, retryAfterSeconds };
    outcome.record.blocked = code;
    outcome.charges = [];
    outcome.budgetCharges = undefined;
    // changedBody stays: the caller records the redacted body even for a refused request.
    return outcome;
  };

  if (!extras.perRequest && evaluateAccess(policy.access, facts, decisions)) return block('model_not_allowed');

  const placeholders = new Placeholders();
  for (const rule of policy.redact) {
    if (!rule.match(facts)) continue;
    const enforced = rule.mode === 'enforce';
    // An enforced block rule replaces too: the request is refused, and the archive keeps it
    // with placeholders, never the values the rule said must not leave this machine.
    const apply = enforced;
    if (bodyUnreadable && (hasMessageText(facts.api) || takesUploads(facts.api))) {
      // A body that could not be decoded or parsed cannot be scanned: a block rule
      // refuses it (fail closed); a replace rule records that it could not look.
      decisions.push({ rule: rule.id, kind: 'redact', action: rule.action, enforced, hits: [{ detector: 'unreadable', at: 'body', count: 1 }] });
      if (enforced && rule.action === 'block') return block('content_blocked');
      continue;
    }
    // Unlike the other kinds, every matching redact rule applies, in order: each looks for
    // its own detectors (one rule refusing keys, another replacing personal data).
    const hits = extras.form ? redactForm(extras.form, rule.detectors, placeholders, apply) : redactRequest(facts.api, body, rule.detectors, placeholders, apply);
    if (hits.length === 0) continue;
    // A signed request cannot go up changed, and must not go up with what the rule replaces:
    // refused (the archive keeps it with placeholders, as for a block rule).
    const unsignable = enforced && rule.action === 'replace' && facts.signed !== undefined;
    decisions.push(unsignable ? { rule: rule.id, kind: 'redact', action: rule.action, enforced, hits, notApplied: facts.signed } : { rule: rule.id, kind: 'redact', action: rule.action, enforced, hits });
    if (!enforced) continue;
    if (extras.form) outcome.changedForm = extras.form;
    else outcome.changedBody = body;
    outcome.record.bodyChanged = true;
    if (rule.action === 'block' || unsignable) return block('content_blocked');
  }

  // limits: after redaction (a refused body is still recorded redacted), before the token pre-check, which sees the clamped value.
  if (policy.limits.length > 0) {
    const limited = evaluateLimits(policy.limits, facts, body, extras.bodySize ?? 0);
    decisions.push(...limited.decisions);
    if (limited.block) return block(limited.block);
    if (limited.clamps.length > 0) {
      outcome.clamps = limited.clamps;
      outcome.record.bodyChanged = true;
    }
  }

  // budgets: after redaction (a refused request is still recorded redacted), before the rate buckets are taken.
  if (policy.budget.length > 0 && extras.budgets) {
    const budgeted = evaluateBudgets(policy.budget, facts, extras.budgets, extras.now ?? Date.now());
    decisions.push(...budgeted.decisions);
    if (budgeted.block) return block('budget_exceeded', budgeted.block.retryAfterSeconds);
    if (budgeted.charges.length > 0) outcome.budgetCharges = budgeted.charges;
  }

  if (!extras.perRequest) {
    const rated = evaluateRateLimits(policy.rateLimit, facts, body, buckets, decisions);
    if (rated.retryAfterSeconds !== undefined) return block('rate_limited', rated.retryAfterSeconds);
    outcome.charges = rated.charges;
  }
  return outcome;
}
