/**
 * Ten rules a team might run, none of which refuses the bench's requests: each
 * request is matched against all of them, its message text scanned by every
 * built-in detector, and a token bucket checked (a limit far above the load).
 */
export const BENCH_POLICY = `
teams: { bench: [bench-user] }
rules:
  - {id: no-gpt5, action: deny, match: {model: "gpt-5*"}}
  - {id: no-opus, action: deny, match: {model: "claude-opus-*", provider: anthropic}}
  - {id: office-only, action: deny, match: {client: "203.0.113.0/24"}}
  - {id: watch-o3, mode: monitor, action: deny, match: {model: "o3*"}}
  - {id: allow-rest, action: allow, match: {api: [chat.completions, responses, messages]}}
  - {id: tickets, match: {path: "/v1/embeddings"}, redact: {patterns: [{name: ticket, regex: "TCK-[0-9]+"}]}}
  - {id: pii, match: {api: [chat.completions, messages]}, redact: {}}
  - {id: alice, match: {user: alice}, rateLimit: {requestsPerMinute: 10, per: user}}
  - {id: claude-code, match: {tool: claude-code}, rateLimit: {requestsPerMinute: 100, per: tool}}
  - {id: team-tokens, rateLimit: {tokensPerMinute: 1000000000000, per: team}}
`;
