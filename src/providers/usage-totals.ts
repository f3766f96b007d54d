/**
 * Providers count prompt tokens two ways: OpenAI (Chat, Responses), Gemini and Ollama
 * report all input tokens and the cached part within them; Anthropic (incl. Vertex
 * rawPredict and Bedrock) and Bedrock Converse report the uncached rest, with cache
 * reads and writes beside it. Totals across providers (sessions, stats, cache hit
 * ratio) use one meaning: every prompt token, cached or not.
 */
const CACHE_BESIDE_INPUT = new Set(['messages', 'bedrock.converse', 'bedrock.invoke']);

export interface UsageColumns {
  api: string | null;
  input_tokens: number | null;
  cached_input_tokens: number | null;
  cache_creation_input_tokens: number | null;
}

/** All prompt tokens of one exchange (cache reads and writes included), or 0 when none were reported. */
export function promptTokens(row: UsageColumns): number {
  const input = row.input_tokens ?? 0;
  if (row.api === null || !CACHE_BESIDE_INPUT.has(row.api)) return input;
  return input + (row.cached_input_tokens ?? 0) + (row.cache_creation_input_tokens ?? 0);
}

/** SQL for the same total over `exchanges` columns, for aggregate queries. */
export const PROMPT_TOKENS_SQL = `(COALESCE(input_tokens, 0) + CASE WHEN api IN (${[...CACHE_BESIDE_INPUT].map((a) => `'${a}'`).join(', ')})
  THEN COALESCE(cached_input_tokens, 0) + COALESCE(cache_creation_input_tokens, 0) ELSE 0 END)`;
