import type { ExchangeRow, WsMessageRow } from '../recorder/db.js';
import type { PriceInput, PriceResult } from '../cost/price-exchange.js';
import { identifyProvider } from '../providers/registry.js';
import { bodyMatches } from '../cache/cache-rule.js';
import { ResponseCaches } from '../cache/response-caches.js';
import { archivedRequest, UpstreamCosts, type ArchivedRequest } from './archived-request.js';
import { BudgetLedger, budgetChargesFor, periodStart, seedBudgets, type SpendRow } from './budget.js';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy, PolicyBuckets, type PolicyOutcome } from './evaluate.js';
import { credentialFor, evaluateRouting } from './routing.js';
import { hasBlockRule, judgeSessionRequest } from './session-request.js';
import { judgeLiveMessages, type LiveMessagesVerdict } from './simulate-live.js';
import type { Decision } from './types.js';
import type { RecordedRequest } from '../websocket/reduce.js';
import { responseShares, usedTokens } from '../cost/response-shares.js';
import { addCounts, EffectTally, type PolicyTestReport } from './simulate-report.js';

export type { PolicyTestReport, RuleEffect } from './simulate-report.js';

const DAY_MS = 86_400_000;

export interface SimulateOptions {
  /** Only exchanges from here (epoch ms) are reported; earlier ones in the budgets' periods only seed spend. */
  since?: number;
  /**
   * Prices a request (cost/price-exchange.ts): a routed one at its new model (without it route
   * rules report no cost difference), a Codex session's responses (their shares of its cost).
   */
  price?: (input: PriceInput) => PriceResult;
  /** A recorded Codex session's requests (its messages, websocket/reduce.ts): replayed one by one; without them, the session as one request. */
  requestsOf?: (row: ExchangeRow) => RecordedRequest[];
  /** A recorded Gemini Live session's message log: its messages judged by the redact rules that block (simulate-live.ts), when the policy has any. */
  messagesOf?: (row: ExchangeRow) => WsMessageRow[];
}

/**
 * Where the replay must start reading: at `since`, or earlier at the start of the
 * current period (at `since`) of any budget rule, so budgets begin with the spend
 * the archive recorded in their period before `since`, as a proxy started then would.
 */
export function replayFrom(policy: CompiledPolicy, since: number | undefined): number | undefined {
  if (since === undefined) return undefined;
  return Math.min(since, ...policy.budget.map((r) => periodStart(r.period, since)));
}

/**
 * Replays the archive through a policy, oldest first, with its clock at each
 * exchange's start: rate limits fill as they would have, budgets are charged each
 * let-through exchange's archived cost (a cache hit costs nothing; a routed one its
 * price at the routed model when known), the cache stores 2xx answers and serves
 * repeats, route rules send requests elsewhere, fallback rules retry what the archive
 * recorded as failed, credentials rules say what they would have injected. Nothing is
 * sent anywhere. Monitor rules are counted as what they would have done and change nothing.
 * A Codex WebSocket session is replayed request by request from its message log
 * (`requestsOf`; replayCodexRequests); any other session, or one without a log, as one
 * request decided as the proxy decides its upgrade (no body; the model from `?model=`,
 * or a Codex session's recorded one) and charged its whole archived cost and tokens.
 * Rows before `since` (from replayFrom) seed the budgets with their archived cost only.
 */
export function simulatePolicy(policy: CompiledPolicy, rows: Iterable<ExchangeRow>, options: SimulateOptions = {}): PolicyTestReport {
  const { since, price } = options;
  let clock = 0;
  const buckets = new PolicyBuckets(() => clock);
  const caches = new ResponseCaches(() => clock);
  const budgets = new BudgetLedger();
  const tally = new EffectTally();
  const seeds: SpendRow[] = [];
  let seeded = since === undefined;
  let exchanges = 0;
  let webSocketSessions = 0;
  let sessionRequests = 0;
  const upstream = new UpstreamCosts();
  for (const row of rows) {
    const r = archivedRequest(row, policy.teams);
    // Replayed, a request goes upstream unless the policy's own cache answers it: it costs what its answer cost.
    const costUpstream = upstream.of(r);
    if (!seeded && r.at < since!) {
      if ((r.costUsd ?? 0) > 0) seeds.push({ day: Math.floor(r.at / DAY_MS) * DAY_MS, ...spendFacts(r), usd: r.costUsd! });
      continue;
    }
    if (!seeded) {
      seedBudgets(budgets, policy, policy.budget, seeds, since!);
      seeded = true;
    }
    exchanges++;
    // Never backwards: a session's requests may have moved it past the next row's start (buckets refill by elapsed time).
    clock = Math.max(clock, r.at);
    const state = { buckets, caches, budgets, tally, price };
    if (row.status !== 101) {
      replayOne(policy, { ...r, costUsd: costUpstream }, state);
      continue;
    }
    webSocketSessions++;
    if (r.facts.api === 'gemini.live' && options.messagesOf && hasBlockRule(policy)) {
      const messagesOf = options.messagesOf;
      replayLiveSession(policy, { ...r, costUsd: costUpstream }, () => judgeLiveMessages(policy, r.facts, row, messagesOf(row), price), state);
      continue;
    }
    const requests = r.facts.api === 'responses' ? options.requestsOf?.(row) ?? [] : [];
    if (requests.length === 0) replayOne(policy, { ...r, costUsd: costUpstream }, state);
    else {
      sessionRequests += requests.length;
      replayCodexRequests(policy, r, requests, state, (at) => (clock = Math.max(clock, at)));
    }
  }
  return { exchanges, webSocketSessions, sessionRequests, since: since ?? null, budgetsFrom: since !== undefined && policy.budget.length > 0 ? replayFrom(policy, since)! : null, rules: tally.rules(), totals: tally.totals };
}

interface ReplayState {
  buckets: PolicyBuckets;
  caches: ResponseCaches;
  budgets: BudgetLedger;
  tally: EffectTally;
  price?: SimulateOptions['price'];
}

/**
 * A Gemini Live session: its setup decided as the proxy decides the upgrade and setup
 * (replayOne: access by its model, budgets, routing), then, let through, each message the
 * redact rules that block decide on, what refusing it saves being the turns begun since.
 */
function replayLiveSession(policy: CompiledPolicy, r: ArchivedRequest, judge: () => LiveMessagesVerdict, s: ReplayState): void {
  // Judged once the setup is let through and before it is charged (redact rules alone: no
  // bucket or budget is touched), so the session is charged only what it used before a
  // refused message; the turns that saves never ran.
  let judged: LiveMessagesVerdict | undefined;
  const verdictOf = (): LiveMessagesVerdict => (judged ??= judge());
  const unused = () => (verdictOf().refused ? verdictOf().steps.at(-1)?.saved : undefined);
  if (replayOne(policy, r, s, unused)) return;
  const verdict = verdictOf();
  for (const step of verdict.steps) tallyDecisions(step.decisions, { ...r, tokens: step.saved.tokens, costUsd: step.saved.costUsd }, s.tally);
  if (verdict.refused) s.tally.block('content_blocked');
}

/**
 * One request (or a session as one) through the policy; true when the policy refused it.
 * `unusedOf`: what a session cut short (a Live message refused) did not use, asked once it is
 * let through and left out of its token and budget charges (taken off the routed price too:
 * the turns' own price is the archive's).
 */
function replayOne(policy: CompiledPolicy, r: ArchivedRequest, s: ReplayState, unusedOf?: () => { tokens: number; costUsd: number | null } | undefined): boolean {
  const { tally } = s;
  const totals = tally.totals;
  const clock = r.at;
  // The body is parsed afresh per exchange, so redaction and clamps may change it in place.
  const outcome = r.upgrade && r.facts.api === 'responses' && r.facts.model === undefined
    ? codexSession(policy, r, s)
    : evaluatePolicy(policy, r.facts, r.body, s.buckets, r.unreadable, { budgets: s.budgets, bodySize: r.bodySize, now: clock, form: r.form });
  const { redacted, clamped } = tallyDecisions(outcome.record.decisions, r, tally);
  if (redacted) totals.redacted++;
  if (clamped) totals.clamped++;
  if (outcome.block) {
    tally.block(outcome.block.code);
    return true;
  }
  const unused = unusedOf?.();
  for (const c of outcome.charges) c.limiter.charge(c.key, Math.max(0, r.tokens - (unused?.tokens ?? 0)));

  let hit = false;
  // The response cache answers requests, never a WebSocket upgrade.
  for (const rule of r.upgrade ? [] : policy.cache) {
    if (!rule.match(r.facts) || !bodyMatches(rule, r.body)) continue;
    const enforced = rule.mode === 'enforce';
    const cache = s.caches.for(rule);
    if (cache.get(r.key)) {
      tally.save(tally.act(rule.id, 'cache', enforced, 'hit'), r, enforced);
      if (enforced) {
        totals.cached++;
        hit = true;
        break;
      }
    } else if (r.cacheable) {
      cache.set({ key: r.key, rule: rule.id, status: 200, contentType: '', body: Buffer.allocUnsafe(r.responseBytes), storedAt: clock, expiresAt: clock + rule.bounds.ttlMs, exchangeId: r.id });
    }
    if (enforced) break;
  }

  // Not answered from the cache: the request goes upstream, through route, fallback and credentials.
  let costUsd = hit ? 0 : r.costUsd ?? 0;
  if (!hit) costUsd = Math.max(0, (replayRouting(policy, r, s) ?? costUsd) - (unused?.costUsd ?? 0));
  for (const c of outcome.budgetCharges ?? []) if (costUsd > 0) s.budgets.add(c.rule, c.key, costUsd, clock);
  return false;
}

/** Counts what each decision did (per rule, action and target), with what a refusal saved; says whether the request was redacted or clamped. */
function tallyDecisions(decisions: readonly Decision[], r: ArchivedRequest, tally: EffectTally): { redacted: boolean; clamped: boolean } {
  const totals = tally.totals;
  let redacted = false;
  let clamped = false;
  for (const d of decisions) {
    const e = (action: string, to?: string) => tally.act(d.rule, d.kind, d.enforced, action, to);
    if (d.kind === 'access' && d.action === 'deny') tally.save(e('deny'), r, d.enforced);
    else if (d.kind === 'redact') {
      const effect = e(d.action);
      addCounts((effect.detectors ??= {}), d.hits);
      if (d.action === 'block') tally.save(effect, r, d.enforced);
      else if (d.enforced) {
        redacted = true;
        addCounts(totals.detectors, d.hits);
      }
    } else if (d.kind === 'rateLimit') tally.save(e(`limit (${d.limit})`), r, d.enforced);
    else if (d.kind === 'budget') {
      const effect = e(d.action, d.key);
      if (d.action === 'block') tally.save(effect, r, d.enforced);
    } else if (d.kind === 'limits') {
      const effect = e(d.action, d.limit === 'requestBytes' ? `body ≤ ${d.to} bytes` : `${d.field} ≤ ${d.to}`);
      if (d.action === 'block') tally.save(effect, r, d.enforced);
      else if (d.enforced) clamped = true;
    }
  }
  return { redacted, clamped };
}

/**
 * A Responses WebSocket session (Codex) as the proxy decides one: its access rules and
 * budgets judge each `response.create` by the model it names and each response is
 * charged at its own model (proxy/ws-screen.ts); replayed as one request, by the model
 * the session recorded. Refused, none of its requests would have gone upstream.
 */
function codexSession(policy: CompiledPolicy, r: ArchivedRequest, s: ReplayState): PolicyOutcome {
  return evaluatePolicy(policy, { ...r.facts, model: r.recordedModel }, undefined, s.buckets, false, { budgets: s.budgets, bodySize: 0, now: r.at });
}

/**
 * A recorded Codex session request by request, as the proxy judges one: its upgrade first
 * (a spent budget refuses the whole session), then each `response.create` by the model it
 * names (judgeSessionRequest), with the clock at the request. A refused request saves what
 * its response used: its tokens, and its share of the session's recorded cost (responseShares).
 * An allowed one charges its buckets and the budgets of the model that answered. Route,
 * fallback and credentials apply to the session once, at its upgrade.
 */
function replayCodexRequests(policy: CompiledPolicy, r: ArchivedRequest, requests: readonly RecordedRequest[], s: ReplayState, setClock: (at: number) => void): void {
  const upgrade = evaluatePolicy(policy, r.facts, undefined, s.buckets, false, { budgets: s.budgets, bodySize: 0, now: r.at, perRequest: true });
  tallyDecisions(upgrade.record.decisions, r, s.tally);
  if (upgrade.block) return s.tally.block(upgrade.block.code);
  const shares = responseShares(requests, { provider: r.facts.provider, host: r.facts.host, api: r.facts.api, model: r.recordedModel, at: r.at, subscription: false }, s.price);
  for (const [i, q] of requests.entries()) {
    const tokens = usedTokens(q);
    const at = q.at ?? r.at;
    setClock(at);
    const one: ArchivedRequest = { ...r, at, tokens, costUsd: r.costUsd === null ? null : r.costUsd * shares[i]!, facts: { ...r.facts, model: q.model ?? r.facts.model } };
    const verdict = judgeSessionRequest(policy, one.facts, q.event, { buckets: s.buckets, budgets: s.budgets, now: at });
    tallyDecisions(verdict.decisions, one, s.tally);
    if (verdict.block) {
      s.tally.block(verdict.block);
      continue;
    }
    for (const c of verdict.tokenCharges) c.limiter.charge(c.key, tokens);
    if (one.costUsd) for (const c of budgetChargesFor(policy.budget, { ...one.facts, model: q.answer?.model ?? one.facts.model })) s.budgets.add(c.rule, c.key, one.costUsd, at);
  }
  replayRouting(policy, r, s);
}

/** Route, fallback and credentials for a request that went upstream; returns its cost at the routed model when priced. */
function replayRouting(policy: CompiledPolicy, r: ArchivedRequest, s: ReplayState): number | undefined {
  const { tally } = s;
  const totals = tally.totals;
  const routing = evaluateRouting(policy, r.facts, r.target);
  let routedCost: number | undefined;
  for (const d of routing.decisions) {
    if (d.kind === 'route') {
      // A WebSocket session keeps its model (it travels in the query or the messages): only the upstream changes.
      // So does a Bedrock request (its model is in the signed path).
      const model = r.upgrade || d.modelNotApplied ? undefined : d.model;
      const kept = d.model && !model && (r.upgrade ? 'model kept (WebSocket)' : 'model kept (not applied)');
      const to = [d.upstream, model && `model ${model}`, kept, d.pathPrefix && `path ${d.pathPrefix}${d.pathPrefixNotApplied ? ' (not applied)' : ''}`].filter(Boolean).join(', ');
      const effect = tally.act(d.rule, 'route', d.enforced, 'route', to);
      const priced = priceRouted(r, d.upstream, model, s.price);
      if (priced === undefined || r.costUsd === null) effect.unpriced = (effect.unpriced ?? 0) + 1;
      else {
        const delta = priced - r.costUsd;
        effect.costDeltaUsd = (effect.costDeltaUsd ?? 0) + delta;
        if (d.enforced) totals.routeCostDeltaUsd += delta;
      }
      if (d.enforced) {
        totals.rerouted++;
        routedCost = priced;
      }
    } else if (d.kind === 'fallback') {
      // The archive says how the primary answered: a try the rule's triggers name would have gone on to the next upstream.
      // An upgrade falls back on connect errors only: whatever an upstream answers it (101 or not) is the client's.
      const rule = policy.fallback.find((f) => f.id === d.rule)!;
      const failed = r.status === null ? rule.on.connectError && r.errorCode === 'upstream_unreachable' : !r.upgrade && rule.on.status(r.status);
      if (!failed) continue;
      tally.act(d.rule, 'fallback', d.enforced, 'retry', d.upstreams[0]);
      if (d.enforced) totals.fellBack++;
    }
  }
  const primary = routing.plan?.hops[0];
  if (primary) {
    for (const choice of credentialFor(policy, r.facts, primary, primary.explicit ? identifyProvider(primary.origin.host, primary.origin.port) : r.facts.provider)) {
      const d = choice.decision;
      if (d.kind !== 'credentials') continue;
      tally.act(d.rule, 'credentials', d.enforced, 'inject', `${d.header} for ${d.upstream}`);
      if (d.enforced) totals.credentials++;
    }
  }
  return routedCost;
}

/** The archived usage priced at the routed model (and the routed upstream's provider); undefined when unknown. */
function priceRouted(r: ArchivedRequest, upstream: string | undefined, model: string | undefined, price: SimulateOptions['price']): number | undefined {
  if (!price || (r.usage.inputTokens === undefined && r.usage.outputTokens === undefined)) return undefined;
  let host = r.facts.host;
  let provider: string | undefined = r.facts.provider;
  if (upstream) {
    const u = new URL(upstream);
    host = u.hostname.replace(/^\[|\]$/g, '');
    provider = identifyProvider(host, u.port ? Number(u.port) : undefined);
  }
  const result = price({ provider, host, api: r.facts.api, model: model ?? r.recordedModel, usage: r.usage, at: r.at, subscription: false });
  return result.usd ?? undefined;
}

function spendFacts(r: ArchivedRequest): Omit<SpendRow, 'day' | 'usd'> {
  const f = r.facts;
  return {
    // The recorded model, as the proxy's own seeding reads the archive (a WebSocket session's is its responses').
    provider: f.provider ?? null, host: f.host, path: f.path, api: f.api ?? null, model: r.recordedModel ?? null, tool: f.tool ?? null,
    client: f.client, user: f.user ?? null, session: f.session ?? null,
  };
}
