/**
 * APIs the grouper treats apart from conversations (group.ts, group-aside.ts), by the
 * api kind of src/exchange.ts.
 */

/** Token counting: asked in the middle of a conversation about it, never a turn of it. */
const COUNT_TOKENS: ReadonlySet<string> = new Set(['messages.countTokens', 'gemini.countTokens', 'bedrock.countTokens']);

/** Stateless lookups: each request stands alone, so the same one sent twice is two lookups. */
const LOOKUPS: ReadonlySet<string> = new Set(['rerank', 'embeddings']);

export function isCountTokens(api: string | undefined): boolean {
  return api !== undefined && COUNT_TOKENS.has(api);
}

export function isLookup(api: string | undefined): boolean {
  return api !== undefined && LOOKUPS.has(api);
}
