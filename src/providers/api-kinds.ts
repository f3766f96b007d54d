/**
 * APIs by what they are, for the modules that treat them apart from conversations: the
 * grouper (sessions/group.ts, group-aside.ts) and the price (cost/unbilled-apis.ts). By the
 * api kind of src/exchange.ts.
 */

/** Token counting: asked in the middle of a conversation about it, never a turn of it, never billed. */
const COUNT_TOKENS: ReadonlySet<string> = new Set(['messages.countTokens', 'gemini.countTokens', 'bedrock.countTokens']);

/** Stateless lookups: each request stands alone, so the same one sent twice is two lookups. */
const LOOKUPS: ReadonlySet<string> = new Set(['rerank', 'embeddings']);

export function isCountTokens(api: string | undefined): boolean {
  return api !== undefined && COUNT_TOKENS.has(api);
}

export function isLookup(api: string | undefined): boolean {
  return api !== undefined && LOOKUPS.has(api);
}
