/**
 * The policy inside a WebSocket session: Codex's Responses over WebSocket names its
 * model in each `response.create`, not at the upgrade, so the access rules (allowed
 * models) are applied to every such message as it arrives, before it goes upstream
 * (websocket/client-gate.ts holds it meanwhile). A refused request is answered with an
 * `error` event in the provider's shape and never sent; the session goes on. Pure apart
 * from the record it adds decisions to.
 */
import { ERROR_CODES } from '../errors.js';
import type { Exchange, WsMessageRecord } from '../exchange.js';
import { asObject, parseJson } from '../providers/json.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { evaluateAccess } from '../policy/evaluate.js';
import type { Decision, MatchFacts } from '../policy/types.js';
import { requestedModelOf } from '../websocket/reduce.js';
import type { WsRefusal } from '../websocket/session.js';

/** Whether a session's client messages are screened: a Responses session, under a policy with access rules. */
export function screensMessages(policy: CompiledPolicy | undefined, api: Exchange['api']): boolean {
  return api === 'responses' && policy !== undefined && policy.access.length > 0;
}

/**
 * The verdict on one client message: undefined to send it on, or the refusal. `policy()`
 * is the live policy (a reload applies to open sessions); `facts` those of the upgrade.
 * Each decision is added to the session's record once per rule, action and model.
 */
export function screenMessage(message: WsMessageRecord, policy: CompiledPolicy, facts: MatchFacts, ex: Exchange): WsRefusal | undefined {
  const model = messageModel(message);
  if (model === undefined) return undefined;
  const decisions: Decision[] = [];
  const denied = evaluateAccess(policy.access, { ...facts, model }, decisions);
  if (decisions.length > 0) {
    const record = (ex.policy ??= { decisions: [] });
    for (const d of decisions) {
      const named = { ...d, model };
      if (!record.decisions.some((k) => k.kind === 'access' && k.rule === named.rule && k.action === named.action && k.enforced === named.enforced && k.model === model)) record.decisions.push(named);
    }
  }
  return denied ? { code: 'model_not_allowed', event: refusalEvent('model_not_allowed') } : undefined;
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
export function refusalEvent(code: 'model_not_allowed'): string {
  const { status, message } = ERROR_CODES[code];
  return JSON.stringify({ type: 'error', status, error: { message: `${message} (${code})`, type: 'llmtap_error', param: null, code } });
}
