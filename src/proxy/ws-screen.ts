/**
 * The policy inside a WebSocket session: Codex's Responses over WebSocket names its
 * model in each `response.create`, not at the upgrade, so the access rules (allowed
 * models), the budgets and the rate limits are applied to every such message as it
 * arrives, with its model, before it goes upstream (websocket/client-gate.ts holds it
 * meanwhile). A refused request is answered with an `error` event in the provider's
 * shape and never sent; the session goes on. Pure apart from the session's record it
 * adds decisions to and the rate-limit buckets it takes from.
 */
import { ERROR_CODES } from '../errors.js';
import type { Exchange, WsMessageRecord } from '../exchange.js';
import { asObject, parseJson } from '../providers/json.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { evaluateBudgets } from '../policy/budget.js';
import { evaluateAccess, evaluateRateLimits } from '../policy/evaluate.js';
import type { RateLimiter } from '../policy/rate-limit.js';
import type { PolicyRuntime } from '../policy/stage.js';
import type { Decision, MatchFacts } from '../policy/types.js';
import { requestedModelOf } from '../websocket/reduce.js';
import type { WsRefusal } from '../websocket/session.js';

/**
 * Whether a session's client messages are screened: a Responses session under any policy
 * (the rules it meets are the live ones, so a reload that adds some applies to it too;
 * holding a request until judged costs nothing measurable: see the bench's WebSocket row).
 */
export function screensMessages(policy: CompiledPolicy | undefined, api: Exchange['api']): boolean {
  return api === 'responses' && policy !== undefined;
}

/** The codes a screened request can be refused with. */
export type ScreenCode = 'model_not_allowed' | 'budget_exceeded' | 'rate_limited';

/** What a screened request comes to: its refusal, or the token buckets its response is charged to. */
export interface ScreenResult {
  refusal?: WsRefusal;
  tokenCharges: { limiter: RateLimiter; key: string }[];
}

/**
 * The verdict on one client message, as an HTTP request of the same model would get:
 * the access rules, the budgets, then the rate limits (this request taken from their
 * buckets). `runtime` is the live policy and its state (a reload applies to open
 * sessions); `facts` those of the upgrade. Decisions that refuse or limit, and every
 * access decision, are added to the session's record once per rule and model or key.
 */
export function screenMessage(message: WsMessageRecord, runtime: Pick<PolicyRuntime, 'policy' | 'buckets' | 'budgets'>, facts: MatchFacts, ex: Exchange, now = Date.now()): ScreenResult {
  const request = readRequest(message);
  if (!request) return { tokenCharges: [] };
  // A request that names no model is judged as its upgrade was (by a `?model=`, or by none).
  const model = request.model ?? facts.model;
  const { policy } = runtime;
  const asked = { ...facts, model };
  const access: Decision[] = [];
  const denied = evaluateAccess(policy.access, asked, access);
  for (const d of access) if (d.kind === 'access') note(ex, model === undefined ? d : { ...d, model });
  if (denied) return { refusal: refusal('model_not_allowed'), tokenCharges: [] };
  if (runtime.budgets && policy.budget.length > 0) {
    const budgeted = evaluateBudgets(policy.budget, asked, runtime.budgets, now);
    // A session's warnings would repeat request after request: its refusals are what it keeps.
    for (const d of budgeted.decisions) if (d.action === 'block') note(ex, d);
    if (budgeted.block) return { refusal: refusal('budget_exceeded'), tokenCharges: [] };
  }
  const limits: Decision[] = [];
  // The token pre-check reads the request's own max_output_tokens (on the event, or in its `response`).
  const rated = evaluateRateLimits(policy.rateLimit, asked, request.event.response ?? request.event, runtime.buckets, limits);
  for (const d of limits) note(ex, d);
  if (rated.retryAfterSeconds !== undefined) return { refusal: refusal('rate_limited'), tokenCharges: [] };
  return { tokenCharges: rated.charges };
}

/** Adds a decision to the session's record unless the same rule already decided the same way (for the same model or key). */
function note(ex: Exchange, d: Decision): void {
  const record = (ex.policy ??= { decisions: [] });
  const same = (k: Decision): boolean => k.kind === d.kind && k.rule === d.rule && k.action === d.action && k.enforced === d.enforced
    && (k.kind !== 'access' || d.kind !== 'access' || k.model === d.model) && (k.kind !== 'budget' || d.kind !== 'budget' || k.key === d.key);
  if (!record.decisions.some(same)) record.decisions.push(d);
}

function refusal(code: ScreenCode): WsRefusal {
  return { code, event: refusalEvent(code) };
}

/**
 * A client's `response.create` and the model it names (on the event, or in its
 * `response`); undefined for any other message. A message cut at the capture limit
 * cannot be parsed whole: its prefix is searched for the type and model instead (clients
 * write them first), and its fields are not read.
 */
export function readRequest(message: WsMessageRecord): { model?: string; event: Record<string, unknown> } | undefined {
  const text = message.text;
  if (text === undefined || !text.startsWith('{')) return undefined;
  if (!message.truncated) {
    const event = asObject(parseJson(text));
    return event && event.type === 'response.create' ? { model: requestedModelOf(event), event } : undefined;
  }
  if (!/"type"\s*:\s*"response\.create"/.test(text)) return undefined;
  const found = /"model"\s*:\s*"((?:[^"\\]|\\.)+)"/.exec(text);
  return { model: found ? (parseJson(`"${found[1]}"`) as string | undefined) : undefined, event: {} };
}

/** What a refused request is answered with: the Responses API's WebSocket `error` event, its `error` as llmtap's HTTP answer has it. */
export function refusalEvent(code: ScreenCode): string {
  const { status, message } = ERROR_CODES[code];
  return JSON.stringify({ type: 'error', status, error: { message: `${message} (${code})`, type: 'llmtap_error', param: null, code } });
}
