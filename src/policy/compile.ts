import { BUILT_IN_DETECTORS, DETECTOR_ORDER, type Detector } from './detectors.js';
import { compileMatch, RuleError, type Matcher } from './match.js';
import { signedWarnings } from './signed-warnings.js';
import { budgetShadowWarnings } from './budget-shadow.js';
import type { BudgetPer, BudgetPeriod, MatchSpec, Mode, PolicySpec, RateKey, RuleKind, RuleSpec } from './types.js';
import { compileCacheRule, type CacheRule } from '../cache/cache-rule.js';
import { compileCredentials, compileFallback, compileTarget, type CredentialSources, type CredentialsRule, type FallbackRule, type RouteRule } from './routing-compile.js';

export { RuleError } from './match.js';

interface RuleBase {
  id: string;
  mode: Mode;
  match: Matcher;
}

export interface AccessRule extends RuleBase {
  kind: 'access';
  action: 'allow' | 'deny';
}

export interface RedactRule extends RuleBase {
  kind: 'redact';
  action: 'replace' | 'block';
  detectors: Detector[];
}

export interface RateLimitRule extends RuleBase {
  kind: 'rateLimit';
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  per: RateKey;
}

// budgets and limits (budget.ts, limits.ts)
export interface BudgetRule extends RuleBase {
  kind: 'budget';
  usd: number;
  period: BudgetPeriod;
  per: BudgetPer;
  warnAt: number;
  /** The rule's match as written: spend carries over a reload only while id, match, period and key stay. */
  matchSource: string;
  /** The same, as data: which earlier budget rule takes every request this one matches (budget-shadow.ts). */
  matchSpec: MatchSpec;
  /**
   * The policy's `teams:` when they decide what this rule counts (it is per team, matches
   * on team, or comes after an enforced budget rule that does), else ''. Part of what
   * must stay the same for its spend to carry over a reload: a user moved to another team
   * takes their spend this period with them, as `stats --budgets` counts it.
   */
  teamsSource: string;
}

export interface LimitsRule extends RuleBase {
  kind: 'limits';
  /** Its match names what only a body may tell (model, session): it cannot be decided from a request's head (declared-size.ts). */
  matchReadsBody: boolean;
  maxRequestBytes?: number;
  maxTokens?: number;
  onMaxTokens: 'clamp' | 'block';
}

export type { CacheRule } from '../cache/cache-rule.js';

export type CompiledRule = AccessRule | RedactRule | RateLimitRule | CacheRule | BudgetRule | LimitsRule | RouteRule | FallbackRule | CredentialsRule;

/** A policy ready to evaluate: rules split by kind (file order kept), matchers and regexes built once. */
export interface CompiledPolicy {
  access: AccessRule[];
  redact: RedactRule[];
  rateLimit: RateLimitRule[];
  cache: CacheRule[];
  budget: BudgetRule[];
  limits: LimitsRule[];
  // --- routing (routing-compile.ts) ---
  route: RouteRule[];
  fallback: FallbackRule[];
  credentials: CredentialsRule[];
  /** Proxy user → team. */
  teams: Map<string, string>;
  ruleCount: number;
  /** Every rule as the file wrote it, in file order, with the id and kind it was compiled to (the web UI's policy page). */
  asWritten: { id: string; kind: RuleKind; mode: Mode; spec: RuleSpec }[];
  /** What loads but will not do all it says (check-config prints them, the proxy logs them). */
  warnings?: PolicyWarning[];
}

/** A key that loads but will not always take effect: where it is, why, and as one line (`file:line: path: message` once loadPolicyText has placed it). */
export interface PolicyWarning {
  path: (string | number)[];
  message: string;
  text: string;
}

const ACTION_KEYS = ['action', 'redact', 'rateLimit', 'cache', 'budget', 'limits', 'route', 'fallback', 'credentials'] as const;

/** `sources`: where credentials rules read their values (default: process.env and the file system). */
export function compilePolicy(spec: PolicySpec, sources: CredentialSources = {}): CompiledPolicy {
  const policy: CompiledPolicy = { access: [], redact: [], rateLimit: [], cache: [], budget: [], limits: [], route: [], fallback: [], credentials: [], teams: new Map(), ruleCount: spec.rules.length, asWritten: [] };
  for (const [team, users] of Object.entries(spec.teams ?? {})) {
    for (const [i, user] of users.entries()) {
      const other = policy.teams.get(user);
      if (other !== undefined && other !== team) throw new RuleError(['teams', team, i], `user "${user}" is already in team "${other}"`);
      policy.teams.set(user, team);
    }
  }
  const ids = new Set<string>();
  const teamNames = new Set(Object.keys(spec.teams ?? {}));
  spec.rules.forEach((rule, i) => {
    // A team no `teams:` entry names matches nobody: a typo that would turn the rule off.
    const teams = rule.match?.team === undefined ? [] : Array.isArray(rule.match.team) ? rule.match.team : [rule.match.team];
    teams.forEach((team, j) => {
      if (!teamNames.has(team)) throw new RuleError(['rules', i, 'match', 'team', ...(Array.isArray(rule.match!.team) ? [j] : [])], `no team "${team}" in teams: (${teamNames.size > 0 ? [...teamNames].join(', ') : 'the file has none'})`);
    });
    const compiled = compileRule(rule, i, sources);
    if (ids.has(compiled.id)) throw new RuleError(['rules', i, 'id'], `duplicate rule id "${compiled.id}"`);
    ids.add(compiled.id);
    (policy[compiled.kind] as CompiledRule[]).push(compiled);
    policy.asWritten.push({ id: compiled.id, kind: compiled.kind, mode: compiled.mode, spec: rule });
    // Actions a SigV4-signed (Bedrock) request cannot take: said at load, recorded per request.
    for (const warning of signedWarnings(rule, i)) (policy.warnings ??= []).push(warning);
  });
  markTeamBound(policy.budget, policy.teams);
  // Budget rules no request reaches (an enforced one above takes all of theirs).
  for (const warning of budgetShadowWarnings(policy)) (policy.warnings ??= []).push(warning);
  // In the file's order, rule by rule (a stable sort keeps each rule's own order).
  policy.warnings?.sort((a, b) => Number(a.path[1]) - Number(b.path[1]));
  return policy;
}

/** Sets teamsSource on the budget rules whose key, match or place in the first-match order teams decide. */
function markTeamBound(rules: BudgetRule[], teams: ReadonlyMap<string, string>): void {
  const source = JSON.stringify([...teams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  let gatedByTeam = false;
  for (const rule of rules) {
    if (rule.per === 'team' || rule.matchSpec.team !== undefined || gatedByTeam) rule.teamsSource = source;
    // Which requests reach the rules below an enforced rule that matches on team depends on the teams too.
    if (rule.mode === 'enforce' && rule.matchSpec.team !== undefined) gatedByTeam = true;
  }
}

function compileRule(rule: RuleSpec, i: number, sources: CredentialSources): CompiledRule {
  const path = ['rules', i];
  const keys = ACTION_KEYS.filter((k) => rule[k] !== undefined);
  if (keys.length !== 1) {
    throw new RuleError(path, keys.length === 0 ? `needs one action: ${ACTION_KEYS.join(', ')}` : `has ${keys.join(' and ')}: one action per rule`);
  }
  const base = { id: rule.id ?? `rules[${i}]`, mode: rule.mode ?? 'enforce', match: compileMatch(rule.match, [...path, 'match']) };
  const kind: RuleKind = keys[0] === 'action' ? 'access' : keys[0]!;
  switch (kind) {
    case 'access':
      return { ...base, kind, action: rule.action! };
    case 'redact': {
      const spec = rule.redact!;
      const detectors: Detector[] = (spec.detectors ?? (spec.patterns ? [] : DETECTOR_ORDER))
        .slice()
        .sort((a, b) => DETECTOR_ORDER.indexOf(a) - DETECTOR_ORDER.indexOf(b))
        .map((name) => BUILT_IN_DETECTORS[name]);
      for (const [j, p] of (spec.patterns ?? []).entries()) {
        let re: RegExp;
        try {
          re = new RegExp(p.regex, `${p.flags ?? ''}g`);
        } catch (err) {
          throw new RuleError([...path, 'redact', 'patterns', j, 'regex'], `not a valid regular expression (${(err as Error).message})`);
        }
        if (re.test('')) throw new RuleError([...path, 'redact', 'patterns', j, 'regex'], 'matches the empty string');
        detectors.push({ name: p.name, pattern: re });
      }
      if (detectors.length === 0) throw new RuleError([...path, 'redact'], 'no detectors and no patterns');
      return { ...base, kind, action: spec.action ?? 'replace', detectors };
    }
    case 'rateLimit': {
      const spec = rule.rateLimit!;
      if (spec.requestsPerMinute === undefined && spec.tokensPerMinute === undefined) {
        throw new RuleError([...path, 'rateLimit'], 'needs requestsPerMinute or tokensPerMinute');
      }
      return { ...base, kind, requestsPerMinute: spec.requestsPerMinute, tokensPerMinute: spec.tokensPerMinute, per: spec.per ?? 'user' };
    }
    case 'cache':
      return compileCacheRule(base, rule.cache!, [...path, 'cache']);
    case 'budget': {
      const spec = rule.budget!;
      return { ...base, kind, usd: spec.usd, period: spec.period, per: spec.per, warnAt: spec.warnAt ?? 0.8, matchSource: JSON.stringify(rule.match ?? {}), matchSpec: rule.match ?? {}, teamsSource: '' };
    }
    case 'limits': {
      const spec = rule.limits!;
      if (spec.maxRequestBytes === undefined && spec.maxTokens === undefined) throw new RuleError([...path, 'limits'], 'needs maxRequestBytes or maxTokens');
      if (spec.onMaxTokens !== undefined && spec.maxTokens === undefined) throw new RuleError([...path, 'limits', 'onMaxTokens'], 'needs maxTokens');
      const matchReadsBody = rule.match?.model !== undefined || rule.match?.session !== undefined;
      return { ...base, kind, matchReadsBody, maxRequestBytes: spec.maxRequestBytes, maxTokens: spec.maxTokens, onMaxTokens: spec.onMaxTokens ?? 'clamp' };
    }
    case 'route':
      return { ...base, kind, target: compileTarget(rule.route!, [...path, 'route']) };
    case 'fallback':
      return { ...base, kind, ...compileFallback(rule.fallback!, [...path, 'fallback']) };
    case 'credentials':
      return { ...base, kind, ...compileCredentials(rule.credentials!, base.id, [...path, 'credentials'], sources) };
  }
}

/** One line for `check-config` and the reload log. */
export function summarize(policy: CompiledPolicy): string {
  const all: CompiledRule[] = [...policy.access, ...policy.redact, ...policy.rateLimit, ...policy.cache, ...policy.budget, ...policy.limits, ...policy.route, ...policy.fallback, ...policy.credentials];
  const monitor = all.filter((r) => r.mode === 'monitor').length;
  const counts = ([['cache', policy.cache], ['budget', policy.budget], ['limits', policy.limits], ['route', policy.route], ['fallback', policy.fallback], ['credentials', policy.credentials]] as const)
    .filter(([, rules]) => rules.length > 0).map(([name, rules]) => `, ${rules.length} ${name}`).join('');
  const teams = new Set(policy.teams.values()).size;
  return `${policy.ruleCount} rule${policy.ruleCount === 1 ? '' : 's'} (${policy.access.length} access, ${policy.redact.length} redact, ${policy.rateLimit.length} rate limit${counts}; ${monitor} in monitor mode), ${teams} team${teams === 1 ? '' : 's'}`;
}
