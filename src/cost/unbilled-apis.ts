import { isCountTokens } from '../providers/api-kinds.js';

/**
 * APIs that are free to call: token counting (Gemini's countTokens, Anthropic's
 * count_tokens, Bedrock's CountTokens) and OpenAI's Moderations. Priced at $0 whether or
 * not the answer reports usage, so such a call never leaves a total unpriced (its own
 * module: the proxy's budget code reads it without loading the pricing module).
 */

/**
 * Why an exchange of this API costs nothing, or undefined when it is billed. Moderations
 * are free on OpenAI only: another server with the same path (Mistral's moderation) bills them.
 */
export function unbilledReason(api: string | undefined, provider: string | undefined): string | undefined {
  if (api === undefined) return undefined;
  if (isCountTokens(api)) return 'countTokens is not billed';
  if (api === 'moderations' && provider === 'openai') return 'OpenAI moderation is free';
  return undefined;
}
