import type { ProviderId } from '../exchange.js';
import { modelFixedReason } from './bedrock-route-model.js';
import type { CompiledPolicy } from './compile.js';
import type { CompiledTarget, FallbackTriggers, UpstreamOrigin } from './routing-compile.js';
import type { CredentialHeader, MatchFacts, RouteEnd, RoutingDecision } from './types.js';

/** One upstream try: the origin, the model to put in the body (if any) and the path prefix. */
export interface Hop {
  origin: UpstreamOrigin;
  model?: string;
  pathPrefix?: string;
  /** False for the host the client asked for (its own connection rules apply). */
  explicit: boolean;
}

/** Where a request goes: the primary hop, the hops to fall back to, and on what. */
export interface RoutingPlan {
  hops: Hop[];
  triggers?: FallbackTriggers;
  /** The fallback rule that supplied the hops after the first (named in the log line of a fallback). */
  fallbackRule?: string;
}

export interface RoutingOutcome {
  /** Undefined when no enforced route/fallback/credentials rule applies: forward as today. */
  plan?: RoutingPlan;
  decisions: RoutingDecision[];
  route?: { from: RouteEnd; to: RouteEnd };
}

/** The origin the client asked for, named like a rule names one. */
export function originOf(target: { tls: boolean; host: string; port: number }): UpstreamOrigin {
  // The last one is remembered (never changed by its readers): a client sends request after request to one origin.
  const last = lastOrigin;
  if (last !== undefined && last.host === target.host && last.port === target.port && last.tls === target.tls) return last;
  const defaultPort = target.port === (target.tls ? 443 : 80);
  const shown = target.host.includes(':') ? `[${target.host}]` : target.host;
  lastOrigin = Object.freeze({ tls: target.tls, host: target.host, port: target.port, label: `${target.tls ? 'https' : 'http'}://${shown}${defaultPort ? '' : `:${target.port}`}` });
  return lastOrigin;
}
let lastOrigin: UpstreamOrigin | undefined;

function hopOf(target: CompiledTarget, original: UpstreamOrigin, modelFixed: string | undefined, signed: string | undefined): Hop {
  const origin = target.upstream ?? original;
  return { origin, model: modelFixed ? undefined : target.model, pathPrefix: prefixFixed(target, original, signed) ? undefined : target.pathPrefix, explicit: target.upstream !== undefined && origin.label !== original.label };
}

/**
 * Whether a target's path prefix must not apply: the client's signature goes only to the
 * origin it asked for (another origin gets none of its credentials), and covers the path there.
 */
function prefixFixed(target: CompiledTarget, original: UpstreamOrigin, signed: string | undefined): boolean {
  return signed !== undefined && target.pathPrefix !== undefined && (target.upstream ?? original).label === original.label;
}

/**
 * Decides route and fallback for one request (pure). First enforced rule of each
 * kind wins; monitor rules are recorded and passed over. Credentials are decided
 * per try (credentialFor), since each upstream needs its own.
 */
export function evaluateRouting(policy: CompiledPolicy, facts: MatchFacts, target: { tls: boolean; host: string; port: number }): RoutingOutcome {
  const decisions: RoutingDecision[] = [];
  const original = originOf(target);
  let primary: Hop = { origin: original, explicit: false };
  let route: RoutingOutcome['route'];
  // A request whose model no rule can change (Bedrock): its hops go without one, and its route decisions say why.
  const fixed = modelFixedReason(facts);
  for (const rule of policy.route) {
    if (!rule.match(facts)) continue;
    const enforced = rule.mode === 'enforce';
    const t = rule.target;
    decisions.push({
      rule: rule.id, kind: 'route', action: 'route', enforced, ...(t.upstream ? { upstream: t.upstream.label } : {}), ...(t.model ? { model: t.model } : {}),
      ...(t.pathPrefix ? { pathPrefix: t.pathPrefix } : {}), ...(t.model && fixed ? { modelNotApplied: fixed } : {}),
      ...(prefixFixed(t, original, facts.signed) ? { pathPrefixNotApplied: facts.signed } : {}),
    });
    if (!enforced) continue;
    primary = hopOf(t, original, fixed, facts.signed);
    route = { from: end(original.label, facts.model), to: end(primary.origin.label, primary.model ?? facts.model) };
    break;
  }
  const hops = [primary];
  let triggers: FallbackTriggers | undefined;
  let fallbackRule: string | undefined;
  for (const rule of policy.fallback) {
    if (!rule.match(facts)) continue;
    const enforced = rule.mode === 'enforce';
    decisions.push({ rule: rule.id, kind: 'fallback', action: 'fallback', enforced, upstreams: rule.upstreams.map((u) => u.upstream.label), on: rule.on.names });
    if (!enforced) continue;
    hops.push(...rule.upstreams.map((u) => hopOf(u, original, fixed, facts.signed)));
    triggers = rule.on;
    fallbackRule = rule.id;
    break;
  }
  const needed = route !== undefined || triggers !== undefined || policy.credentials.length > 0;
  const plan: RoutingPlan | undefined = needed ? { hops, triggers } : undefined;
  if (plan && fallbackRule) plan.fallbackRule = fallbackRule;
  return { plan, decisions, route };
}

function end(upstream: string, model: string | undefined): RouteEnd {
  return model === undefined ? { upstream } : { upstream, model };
}

/** The header a provider expects its API key in when the rule names none. */
export function defaultCredentialHeader(provider: ProviderId | undefined): CredentialHeader {
  switch (provider) {
    case 'anthropic': return 'x-api-key';
    case 'azure-openai': return 'api-key';
    case 'gemini': case 'gemini-code-assist': return 'x-goog-api-key';
    default: return 'authorization';
  }
}

export interface CredentialChoice {
  decision: RoutingDecision;
  /** Absent in monitor mode: recorded, not injected. */
  inject?: { header: CredentialHeader; value: string };
}

/**
 * The credential for one try: the first enforced credentials rule matching the
 * request's facts with host and provider those of the upstream being tried.
 */
export function credentialFor(policy: CompiledPolicy, facts: MatchFacts, hop: Hop, provider: ProviderId | undefined): CredentialChoice[] {
  const out: CredentialChoice[] = [];
  // The request's own facts when the try changes none of them (no other host, provider or model).
  const same = hop.origin.host === facts.host && provider === facts.provider && (hop.model === undefined || hop.model === facts.model);
  const at: MatchFacts = same ? facts : { ...facts, host: hop.origin.host, provider, model: hop.model ?? facts.model };
  for (const rule of policy.credentials) {
    if (!rule.match(at)) continue;
    const enforced = rule.mode === 'enforce';
    const header = rule.header ?? defaultCredentialHeader(provider);
    const decision: RoutingDecision = { rule: rule.id, kind: 'credentials', action: 'inject', enforced, upstream: hop.origin.label, header, source: rule.source };
    if (!enforced) {
      out.push({ decision });
      continue;
    }
    const secret = rule.secret.reveal();
    out.push({ decision, inject: { header, value: header === 'authorization' ? `Bearer ${secret}` : secret } });
    break;
  }
  return out;
}
