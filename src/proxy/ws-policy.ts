/**
 * The policy over a relayed WebSocket session once it is open: what each response is
 * charged to (token buckets, budgets), a spent budget ending the session, and a Codex
 * session's requests screened one by one (ws-screen.ts). Always the live policy
 * (`deps.policy`, swapped on reload), so a reload applies to sessions already open — also
 * to those opened while no policy was in force: a Codex session's requests are screened
 * from the next one it begins, a Live session's setup is judged by its access rules.
 */
import type { Exchange, ResponsePart } from '../exchange.js';
import { factsOf } from '../policy/evaluate.js';
import { queryModel } from '../providers/registry.js';
import { chargeResponse, sessionBudgetCharges, sessionCharges, spentBudget, type PolicyRuntime } from '../policy/stage.js';
import type { MatchFacts } from '../policy/types.js';
import type { SessionDeps, WsRefusal, WsSession } from '../websocket/session.js';
import { describeClient } from './handle-exchange.js';
import type { UpgradeDeps } from './upgrade.js';
import { judgeLateSetup, requestOf, screenMessage, type ScreenResult } from './ws-screen.js';

/**
 * An unscreened session's responses (Realtime, and the other APIs but Codex's and Live's),
 * each charged as it ends (chargeAndCheck). `upgradeFacts`: what the policy's
 * rules matched the upgrade on; absent when no policy was in force then: read from the
 * exchange when a policy first charges one of its responses (the model from `?model=`).
 */
export function chargedSession(ex: Exchange, upgradeFacts: MatchFacts | undefined, deps: UpgradeDeps, session: () => WsSession): NonNullable<SessionDeps['onResponse']> {
  let facts = upgradeFacts;
  return (part) => {
    if (!deps.policy) return;
    facts ??= lateFacts(ex, deps.policy.policy.teams);
    chargeAndCheck(ex, part, facts, deps, session);
  };
}

/** The facts of an upgrade the policy did not see: as it would have matched them (applyPolicy reads the same). */
function lateFacts(ex: Exchange, teams: ReadonlyMap<string, string>): MatchFacts {
  // Tool and agent, and whether it is subscription traffic (priced as such).
  describeClient(ex);
  // The exchange's own request model stays as recorded: only the rules read the query's.
  return factsOf({ ...ex, request: { ...ex.request, model: ex.request.model ?? queryModel(ex.request.path) } }, teams);
}

/**
 * Charges one response of a session (its tokens, its cost) under the rules in force as it
 * ends (sessionCharges: a reload since the upgrade applies), its cost to the budgets of the
 * model that answered it (a response may name another than the upgrade's), and, when that
 * leaves one of those budgets spent, ends the session after that response (WsSession.cut):
 * its next request would be spent past the budget (an unscreened session's requests are
 * not judged one by one). Recorded `blocked`, `budget_exceeded`, with the budget's
 * decision; the client's next upgrade or request is refused as usual.
 */
function chargeAndCheck(ex: Exchange, part: ResponsePart, facts: MatchFacts, deps: UpgradeDeps, session: () => WsSession): void {
  if (!deps.policy) return;
  const model = part.model ?? facts.model;
  const charges = sessionCharges(deps.policy, facts, model);
  const charged = chargeResponse(ex, part, charges, deps.policy);
  if (!charges.budgetCharges) return;
  // After the charge (asynchronous only while the price data loads, in the first seconds).
  void Promise.resolve(charged).then(() => {
    const decisions = spentBudget(deps.policy, facts, Date.now(), model);
    // Responses already relayed may still be read after the cut: the first one ends it.
    if (!decisions || !session().cut('budget_exceeded')) return;
    const record = (ex.policy ??= { decisions: [] });
    record.decisions.push(...decisions);
    record.blocked = 'budget_exceeded';
    deps.metrics.count('budget_exceeded');
    deps.logger.warn({ exchange: ex.id, rule: deps.redactor.text(decisions[decisions.length - 1]!.rule) }, 'websocket session ended: its budget is spent');
  }).catch(() => {
    // Fail-open, as charging is: the session goes on.
  });
}

/**
 * A screened session's policy (Codex; Gemini Live, whose one request is its setup): each
 * request judged as it arrives, as an HTTP request of its model would be (ws-screen.ts;
 * the live policy, so a reload applies to open sessions), held meanwhile for at most the
 * request body limit; each response charged as it ends, its tokens to the buckets its
 * request was taken from, its cost to the budgets of the model that answered (a Live
 * session's turns as chargeAndCheck charges them). A refusal is counted and logged; one
 * that ended the session marks it blocked.
 *
 * Only while a policy is in force: with none, the client's bytes go on as they come
 * (the gate is dormant) and nothing is judged. `upgradeFacts` is absent when none was at
 * the upgrade: read from the exchange once one is (lateFacts). A request that went up
 * unjudged (begun before the policy came) is let through and its response charged as an
 * unscreened session's is; a Live setup that went up so is judged by the access rules
 * when the session next sends or ends a turn under a policy, and a denied model ends it.
 */
export function screenedSession(ex: Exchange, upgradeFacts: MatchFacts | undefined, deps: UpgradeDeps, session: () => WsSession): Pick<SessionDeps, 'screen' | 'onResponse'> {
  let facts = upgradeFacts;
  const factsNow = (runtime: PolicyRuntime): MatchFacts => (facts ??= lateFacts(ex, runtime.policy.teams));
  /**
   * The token buckets of the request being answered (Codex asks one at a time; a Live
   * session's setup serves all its turns); undefined until a request of the session is judged.
   */
  let tokenCharges: ScreenResult['tokenCharges'];
  /** A Live setup that went upstream unjudged: the model it named, until a policy judges it. */
  let lateSetup: { model?: string } | undefined;
  /** The model a Live setup named (judged or not): its later messages are judged as that model's. */
  let liveModel: string | undefined;
  const refused = (refusal: WsRefusal, ended: boolean): void => {
    deps.metrics.count(refusal.code);
    if (ended) (ex.policy ??= { decisions: [] }).blocked = refusal.code;
    deps.logger.warn({ exchange: ex.id, code: refusal.code }, ended ? 'websocket session ended: the policy refused a request' : 'websocket request refused by the policy');
  };
  /** Judges a Live setup no policy saw, once; true when its model is denied and the session ended. */
  const endedForLateSetup = (runtime: PolicyRuntime): boolean => {
    if (!lateSetup) return false;
    const refusal = judgeLateSetup(lateSetup.model, runtime.policy, factsNow(runtime), ex);
    lateSetup = undefined;
    if (!refusal || !session().cut(refusal.code)) return false;
    refused(refusal, true);
    return true;
  };
  return {
    screen: {
      holdLimit: deps.maxRequestBody,
      active: () => deps.policy !== undefined,
      check: (message) => {
        const runtime = deps.policy;
        if (!runtime || endedForLateSetup(runtime)) return undefined;
        const judged = screenMessage(message, runtime, factsNow(runtime), ex, Date.now(), liveModel);
        if (!judged.refusal && judged.tokenCharges) tokenCharges = judged.tokenCharges;
        if (ex.api === 'gemini.live' && !judged.refusal && judged.model !== undefined) liveModel = judged.model;
        return judged.refusal;
      },
      passed: (message) => {
        if (ex.api !== 'gemini.live') return;
        const setup = requestOf(message, ex.api);
        if (setup) lateSetup = { model: (liveModel = setup.model) };
      },
      refused,
    },
    onResponse: (part) => {
      const runtime = deps.policy;
      if (!runtime || endedForLateSetup(runtime)) return;
      const sessionFacts = factsNow(runtime);
      // A Live session asks once, in its setup: no later request would meet a spent budget,
      // so each turn is charged as an unscreened session's response is, and a spent budget ends it.
      if (ex.api === 'gemini.live') return chargeAndCheck(ex, part, sessionFacts, deps, session);
      const model = part.model ?? sessionFacts.model;
      // The live budgets of the model that answered; the token buckets of its request, or,
      // for one no policy judged, those an unscreened session's response is charged to.
      const applied = tokenCharges
        ? { charges: tokenCharges, budgetCharges: sessionBudgetCharges(runtime.policy, sessionFacts, model) }
        : sessionCharges(runtime, sessionFacts, model);
      void Promise.resolve(chargeResponse(ex, part, applied, runtime)).catch(() => {
        // Fail-open, as charging is: the session goes on.
      });
    },
  };
}
