import type { Usage } from '../exchange.js';

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

/**
 * The same total, or null when the answer reported no prompt tokens at all: unknown, which
 * every page writes `–`, never the 0 a total counts it as.
 */
export function reportedPromptTokens(row: UsageColumns): number | null {
  return row.input_tokens === null && row.cached_input_tokens === null ? null : promptTokens(row);
}

/** The same total for a parsed answer's usage (the proxy's log line), or undefined when none was reported. */
export function usagePromptTokens(usage: Usage | undefined, api: string | undefined): number | undefined {
  if (usage?.inputTokens === undefined && usage?.cachedInputTokens === undefined) return undefined;
  return promptTokens({ api: api ?? null, input_tokens: usage.inputTokens ?? null, cached_input_tokens: usage.cachedInputTokens ?? null, cache_creation_input_tokens: usage.cacheCreationInputTokens ?? null });
}

/** SQL for the same total over `exchanges` columns, for aggregate queries. */
export const PROMPT_TOKENS_SQL = `(COALESCE(input_tokens, 0) + CASE WHEN api IN (${[...CACHE_BESIDE_INPUT].map((a) => `'${a}'`).join(', ')})
  THEN COALESCE(cached_input_tokens, 0) + COALESCE(cache_creation_input_tokens, 0) ELSE 0 END)`;

/**
 * Output tokens are counted two ways too: OpenAI, Anthropic, Bedrock and Ollama count
 * every output token, reasoning included; Gemini's candidatesTokenCount leaves the
 * thinking out (thoughtsTokenCount, our reasoning tokens), though it is billed as output.
 * Totals (columns, stats, token-rate policy) use one meaning: every output token. Rows
 * keep what the provider said; this is applied when they are read.
 */
export function reasoningBesideOutput(api: string | null | undefined, provider?: string | null): boolean {
  if (api !== undefined && api !== null) return api.startsWith('gemini.');
  return provider === 'gemini' || provider === 'gemini-code-assist';
}

export interface OutputColumns {
  api: string | null;
  output_tokens: number | null;
  /** Absent in readers that select no reasoning column (nothing is added then). */
  reasoning_tokens?: number | null;
}

/** All output tokens of one exchange (thinking included), or null when none were reported. */
export function outputTokens(row: OutputColumns): number | null {
  const thinking = reasoningBesideOutput(row.api) ? row.reasoning_tokens ?? null : null;
  if (row.output_tokens === null && thinking === null) return null;
  return (row.output_tokens ?? 0) + (thinking ?? 0);
}

/** The same total for a parsed answer's usage (policy token charges, logs, spans). */
export function usageOutputTokens(usage: Usage | undefined, api: string | undefined, provider?: string): number | undefined {
  if (!usage) return undefined;
  const thinking = reasoningBesideOutput(api, provider) ? usage.reasoningTokens : undefined;
  if (usage.outputTokens === undefined && thinking === undefined) return undefined;
  return (usage.outputTokens ?? 0) + (thinking ?? 0);
}

/** SQL for the same total over `exchanges` columns, for aggregate queries. */
export const OUTPUT_TOKENS_SQL = `(COALESCE(output_tokens, 0) + CASE WHEN api LIKE 'gemini.%' THEN COALESCE(reasoning_tokens, 0) ELSE 0 END)`;

/** Usages added key by key (the responses of a WebSocket session); undefined when none is known. */
export function sumUsage(all: readonly (Usage | undefined)[]): Usage | undefined {
  let total: Usage | undefined;
  for (const usage of all) {
    if (!usage) continue;
    total ??= {};
    for (const key of Object.keys(usage) as (keyof Usage)[]) total[key] = (total[key] ?? 0) + (usage[key] ?? 0);
  }
  return total;
}
