/** The variable the bench's credentials rule reads (set by the bench before llmtap starts). */
export const BENCH_KEY_ENV = 'LLMTAP_BENCH_UPSTREAM_KEY';

/**
 * Ten rules a team might run, one or more of every kind, none of which refuses the
 * bench's requests: each request is matched against all of them, its message text
 * scanned by every built-in detector, a token bucket checked (far above the load),
 * its cache key computed and looked up (a miss every time: the answer is larger than
 * the rule keeps, so it is never stored), a budget charged with its priced cost
 * (far above the spend), its max-tokens fields checked, a route rule tried (it names
 * another model) and the upstream key replaced from the environment.
 */
export const BENCH_POLICY = `
teams: { bench: [bench-user] }
rules:
  - {id: no-gpt5, action: deny, match: {model: "gpt-5*"}}
  - {id: watch-o3, mode: monitor, action: deny, match: {model: "o3*"}}
  - {id: pii, match: {api: [chat.completions, messages]}, redact: {}}
  - {id: alice, match: {user: alice}, rateLimit: {requestsPerMinute: 10, per: user}}
  - {id: team-tokens, rateLimit: {tokensPerMinute: 1000000000000, per: team}}
  - {id: cache-miss, match: {api: chat.completions}, cache: {ttl: 10m, maxBytes: 64}}
  - {id: spend, budget: {usd: 1000000, period: day, per: user}}
  - {id: cap, limits: {maxTokens: 4096, maxRequestBytes: 1048576}}
  - {id: cheap-3.5, match: {model: "gpt-3.5*"}, route: {model: gpt-4o-mini}}
  - {id: gateway-key, match: {host: api.openai.com}, credentials: {fromEnv: ${BENCH_KEY_ENV}}}
`;

/**
 * One cache rule every bench request matches: after the first, answers come from
 * the cache (the "cache hit" row), against the fake provider's in the llmtap row.
 */
export const BENCH_CACHE_POLICY = `
rules:
  - {id: cache-all, match: {api: chat.completions}, cache: {ttl: 1h}}
`;
