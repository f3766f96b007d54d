import { LlmtapError } from '../errors.js';
import { headerValue, withBodyLength, type Exchange, type RawHeaders, type ResponsePart, type Usage } from '../exchange.js';
import { readAgentMetadata } from '../providers/agent-metadata.js';
import { parseJsonBody } from '../providers/json.js';
import { identifyTool } from '../providers/tool-identity.js';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy, factsOf, PolicyBuckets, tokenChargesFor, withLiveTeam, type PolicyOutcome } from './evaluate.js';
import { refusalMessage } from './refusal-message.js';
import { multipartBoundary } from '../providers/multipart-fields.js';
import { readUploadForm, rewriteForm, takesUploads } from './redact-form.js';
import type { CachePersistence, ResponseCaches } from '../cache/response-caches.js';
import { budgetChargesFor, evaluateBudgets, type BudgetLedger } from './budget.js';
import type { BudgetCharger } from './budget-charge.js';
import { clampedBody } from './clamp-body.js';
import { declaredSizeBlock } from './declared-size.js';
import { evaluateRouting, type RoutingPlan } from './routing.js';
import type { PendingCharges } from './pending-charges.js';
import { mayEstimateUsage } from '../recorder/row-estimate.js';
import type { BudgetDecision, MatchFacts } from './types.js';
import { usageOutputTokens, usagePromptTokens } from '../providers/usage-totals.js';

/** The live policy and its state; the server swaps `policy` on reload and keeps the buckets. */
export interface PolicyRuntime {
  policy: CompiledPolicy;
  buckets: PolicyBuckets;
  /** Answers of the cache rules (kept across reloads), and where their durable copy is written. */
  caches?: ResponseCaches;
  cachePersistence?: CachePersistence;
  /** Spend per budget rule and key (budget.ts); seeded from the archive at start and reload. */
  budgets?: BudgetLedger;
  /** Charges finished exchanges' cost to that ledger. */
  charger?: BudgetCharger;
  /** Charges waiting for the archive's estimate of an answer that reported no usage. */
  pending?: PendingCharges;
}

export interface PolicyStageResult {
  /** An enforced block: answer with this, make no upstream call. */
  error?: LlmtapError;
  /** The body to forward when it changed (identity-encoded, Content-Length fixed in `headers`). */
  body?: Buffer;
  headers?: RawHeaders;
  charges: PolicyOutcome['charges'];
  /** Budgets to charge with the exchange's cost when it ends (budget-charge.ts). */
  budgetCharges?: PolicyOutcome['budgetCharges'];
  /** Route, fallback and credentials to apply when forwarding (src/proxy/fallback.ts); absent: forward as sent. */
  routing?: { plan: RoutingPlan; facts: MatchFacts };
  /** What the rules matched on, for the cache stage (computed once per exchange). */
  facts?: MatchFacts;
}

/**
 * The policy stage of one exchange, after the body is read and parsed, before
 * forwarding. Records every decision on `ex.policy`; returns the LlmtapError an
 * enforced block answers with (no upstream call) and the body to send or record
 * when redaction changed it. `decoded` is the body with its content coding undone
 * (undefined when it could not be). `perRequest`: the access and rate-limit rules are
 * applied to each request inside the session instead (a Codex WebSocket upgrade names no model).
 */
export function applyPolicy(runtime: PolicyRuntime, ex: Exchange, upstreamHeaders: RawHeaders, decoded: Buffer | undefined, perRequest = false): PolicyStageResult {
  const { policy } = runtime;
  ex.tool ??= identifyTool(ex.request.headers);
  // Read once: the body parser's read (headers and body) already set it, even to undefined.
  if (!Object.hasOwn(ex, 'agent')) ex.agent = readAgentMetadata(ex.request.headers, undefined);
  const needsBody = readsBody(policy);
  // The parse is shared with the provider parser (same Buffer, parsed once); redaction
  // changes that object in place, so nothing later reads the secret from it either.
  // A file upload (multipart: an image edit, a transcription) is not JSON by design: not parsed
  // (its megabytes would hold the event loop); redaction reads its text fields instead, the
  // file parts never (redact-form.ts). Only where the API takes uploads: a multipart body
  // elsewhere is a body redaction cannot read.
  const form = policy.redact.length > 0 && takesUploads(ex.api) && decoded && decoded.length > 0 ? readUploadForm(decoded, headerValue(ex.request.headers, 'content-type')) : undefined;
  const upload = form !== undefined || (takesUploads(ex.api) && isMultipart(ex.request.headers));
  const body = needsBody && !upload && decoded && decoded.length > 0 ? parseJsonBody(decoded) : undefined;
  // A body was sent but cannot be read: as JSON (unknown coding, past the decode cap, not JSON),
  // or an upload whose coding could not be undone.
  const unreadable = policy.redact.length > 0 && ex.request.body.size > 0 && (upload ? form === undefined : body === undefined || body === null || typeof body !== 'object');
  const facts = factsOf(ex, policy.teams);
  const outcome = evaluatePolicy(policy, facts, body, runtime.buckets, unreadable, { budgets: runtime.budgets, bodySize: ex.request.body.size, now: Date.now(), perRequest, form });
  // Routing (route, fallback, credentials): only for a request that is going out, and not for
  // `OPTIONS *`: it asks the server the client addressed about itself, names no model or API
  // to route, and goes to that origin as sent.
  const routing = outcome.block || ex.request.path === '*' ? undefined : evaluateRouting(policy, facts, ex.target);
  if (routing) {
    if (routing.decisions.length > 0) outcome.record.decisions.push(...routing.decisions);
    if (routing.route) outcome.record.route = routing.route;
  }
  if (outcome.record.decisions.length > 0 || outcome.record.blocked) ex.policy = outcome.record;
  const retry = outcome.block?.retryAfterSeconds;
  // One object, filled in below (this runs on every request).
  const result: PolicyStageResult = { charges: outcome.charges, budgetCharges: outcome.budgetCharges, facts };
  if (outcome.block) result.error = new LlmtapError(outcome.block.code, blockOptions(outcome.block.code, retry, refusalMessage(outcome.block.code, outcome.record.decisions, facts.model, Date.now())));
  if (routing?.plan) result.routing = { plan: routing.plan, facts };
  // The body when a rule changed it: re-serialised after redaction, or an upload with its
  // redacted text fields rewritten (handed back even when a later rule blocks the request,
  // so the archive never keeps what a rule said must not leave), or, when only a limit
  // clamped, the bytes as sent with just the numbers changed.
  const next = outcome.changedForm
    ? rewriteForm(outcome.changedForm)
    : outcome.changedBody !== undefined
      ? Buffer.from(JSON.stringify(outcome.changedBody), 'utf8')
      : outcome.clamps && decoded && clampedBody(decoded, body, outcome.clamps);
  if (next) {
    result.body = next;
    result.headers = withBodyLength(upstreamHeaders, next.length);
  }
  return result;
}

/**
 * The policy's refusal of a request its head already decides, before the body is read:
 * a declared body (Content-Length) over an enforced maxRequestBytes (declared-size.ts).
 * Recorded on `ex.policy` as the check after the read would record it.
 */
export function declaredSizeRefusal(runtime: PolicyRuntime, ex: Exchange, declared: number): LlmtapError | undefined {
  // Most requests are under every limit: only then are the head's facts worth reading.
  if (!runtime.policy.limits.some((rule) => rule.maxRequestBytes !== undefined && declared > rule.maxRequestBytes)) return undefined;
  ex.tool ??= identifyTool(ex.request.headers);
  const decision = declaredSizeBlock(runtime.policy.limits, factsOf(ex, runtime.policy.teams), declared);
  if (!decision) return undefined;
  ex.policy = { decisions: [decision], blocked: 'request_too_large' };
  return new LlmtapError('request_too_large', blockOptions('request_too_large', undefined, refusalMessage('request_too_large', [decision], undefined, Date.now())));
}

/**
 * What an exchange used, charged to the rules that asked for it, once it ended (pre-checked
 * before it went out): token buckets the tokens really used, budgets the exchange's cost as
 * the archive prices it. (A WebSocket session is charged response by response: chargeResponse.)
 */
export function chargeUsage(ex: Exchange, applied: Pick<PolicyStageResult, 'charges' | 'budgetCharges'>, runtime: PolicyRuntime | undefined): void {
  // The archive's writer estimates what the answer did not report (row-estimate.ts): charged
  // when it reports, on top of what is charged now (an Anthropic stream cut early: its input).
  if (mayEstimateUsage(ex)) runtime?.pending?.hold(ex.id, ex.timings.start, applied, runtime.charger);
  if (!ex.usage) return;
  chargeTokens(ex.usage, ex, applied.charges);
  if (applied.budgetCharges) void runtime?.charger?.charge(ex, applied.budgetCharges);
}

/**
 * One response of a WebSocket session, as it ends: its tokens and its cost charged like an
 * exchange's (chargeUsage). Returns the budget charge while the price data still loads (the
 * first moments after a policy with budgets came), so a spent budget is looked up after it.
 */
export function chargeResponse(ex: Exchange, part: ResponsePart, applied: Pick<PolicyStageResult, 'charges' | 'budgetCharges'>, runtime: PolicyRuntime | undefined): void | Promise<void> {
  if (!part.usage) return;
  chargeTokens(part.usage, ex, applied.charges);
  if (applied.budgetCharges) return runtime?.charger?.chargeResponse(ex, part, applied.budgetCharges);
}

/**
 * What one response of an unscreened WebSocket session (Realtime, or one opened while no
 * policy was in force) is charged to under the live policy, its user in the team that policy
 * gives them: the budgets of `model`, the one that answered; the token buckets its upgrade's
 * facts match (those its upgrade was taken from), at `model` when the upgrade named none
 * (Codex's). Looked up as each response ends, so a reload applies to a session already open
 * as it does to the next HTTP request; the rules of its upgrade may be gone.
 */
export function sessionCharges(runtime: PolicyRuntime, facts: MatchFacts, model = facts.model): Pick<PolicyStageResult, 'charges' | 'budgetCharges'> {
  const live = withLiveTeam(facts, runtime.policy.teams);
  const bucketed = live.model === undefined && model !== undefined ? { ...live, model } : live;
  return { charges: tokenChargesFor(runtime.policy.rateLimit, bucketed, runtime.buckets), budgetCharges: sessionBudgetCharges(runtime.policy, facts, model) };
}

/**
 * The budgets one response of a session is charged to under `policy` (the live one): those
 * its upgrade's facts match, its user in the team that policy gives them, `model` the one
 * that answered when the session names it per request (Codex); undefined when none.
 */
export function sessionBudgetCharges(policy: CompiledPolicy, facts: MatchFacts, model = facts.model): PolicyStageResult['budgetCharges'] {
  if (policy.budget.length === 0) return undefined;
  const charges = budgetChargesFor(policy.budget, { ...withLiveTeam(facts, policy.teams), model });
  return charges.length > 0 ? charges : undefined;
}

/**
 * After a WebSocket session's response was charged: the budget decisions that would refuse
 * the session's next request now (evaluateBudgets over the live policy, the facts of its
 * upgrade at `model`, the one that answered: the budgets that response was charged to),
 * else undefined. A session can run for hours: its budget has to end it, not only refuse
 * the next upgrade.
 */
export function spentBudget(runtime: PolicyRuntime | undefined, facts: MatchFacts | undefined, now = Date.now(), model = facts?.model): BudgetDecision[] | undefined {
  if (!runtime?.budgets || !facts || runtime.policy.budget.length === 0) return undefined;
  const budgeted = evaluateBudgets(runtime.policy.budget, { ...withLiveTeam(facts, runtime.policy.teams), model }, runtime.budgets, now);
  return budgeted.block ? budgeted.decisions : undefined;
}

/** The tokens really used, to every token bucket the request was pre-checked against. */
export function chargeTokens(usage: Usage, ex: Pick<Exchange, 'api' | 'provider'>, charges: PolicyStageResult['charges']): void {
  if (charges.length === 0) return;
  // Every prompt token, as stats counts them (Anthropic's cache reads and writes beside input_tokens too);
  // output as every provider means it: Gemini's thinking counts, as OpenAI's reasoning does.
  const used = (usagePromptTokens(usage, ex.api) ?? 0) + (usageOutputTokens(usage, ex.api, ex.provider) ?? 0);
  for (const c of charges) c.limiter.charge(c.key, used);
}

/** Whether the request's Content-Type is multipart/form-data (an upload, its body not JSON). */
function isMultipart(headers: RawHeaders): boolean {
  return multipartBoundary(headerValue(headers, 'content-type')) !== undefined;
}

/** Whether any rule reads the parsed body (redaction, token rates, max-tokens limits); remembered per compiled policy. */
const bodyReaders = new WeakMap<CompiledPolicy, boolean>();
function readsBody(policy: CompiledPolicy): boolean {
  let reads = bodyReaders.get(policy);
  if (reads === undefined) {
    reads = policy.redact.length > 0 || policy.rateLimit.some((r) => r.tokensPerMinute !== undefined) || policy.limits.some((r) => r.maxTokens !== undefined);
    bodyReaders.set(policy, reads);
  }
  return reads;
}

/** Headers and message of a block (the rule and why, when the decisions say): a spent budget is not worth an SDK's automatic retry. */
function blockOptions(code: NonNullable<PolicyOutcome['block']>['code'], retry: number | undefined, message: string | undefined): ConstructorParameters<typeof LlmtapError>[1] {
  const headers: Record<string, string> = retry === undefined ? {} : { 'retry-after': String(retry) };
  if (code === 'budget_exceeded') headers['x-should-retry'] = 'false';
  const detail = message ?? (code === 'request_too_large' ? 'the request body is larger than llmtap policy allows' : undefined);
  return { headers, detail };
}
