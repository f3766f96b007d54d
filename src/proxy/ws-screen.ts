/**
 * The policy inside a WebSocket session: Codex's Responses over WebSocket names its model
 * in each `response.create`, Gemini Live in its first message (`setup`), not at the
 * upgrade, so the access rules (allowed models), the redact rules that block, the budgets
 * and the rate limits are applied to every such message as it arrives, with its model,
 * before it goes upstream (websocket/client-gate.ts holds it meanwhile). A refused Codex
 * request is answered with an `error` event in the provider's shape and never sent; the
 * session goes on. A refused Live setup is never sent either, and ends the session. Pure
 * apart from the session's record it adds decisions to and the rate-limit buckets it takes from.
 */
import { ERROR_CODES } from '../errors.js';
import { refusalMessage } from '../policy/refusal-message.js';
import type { Exchange, WsMessageRecord } from '../exchange.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { evaluateAccess, withLiveTeam } from '../policy/evaluate.js';
import { hasBlockRule, judgeSessionMessage, judgeSessionRequest, type SessionRequestCode, type SessionRequestVerdict } from '../policy/session-request.js';
import { asObject, parseJson } from '../providers/json.js';
import type { PolicyRuntime } from '../policy/stage.js';
import type { Decision, MatchFacts } from '../policy/types.js';
import { readLiveSetup } from '../websocket/gemini-live.js';
import { OPCODES } from '../websocket/messages.js';
import { readRequest, wsPayloadText } from '../websocket/reduce.js';
import type { WsRefusal } from '../websocket/session.js';

/**
 * Whether a session's client messages can be screened: a Responses or Gemini Live session
 * gets a gate (websocket/client-gate.ts), dormant while no policy is in force (its bytes go
 * on as they come), screening from the next message once a reload brings one.
 */
export function screensApi(api: Exchange['api']): boolean {
  return api === 'responses' || api === 'gemini.live';
}

/**
 * Whether a session's client messages are screened now: a Responses or Live session under
 * any policy (the rules it meets are the live ones, so a reload that adds some applies to
 * it too; holding a request until judged costs nothing measurable: see the bench's WebSocket row).
 */
export function screensMessages(policy: CompiledPolicy | undefined, api: Exchange['api']): boolean {
  return screensApi(api) && policy !== undefined;
}

/**
 * What a screened message comes to: its refusal, or the token buckets its response is
 * charged to; neither for a message that asks for nothing (the request being answered
 * keeps its buckets).
 */
export interface ScreenResult {
  refusal?: WsRefusal;
  tokenCharges?: SessionRequestVerdict['tokenCharges'];
  /** The model the judged request named (a Live setup's: the session's model, by which its later messages are judged). */
  model?: string;
}

/**
 * The request a client message makes: a Codex `response.create`, or a Gemini Live session's
 * `setup` (it names the session's model; nothing after it does). Live clients may send
 * their JSON as binary frames.
 */
export function requestOf(message: WsMessageRecord, api: Exchange['api']): { model?: string; event: Record<string, unknown> } | undefined {
  if (api !== 'gemini.live') return readRequest(message);
  return readLiveSetup({ text: liveMessageText(message), truncated: message.truncated });
}

/** A Live client message's text: a text frame's, or the JSON a binary frame holds. */
function liveMessageText(message: WsMessageRecord): string | undefined {
  return message.text ?? (message.base64 === undefined ? undefined : wsPayloadText('gemini.live', OPCODES.binary, Buffer.from(message.base64, 'base64')));
}

/**
 * The verdict on one client message (judgeSessionRequest: access, block rules, budgets, rate limits).
 * `runtime` is the live policy and its state (a reload applies to open sessions); `facts`
 * those of the upgrade. Every decision is added to the session's record once per rule,
 * action and model or key.
 */
export function screenMessage(message: WsMessageRecord, runtime: Pick<PolicyRuntime, 'policy' | 'buckets' | 'budgets'>, facts: MatchFacts, ex: Exchange, now = Date.now(), sessionModel?: string): ScreenResult {
  const request = requestOf(message, ex.api);
  if (!request) return ex.api === 'gemini.live' ? screenLiveMessage(message, runtime.policy, { ...facts, model: sessionModel ?? facts.model }, ex) : {};
  // A request that names no model is judged as its upgrade was (by a `?model=`, or by none);
  // its user in the team the live policy gives them (a reload may have moved them).
  const asked = { ...withLiveTeam(facts, runtime.policy.teams), model: request.model ?? facts.model };
  const verdict = judgeSessionRequest(runtime.policy, asked, request.event, { buckets: runtime.buckets, budgets: runtime.budgets, now }, message.truncated);
  for (const d of verdict.decisions) note(ex, d);
  if (!verdict.block) return { tokenCharges: verdict.tokenCharges, model: request.model };
  // What a block rule refused is kept with its placeholders, never the values it must not let out.
  if (verdict.block === 'content_blocked' && !message.truncated) keepRedacted(message, request.event);
  // Gemini Live has no error event: a refused setup ends the session (close 1008, the code its reason).
  if (ex.api === 'gemini.live') return { refusal: { code: verdict.block }, tokenCharges: [] };
  return { refusal: { code: verdict.block, event: refusalEvent(verdict.block, refusalMessage(verdict.block, verdict.decisions, asked.model, now)) }, tokenCharges: [] };
}

/**
 * A Live client message after the setup (a turn's text, realtime text or media, a tool's
 * answer): only the redact rules that block read it (judgeSessionMessage), by the session's
 * model. A refusal ends the session (Live has no error event). Parsed only under a policy
 * with a block rule: audio arrives many times a second.
 */
function screenLiveMessage(message: WsMessageRecord, policy: CompiledPolicy, facts: MatchFacts, ex: Exchange): ScreenResult {
  if (!hasBlockRule(policy)) return {};
  const asked = withLiveTeam(facts, policy.teams);
  const event = message.truncated ? undefined : liveEventOf(message);
  // Cut at the capture limit, or not JSON: a block rule cannot read it all, and refuses it (as an HTTP body it cannot read).
  const verdict = judgeSessionMessage(policy, asked, event ?? {}, event === undefined);
  for (const d of verdict.decisions) note(ex, d);
  if (!verdict.block) return {};
  if (event) keepRedacted(message, event);
  return { refusal: { code: verdict.block } };
}

/** A Live client message's JSON object (text frame, or JSON in a binary one); undefined when it is none. */
function liveEventOf(message: WsMessageRecord): Record<string, unknown> | undefined {
  const text = liveMessageText(message);
  return text === undefined ? undefined : asObject(parseJson(text));
}

/** The record of a refused message keeps its text with the rule's placeholders (a binary frame's bytes too), never what it refused. */
function keepRedacted(message: WsMessageRecord, event: Record<string, unknown>): void {
  const text = JSON.stringify(event);
  if (message.base64 !== undefined) message.base64 = Buffer.from(text, 'utf8').toString('base64');
  else message.text = text;
}

/**
 * A Gemini Live session's setup that went upstream unjudged, no policy being in force then,
 * judged once one is by its access rules (`model`: the one the setup named): the session
 * ends (close 1008, model_not_allowed) when they deny it. Its budgets and rate limits are
 * not asked (the setup was no request under this policy; its turns are charged as they end).
 */
export function judgeLateSetup(model: string | undefined, policy: CompiledPolicy, facts: MatchFacts, ex: Exchange): WsRefusal | undefined {
  const asked = { ...withLiveTeam(facts, policy.teams), model: model ?? facts.model };
  const decisions: Decision[] = [];
  const denied = evaluateAccess(policy.access, asked, decisions);
  // An access decision names the model it judged, as a session's request's does.
  for (const d of decisions) note(ex, d.kind === 'access' && asked.model !== undefined ? { ...d, model: asked.model } : d);
  return denied ? { code: 'model_not_allowed' } : undefined;
}

/** Adds a decision to the session's record unless the same rule already decided the same way (for the same model or key). */
function note(ex: Exchange, d: Decision): void {
  const record = (ex.policy ??= { decisions: [] });
  const same = (k: Decision): boolean => k.kind === d.kind && k.rule === d.rule && k.action === d.action && k.enforced === d.enforced
    && (k.kind !== 'access' || d.kind !== 'access' || k.model === d.model) && (k.kind !== 'budget' || d.kind !== 'budget' || k.key === d.key);
  if (!record.decisions.some(same)) record.decisions.push(d);
}

/**
 * What a refused request is answered with: the Responses API's WebSocket `error` event, its
 * `error` as llmtap's HTTP answer has it (the rule and why, when known: refusal-message.ts).
 */
export function refusalEvent(code: SessionRequestCode, why?: string): string {
  const { status, message } = ERROR_CODES[code];
  return JSON.stringify({ type: 'error', status, error: { message: `${why ?? message} (${code})`, type: 'llmtap_error', param: null, code } });
}
