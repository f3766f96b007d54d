import type { ApiKind, Usage } from '../exchange.js';
import { inputCounting, outputAddsReasoning } from './provider-map.js';

/** Usage in @pydantic/genai-prices' terms (its `Usage` keys). */
export interface PriceUsage {
  /** Every prompt token: uncached + cache reads + cache writes (the package's rule). */
  input_tokens: number;
  cache_read_tokens?: number;
  cache_write_tokens?: number;
  /** The part of cache_write_tokens written with the 1-hour TTL, priced at the package's 1-hour rate. */
  cache_write_1h_tokens?: number;
  output_tokens: number;
  /** Searches run by a provider's web search tool, priced per thousand (web_searches_kcount). */
  web_searches?: number;
  /** OpenAI file_search calls: the package's storage searches, priced per thousand (storage_searches_kcount). */
  storage_searches?: number;
  /** Realtime audio: parts of input_tokens, cache_read_tokens and output_tokens priced at audio rates. */
  input_audio_tokens?: number;
  cache_audio_read_tokens?: number;
  output_audio_tokens?: number;
  /** GPT image models and Gemini: parts of input_tokens and output_tokens priced at image rates. */
  input_image_tokens?: number;
  output_image_tokens?: number;
  /** Gemini: the video part of input_tokens. */
  input_video_tokens?: number;
  /** whisper-1: seconds of audio, priced per hour of audio (the package wants the whole and its input part). */
  audio_seconds?: number;
  input_audio_seconds?: number;
}

/**
 * llmtap's Usage → the package's. The rule, per wire API (see provider-map.ts):
 * - the package wants input_tokens to be the WHOLE prompt, with cache_read_tokens and
 *   cache_write_tokens as parts of it priced at their own rates;
 * - OpenAI-shaped APIs (chat.completions, responses, realtime, embeddings) and Gemini
 *   already count that way: prompt_tokens / input_tokens / promptTokenCount include the
 *   cached tokens, so inputTokens passes through and the cached part is not charged twice;
 * - Anthropic Messages (also Claude on Vertex and Bedrock InvokeModel) and Bedrock Converse
 *   count only the uncached part: input = inputTokens + cache reads + cache writes;
 * - output: outputTokens, plus reasoningTokens for Gemini, whose candidatesTokenCount leaves
 *   the thinking out (OpenAI's completion_tokens and Anthropic's output_tokens hold it).
 * Cache writes are priced at the package's default (5-minute) write rate, except the part
 * Anthropic's usage says was written with the 1-hour TTL (cache_creation), at the 1-hour rate.
 * Returns undefined when the usage carries no token count (nor audio duration) at all.
 */
export function toPriceUsage(usage: Usage | undefined, api: ApiKind | string | undefined, provider: string | undefined): PriceUsage | undefined {
  if (!usage) return undefined;
  const { inputTokens, outputTokens, cachedInputTokens, cacheCreationInputTokens, reasoningTokens } = usage;
  const seconds = count(usage.inputAudioSeconds);
  if (inputTokens === undefined && outputTokens === undefined && cachedInputTokens === undefined && cacheCreationInputTokens === undefined && seconds === 0) return undefined;
  const read = count(cachedInputTokens);
  const write = count(cacheCreationInputTokens);
  let input = count(inputTokens);
  if (inputCounting(api, provider) === 'exclusive') input += read + write;
  // A server whose parts exceed its own total is inconsistent; trust the parts rather than
  // throw (the package refuses parts larger than the whole).
  else input = Math.max(input, read + write);
  let output = count(outputTokens);
  if (outputAddsReasoning(api, provider)) output += count(reasoningTokens);
  const out: PriceUsage = { input_tokens: input, output_tokens: output };
  if (read > 0) out.cache_read_tokens = read;
  if (write > 0) out.cache_write_tokens = write;
  const hour = Math.min(count(usage.cacheCreation1hTokens), write);
  if (hour > 0) out.cache_write_1h_tokens = hour;
  if (count(usage.webSearches) > 0) out.web_searches = count(usage.webSearches);
  if (count(usage.fileSearches) > 0) out.storage_searches = count(usage.fileSearches);
  // Audio (Realtime) as the package counts it: parts of the totals above, never more than them.
  const audioIn = Math.min(count(usage.inputAudioTokens), out.input_tokens);
  const audioCached = Math.min(count(usage.cachedAudioTokens), read, audioIn);
  const audioOut = Math.min(count(usage.outputAudioTokens), out.output_tokens);
  if (audioIn > 0) out.input_audio_tokens = audioIn;
  if (audioCached > 0) out.cache_audio_read_tokens = audioCached;
  if (audioOut > 0) out.output_audio_tokens = audioOut;
  // Images (the Image API's usage, Gemini's) and video (Gemini's): parts of the totals too,
  // together never more than them (the package refuses parts that add up to more).
  const imageIn = Math.min(count(usage.inputImageTokens), out.input_tokens - audioIn);
  const videoIn = Math.min(count(usage.inputVideoTokens), out.input_tokens - audioIn - imageIn);
  const imageOut = Math.min(count(usage.outputImageTokens), out.output_tokens - audioOut);
  if (imageIn > 0) out.input_image_tokens = imageIn;
  if (videoIn > 0) out.input_video_tokens = videoIn;
  if (imageOut > 0) out.output_image_tokens = imageOut;
  if (seconds > 0) out.audio_seconds = out.input_audio_seconds = seconds;
  return out;
}

function count(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : 0;
}
