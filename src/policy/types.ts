import type { ApiKind, ProviderId } from '../exchange.js';

/**
 * The policy file's rule kinds. A rule has one `match` and exactly one action key;
 * the key names its kind, and "first match wins" holds within each kind. Kinds
 * still to come (budget, route, fallback, cache, credentials, limits) are new
 * action keys here, new arms of `Decision`, and new stages beside evaluate.ts.
 */
export type RuleKind = 'access' | 'redact' | 'rateLimit' | 'cache' | BudgetLimitKind | RoutingKind;

export type Mode = 'enforce' | 'monitor';

/** What a rule applies to: every field given must match (AND); a list matches any of its entries (OR). */
export interface MatchSpec {
  provider?: string | string[];
  host?: string | string[];
  path?: string | string[];
  api?: string | string[];
  model?: string | string[];
  tool?: string | string[];
  client?: string | string[];
  user?: string | string[];
  team?: string | string[];
  session?: string | string[];
}

export type DetectorName = 'api_key' | 'private_key' | 'jwt' | 'email' | 'card' | 'iban' | 'ipv4';

export interface RedactSpec {
  /** Built-in detectors to run; default all. */
  detectors?: DetectorName[];
  /** Operator patterns: name (used in placeholders and the record) and a regular expression. */
  patterns?: { name: string; regex: string; flags?: string }[];
  /** replace (default): placeholders go upstream. block: the request is refused. */
  action?: 'replace' | 'block';
}

export type RateKey = 'user' | 'team' | 'tool' | 'model' | 'provider' | 'client';

export interface RateLimitRuleSpec {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** What a bucket is kept per; default user (the proxy user, else the client address). */
  per?: RateKey;
}

/** cache: matched requests are cache-safe; identical ones (src/cache/canonical-key.ts) are answered from the cache. */
export interface CacheRuleSpec {
  /** How long an answer is served: `90s`, `10m`, `2h`, `1d`. */
  ttl: string;
  maxEntries?: number;
  /** Body bytes kept for this rule (in memory and in the archive's response_cache table). */
  maxBytes?: number;
  /** Conditions on the request body beyond `match`: `temperature: 0` caches deterministic requests only. */
  when?: { temperature?: number | number[] };
}

/** One rule as written in the file (after schema validation). */
export interface RuleSpec {
  id?: string;
  match?: MatchSpec;
  mode?: Mode;
  /** access: allow or deny what the match selects (deny answers model_not_allowed). */
  action?: 'allow' | 'deny';
  redact?: RedactSpec;
  rateLimit?: RateLimitRuleSpec;
  cache?: CacheRuleSpec;
  // budgets and limits (budget.ts, limits.ts)
  budget?: BudgetRuleSpec;
  limits?: LimitsRuleSpec;
  // --- routing (route / fallback / credentials) ---
  route?: RouteSpec;
  fallback?: FallbackSpec;
  credentials?: CredentialsSpec;
}

export interface PolicySpec {
  version?: 1;
  /** Team name → its proxy users; a rule's `match.team` and `per: team` read it. */
  teams?: Record<string, string[]>;
  rules: RuleSpec[];
}

/** What a rule is matched against: plain facts read from the Exchange before forwarding. */
export interface MatchFacts {
  provider?: ProviderId;
  host: string;
  path: string;
  api?: ApiKind;
  model?: string;
  tool?: string;
  client: string;
  user?: string;
  team?: string;
  session?: string;
  /** Set when the client signed the request (AWS SigV4): why its body and path must go as sent (signed-request.ts). */
  signed?: string;
}

/** Where a detector fired: the JSON path of the string changed, the detector and how often; never the value. */
export interface RedactionHit {
  detector: string;
  at: string;
  count: number;
}

/**
 * One decision of one rule, as stored on the Exchange (`policy.decisions`) and in
 * the archive's `policy` column. `enforced: false` is monitor mode: what would
 * have happened, with nothing changed.
 */
export type Decision =
  /** access: `model` when decided on a request inside a WebSocket session (the model its message named; see proxy/ws-screen.ts). */
  | { rule: string; kind: 'access'; action: 'allow' | 'deny'; enforced: boolean; model?: string }
  /** redact: `notApplied` when a replace could not be (a signed request: refused instead, content_blocked). */
  | { rule: string; kind: 'redact'; action: 'replace' | 'block'; enforced: boolean; hits: RedactionHit[]; notApplied?: string }
  | { rule: string; kind: 'rateLimit'; action: 'limit'; enforced: boolean; key: string; retryAfterSeconds: number; limit: 'requests' | 'tokens' }
  /** cache: hit (answered from the cache, no upstream call; `ageSeconds` old) or miss (forwarded; stored if 2xx and complete). `key`: the first 16 hex digits of the entry key. */
  | { rule: string; kind: 'cache'; action: 'hit' | 'miss'; enforced: boolean; key: string; ageSeconds?: number }
  | BudgetDecision
  | LimitsDecision
  | RoutingDecision;

export interface PolicyRecord {
  decisions: Decision[];
  /** Set when an enforced decision refused the request (the x-llmtap-error code). */
  blocked?: string;
  /** True when the body sent upstream differs from the one the client sent. */
  bodyChanged?: boolean;
  // --- routing ---
  /** Where the request was meant to go and where it went (set when a route rule was enforced). */
  route?: { from: RouteEnd; to: RouteEnd };
  /** Every upstream tried, in order, when a fallback rule applied; the last one answered the client. */
  attempts?: Attempt[];
}

// --- budgets and limits (budget.ts, limits.ts) ---

export type BudgetLimitKind = 'budget' | 'limits';
export type BudgetPeriod = 'day' | 'week' | 'month';
export type BudgetPer = 'user' | 'team' | 'tool' | 'model';

export interface BudgetRuleSpec {
  /** USD allowed per period per key. */
  usd: number;
  /** Calendar periods in UTC: a day, an ISO week (from Monday), a month. */
  period: BudgetPeriod;
  per: BudgetPer;
  /** Fraction of `usd` at which a warning is logged once per key and period (default 0.8). */
  warnAt?: number;
}

export interface LimitsRuleSpec {
  /** Largest request body (bytes as sent, before any content coding is undone). */
  maxRequestBytes?: number;
  /** Largest output token cap a request may ask for (max_tokens and its per-API names). */
  maxTokens?: number;
  /** clamp (default): the cap goes upstream in place of the larger value. block: the request is refused. */
  onMaxTokens?: 'clamp' | 'block';
}

/** A budget rule whose key has spent past its warning threshold (warn) or all of it (block). */
export interface BudgetDecision {
  rule: string;
  kind: 'budget';
  action: 'warn' | 'block';
  enforced: boolean;
  key: string;
  period: BudgetPeriod;
  /** Start of the current period (ISO, UTC). */
  periodStart: string;
  spentUsd: number;
  limitUsd: number;
}

/** A limit that fired: the body size or a max-tokens field, what the request said and what the rule allows. */
export interface LimitsDecision {
  rule: string;
  kind: 'limits';
  action: 'clamp' | 'block';
  enforced: boolean;
  limit: 'requestBytes' | 'maxTokens';
  /** The JSON field (dotted) a maxTokens decision is about. */
  field?: string;
  from: number;
  to: number;
  /** Why an enforced clamp left the request as sent (a signed request). */
  notApplied?: string;
}

// ---------------------------------------------------------------------------
// Routing: route, fallback, credentials (src/policy/routing.ts, src/proxy/fallback.ts)

export type RoutingKind = 'route' | 'fallback' | 'credentials';

/** An upstream as a rule names it: a URL (`https://host[:port]` or `http://host:port`) plus what changes with it. */
export interface RouteTargetSpec {
  upstream?: string;
  /** Replaces the top-level `model` of the JSON body (Google's and Azure's: the path's; Bedrock's: not applied). */
  model?: string;
  /** Put in front of the request path (a local server mounted under /openai, say). */
  pathPrefix?: string;
}

export type RouteSpec = RouteTargetSpec;

/** What makes the next upstream get the same request: `connect_error`, `429`, `5xx`, or one status (e.g. 529). */
export type FallbackTrigger = 'connect_error' | '429' | '5xx' | number;

export interface FallbackSpec {
  upstreams: (string | RouteTargetSpec)[];
  on?: (string | number)[];
}

export type CredentialHeader = 'authorization' | 'x-api-key' | 'api-key' | 'x-goog-api-key';

export type CredentialsSpec = ({ fromEnv: string; fromFile?: never } | { fromFile: string; fromEnv?: never }) & { header?: CredentialHeader };

/** One end of a route as recorded: host (with port when not the default) and model. */
export interface RouteEnd {
  upstream: string;
  model?: string;
  /** On `to` only: the client's credentials held back from a route's other origin (names, never values). */
  withheld?: string[];
}

export interface Attempt {
  upstream: string;
  model?: string;
  /** The status the upstream answered (absent when no answer came). */
  status?: number;
  /** The llmtap error code when the try failed without an answer (upstream_unreachable, …). */
  error?: string;
  /** How this attempt ended: `retried` (the next upstream got the request) or `answered` / `failed`. */
  result: 'retried' | 'answered' | 'failed';
  /** The client's credentials held back from this upstream, another origin with none of its own (names, never values). */
  withheld?: string[];
}

export type RoutingDecision =
  /** route: `modelNotApplied` says why the rule's `model` did not change the request (Bedrock's signed path, a body naming none); `pathPrefixNotApplied`, its `pathPrefix` (a signed request at its own origin). */
  | { rule: string; kind: 'route'; action: 'route'; enforced: boolean; upstream?: string; model?: string; pathPrefix?: string; modelNotApplied?: string; pathPrefixNotApplied?: string }
  | { rule: string; kind: 'fallback'; action: 'fallback'; enforced: boolean; upstreams: string[]; on: string[]; skipped?: string }
  /** Which header carried an injected credential, from which source (the variable or file name, never the value). */
  | { rule: string; kind: 'credentials'; action: 'inject'; enforced: boolean; upstream: string; header: CredentialHeader; source: string };
