/**
 * The policy inside a WebSocket session: Codex's Responses over WebSocket names its
 * model in each `response.create`, not at the upgrade, so the access rules (allowed
 * models) and the budgets are applied to every such message as it arrives, with its
 * model, before it goes upstream (websocket/client-gate.ts holds it meanwhile). A
 * refused request is answered with an `error` event in the provider's shape and never
 * sent; the session goes on. Pure apart from the record it adds decisions to.
 */
import { ERROR_CODES } from '../errors.js';
import type { Exchange, WsMessageRecord } from '../exchange.js';
import { asObject, parseJson } from '../providers/json.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { evaluateBudgets, type BudgetLedger } from '../policy/budget.js';
import { evaluateAccess } from '../policy/evaluate.js';
import type { Decision, MatchFacts } from '../policy/types.js';
import { requestedModelOf } from '../websocket/reduce.js';
import type { WsRefusal } from '../websocket/session.js';

/** Whether a session's client messages are screened: a Responses session, under a policy with access or budget rules. */
export function screensMessages(policy: CompiledPolicy | undefined, api: Exchange['api']): boolean {
  return api === 'responses' && policy !== undefined && (policy.access.length > 0 || policy.budget.length > 0);
}

/** The codes a screened request can be refused with. */
export type ScreenCode = 'model_not_allowed' | 'budget_exceeded';

/**
 * The verdict on one client message: undefined to send it on, or the refusal. `policy()`
 * is the live policy (a reload applies to open sessions); `facts` those of the upgrade.
 * Each decision is added to the session's record once per rule, action and model.
 */
export function screenMessage(message: WsMessageRecord, policy: CompiledPolicy, facts: MatchFacts, ex: Exchange, budgets?: BudgetLedger, now = Date.now()): WsRefusal | undefined {
  const model = messageModel(message);
  if (model === undefined) return undefined;
  const asked = { ...facts, model };
  const access: Decision[] = [];
  const denied = evaluateAccess(policy.access, asked, access);
  for (const d of access) if (d.kind === 'access') note(ex, { ...d, model });
  if (denied) return refusal('model_not_allowed');
  if (!budgets || policy.budget.length === 0) return undefined;
  const budgeted = evaluateBudgets(policy.budget, asked, budgets, now);
  // A session's warnings would repeat request after request: its refusals are what it keeps.
  for (const d of budgeted.decisions) if (d.action === 'block') note(ex, d);
  return budgeted.block ? refusal('budget_exceeded') : undefined;
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
 * The model a client message asks for: its `response.create`'s. A message cut at the
 * capture limit cannot be parsed whole: its prefix is searched instead, where clients
 * write `type` and `model` first.
 */
export function messageModel(message: WsMessageRecord): string | undefined {
  const text = message.text;
  if (text === undefined || !text.startsWith('{')) return undefined;
  if (!message.truncated) {
    const event = asObject(parseJson(text));
    return event ? requestedModelOf(event) : undefined;
  }
  if (!/"type"\s*:\s*"response\.create"/.test(text)) return undefined;
  const found = /"model"\s*:\s*"((?:[^"\\]|\\.)+)"/.exec(text);
  return found ? (parseJson(`"${found[1]}"`) as string | undefined) : undefined;
}

/** What a refused request is answered with: the Responses API's WebSocket `error` event, its `error` as llmtap's HTTP answer has it. */
export function refusalEvent(code: ScreenCode): string {
  const { status, message } = ERROR_CODES[code];
  return JSON.stringify({ type: 'error', status, error: { message: `${message} (${code})`, type: 'llmtap_error', param: null, code } });
}
