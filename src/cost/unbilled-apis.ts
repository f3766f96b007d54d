/**
 * APIs that are free to call: token counting (Gemini's countTokens, Anthropic's
 * count_tokens, Bedrock's CountTokens). Priced at $0 whether or not the answer reports usage, so a count never
 * leaves a total unpriced (its own module: the proxy's budget code reads it without
 * loading the pricing module).
 */
export const UNBILLED_APIS: ReadonlySet<string> = new Set(['gemini.countTokens', 'messages.countTokens', 'bedrock.countTokens']);
