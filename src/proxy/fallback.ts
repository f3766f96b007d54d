import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Redactor } from '../redact/redactor.js';
import type { Exchange, RawHeaders } from '../exchange.js';
import { identifyProvider } from '../providers/registry.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { credentialFor, type CredentialChoice, type Hop, type RoutingPlan } from '../policy/routing.js';
import type { Attempt, MatchFacts, PolicyRecord } from '../policy/types.js';
import type { BodyCapture } from './capture.js';
import { requestForHop, type BaseRequest } from './hop-request.js';
import { relay, type RelayResult } from './relay.js';
import type { UpstreamPools } from './upstream.js';

/** Errors that mean the request never reached the upstream: trying the next one is always safe. */
const CONNECT_ERRORS: ReadonlySet<ErrorCode> = new Set(['upstream_unreachable']);

export type NextStep = 'retry' | 'stop';

/**
 * The fallback decision table (pure): after a try, whether the next upstream gets
 * the request. Only while nothing has reached the client (the relay holds back a
 * retryable answer's status and headers, and fails `upstream_failed` only before
 * any byte went out), only when there is a next upstream, only for the triggers
 * the rule names.
 */
export function nextStep(result: RelayResult, plan: RoutingPlan, index: number): NextStep {
  if (index + 1 >= plan.hops.length || !plan.triggers) return 'stop';
  if (result.outcome === 'retry') return 'retry';
  if (result.outcome === 'upstream_failed' && plan.triggers.connectError && CONNECT_ERRORS.has(result.code)) return 'retry';
  return 'stop';
}

export interface PlannedForward {
  pools: UpstreamPools;
  policy: CompiledPolicy;
  facts: MatchFacts;
  plan: RoutingPlan;
  base: BaseRequest;
  /** A fallback is logged (warn): an operator sees a failing upstream without reading the archive. */
  logger: Logger;
  redactor: Redactor;
  /** Headers llmtap adds to the client's answer (relay.ts). */
  extraHeaders?: RawHeaders;
}

/**
 * Sends a request along a routing plan: the primary hop, then (on a trigger) each
 * fallback hop with the same body bytes. Every try is recorded on `ex.policy.attempts`
 * when there was a fallback rule; the credentials decided per hop go in its decisions.
 * Injected credentials exist only in the headers handed to undici. A hop to another
 * origin without a credentials rule gets none of the client's (requestForHop); which
 * ones were held back is recorded on its attempt, or on `route.to` for a route's hop.
 */
export function forwardPlanned(fwd: PlannedForward, res: ServerResponse, ex: Exchange, capture: BodyCapture): Promise<RelayResult> {
  return fwd.plan.hops.length === 1 && !fwd.plan.triggers ? forwardOneHop(fwd, res, ex, capture) : forwardAlongHops(fwd, res, ex, capture);
}

/**
 * The hop of a plan that can only change the request's credential: one hop, to the
 * origin the client asked for, with no model, path prefix or fallback (a credentials
 * rule alone, the common case). Undefined for any other plan.
 */
export function credentialsOnlyHop(plan: RoutingPlan): Hop | undefined {
  if (plan.triggers || plan.hops.length !== 1) return undefined;
  const hop = plan.hops[0]!;
  return hop.explicit || hop.model !== undefined || hop.pathPrefix !== undefined ? undefined : hop;
}

/**
 * What a credentialsOnlyHop request goes up with, its credentials decisions recorded on
 * `ex.policy`: the headers and path requestForHop would give that hop (the client's key
 * headers and `?key=` replaced by the injected credential; unchanged when none is), so the
 * caller sends it through the plain relay without forwardPlanned's per-try bookkeeping.
 */
export function withHopCredential(at: Pick<PlannedForward, 'policy' | 'facts'>, hop: Hop, ex: Exchange, headers: RawHeaders, path: string): { headers: RawHeaders; path: string } {
  const record = ex.policy ?? { decisions: [] };
  const inject = credentialsForHop(at, hop, record, false);
  if (record.decisions.length > 0) ex.policy = record;
  if (!inject) return { headers, path };
  const req = requestForHop({ method: '', path, headers, body: null, chunked: false }, hop, inject);
  return { headers: req.headers, path: req.path };
}

/**
 * A plan of one hop and no fallback (a route or a credential alone, the common case):
 * everything recorded before the request goes, then the relay's own promise handed
 * back, with no async frame around it (this runs on every routed request).
 */
function forwardOneHop(fwd: PlannedForward, res: ServerResponse, ex: Exchange, capture: BodyCapture): Promise<RelayResult> {
  const hop = fwd.plan.hops[0]!;
  const record = ex.policy ?? { decisions: [] };
  const req = requestForHop(fwd.base, hop, credentialsForHop(fwd, hop, record, false));
  if (req.modelNotRewritten) modelKept(record, req.modelNotRewritten);
  if (req.withheld && record.route) record.route.to.withheld = req.withheld;
  if (record.decisions.length > 0) ex.policy = record;
  const body = req.chunked && req.body ? Readable.from([req.body]) : req.body;
  const pool = fwd.pools.get(hop.origin.tls, hop.origin.host, hop.origin.port, hop.explicit);
  return relay(pool, { method: fwd.base.method, path: req.path, headers: req.headers, body }, res, ex, capture, fwd.extraHeaders ? { extraHeaders: fwd.extraHeaders } : undefined);
}

/** A plan with fallback hops: each try in turn while nextStep says so, every try recorded on `ex.policy.attempts`. */
async function forwardAlongHops(fwd: PlannedForward, res: ServerResponse, ex: Exchange, capture: BodyCapture): Promise<RelayResult> {
  const { plan } = fwd;
  const attempts: Attempt[] = [];
  const record = ex.policy ?? { decisions: [] };
  let result: RelayResult = { outcome: 'completed' };
  for (let i = 0; i < plan.hops.length; i++) {
    const hop = plan.hops[i]!;
    const req = requestForHop(fwd.base, hop, credentialsForHop(fwd, hop, record, i > 0));
    const body = req.chunked && req.body ? Readable.from([req.body]) : req.body;
    const last = i + 1 >= plan.hops.length || !plan.triggers;
    const retryOn = last ? undefined : plan.triggers!.status;
    const pool = fwd.pools.get(hop.origin.tls, hop.origin.host, hop.origin.port, hop.explicit);
    result = await relay(pool, { method: fwd.base.method, path: req.path, headers: req.headers, body }, res, ex, capture, { retryOn, extraHeaders: fwd.extraHeaders });
    const step = nextStep(result, plan, i);
    if (i === 0 && req.modelNotRewritten) modelKept(record, req.modelNotRewritten);
    if (i === 0 && req.withheld && record.route) record.route.to.withheld = req.withheld;
    // Tries are only recorded under a fallback rule (and only then can there be another).
    if (!plan.triggers) break;
    const attempt = attemptOf(hop, req.modelNotRewritten, result, step, ex.response?.status);
    attempts.push(req.withheld ? { ...attempt, withheld: req.withheld } : attempt);
    if (step === 'stop') break;
    logFallback(fwd, ex, attempts[attempts.length - 1]!, plan.hops[i + 1]!);
  }
  if (plan.triggers) record.attempts = attempts;
  if (record.decisions.length > 0 || record.attempts) ex.policy = record;
  return result;
}

/** One warn line per fallback: the rule, the upstream left, why (status or error code), the next one. */
export function logFallback(fwd: Pick<PlannedForward, 'logger' | 'redactor' | 'plan'>, ex: Exchange, left: Attempt, next: Hop): void {
  const r = fwd.redactor;
  fwd.logger.warn({
    exchange: ex.id, rule: r.text(fwd.plan.fallbackRule ?? ''), from: r.text(left.upstream),
    ...(left.status !== undefined ? { status: left.status } : {}), ...(left.error !== undefined ? { error: left.error } : {}),
    to: r.text(next.origin.label), path: r.logPath(ex.request.path),
  }, 'fallback: upstream failed, trying the next');
}

/**
 * A request whose model could not be rewritten (no model in the body, a body llmtap could
 * not read) kept its own: the route records that model, and its decision why the rule's was
 * not applied. (A Bedrock request's was never asked to change: routing.ts decides that.)
 */
function modelKept(record: PolicyRecord, why: string): void {
  if (!record.route) return;
  record.route.to.model = record.route.from.model;
  const decision = record.decisions.find((d) => d.kind === 'route' && d.enforced);
  if (decision?.kind === 'route' && decision.modelNotApplied === undefined) decision.modelNotApplied = why;
}

function attemptOf(hop: Hop, modelNotRewritten: string | undefined, result: RelayResult, step: NextStep, answered: number | undefined): Attempt {
  const model = hop.model !== undefined && !modelNotRewritten ? hop.model : undefined;
  const base: Attempt = { upstream: hop.origin.label, ...(model ? { model } : {}), result: step === 'retry' ? 'retried' : 'answered' };
  switch (result.outcome) {
    case 'retry': return { ...base, status: result.status };
    case 'upstream_failed': return { ...base, error: result.code, result: step === 'retry' ? 'retried' : 'failed' };
    case 'upstream_error': return { ...base, status: answered, error: result.code, result: 'failed' };
    default: return answered === undefined ? base : { ...base, status: answered };
  }
}

/**
 * The credential to inject on one try (undefined: the client's own goes up), its
 * decisions added to `record`. Only a later hop can repeat a credentials decision (the
 * policy stage records none), so the first skips the comparison.
 */
export function credentialsForHop(at: Pick<PlannedForward, 'policy' | 'facts'>, hop: Hop, record: PolicyRecord, later: boolean): CredentialChoice['inject'] {
  // The host the client asked for is the request's own provider (as `policy test` decides it too).
  const provider = hop.explicit ? identifyProvider(hop.origin.host, hop.origin.port) : at.facts.provider;
  const choices = credentialFor(at.policy, at.facts, hop, provider);
  for (const c of choices) if (!later || !record.decisions.some((d) => sameDecision(d, c.decision))) record.decisions.push(c.decision);
  return choices.find((c) => c.inject)?.inject;
}

function sameDecision(a: object, b: object): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
