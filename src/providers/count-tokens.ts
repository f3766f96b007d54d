import { readModelAndStream, wholeJsonReducer } from './json.js';
import type { ProviderParser } from './types.js';

/**
 * Token counting: the answer counts a prompt but spends nothing, so it is no usage (as
 * Gemini's countTokens): session and archive totals and budgets leave it out, and it is
 * priced $0 (cost/unbilled-apis.ts). The count stays in the stored answer.
 */
const countOnly = () => wholeJsonReducer(() => ({ text: '', toolCalls: [], events: 0 }));

/** Anthropic's POST /v1/messages/count_tokens and Vertex AI's count-tokens:rawPredict: a Messages body in, `{"input_tokens": N}` out. */
export const anthropicCountTokens: ProviderParser = {
  parseRequest: readModelAndStream,
  createReducer: countOnly,
};

/**
 * Bedrock's CountTokens (POST /model/{modelId}/count-tokens): `{input: {converse: …}}` or
 * `{input: {invokeModel: {body}}}` in, `{"inputTokens": N}` out; the model is the path's
 * (registry.factsFromPath).
 */
export const bedrockCountTokens: ProviderParser = {
  parseRequest: () => ({}),
  createReducer: countOnly,
};
