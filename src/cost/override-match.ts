import type { PriceUsage } from './price-usage.js';

/** One negotiated rate from a --prices file (USD per million tokens). */
export interface PriceOverride {
  /** llmtap provider id (anthropic, bedrock, openai-compatible, …); absent: any provider. */
  provider?: string;
  /** Model name glob: `*` any run of characters, `?` one; case-insensitive. */
  model: string;
  input_mtok: number;
  output_mtok: number;
  /** Absent: cache reads cost the input rate (no discount is assumed). */
  cache_read_mtok?: number;
  /** Absent: cache writes cost the input rate. */
  cache_write_mtok?: number;
  /** 1-hour cache writes (Anthropic, Claude on Bedrock and Vertex); absent: the cache_write rate. */
  cache_write_1h_mtok?: number;
  /** Audio parts of the prompt and the answer (Realtime, audio chat, Gemini Live); absent: the input and output rates. */
  input_audio_mtok?: number;
  output_audio_mtok?: number;
  /** The cached part of the prompt's audio; absent: the cache read rate. */
  cache_audio_read_mtok?: number;
  /** Image parts (GPT image models, Gemini's pictures and drawn images) and video (Gemini); absent: the input and output rates. */
  input_image_mtok?: number;
  output_image_mtok?: number;
  input_video_mtok?: number;
  /** USD per thousand web searches (Anthropic web_search, OpenAI web_search_call); absent: searches leave the exchange unpriced. */
  web_searches_kcount?: number;
  /** USD per thousand OpenAI file_search calls; absent: they leave the exchange unpriced. */
  file_searches_kcount?: number;
  /** First UTC day (YYYY-MM-DD) the rate applies; absent: always. */
  from?: string;
}

export interface CompiledOverride {
  rule: PriceOverride;
  pattern: RegExp;
  /** Epoch ms of `from`, or -Infinity. */
  fromMs: number;
}

export interface PriceOverrides {
  /** The file as named on the command line. */
  file: string;
  /** Short content hash, part of every priced result's pricesVersion. */
  version: string;
  entries: CompiledOverride[];
}

export function compileOverride(rule: PriceOverride): CompiledOverride {
  const source = rule.model.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return { rule, pattern: new RegExp(`^${source}$`, 'i'), fromMs: rule.from === undefined ? -Infinity : Date.parse(`${rule.from}T00:00:00Z`) };
}

/**
 * The override for one exchange: among the rules whose provider and model glob match and
 * whose `from` is not after `at`, the latest `from` wins (a rate replaces the one before);
 * between rules with the same `from`, the first in the file wins.
 */
export function findOverride(overrides: PriceOverrides | undefined, provider: string | undefined, model: string, at: number): CompiledOverride | undefined {
  if (!overrides) return undefined;
  let best: CompiledOverride | undefined;
  for (const entry of overrides.entries) {
    if (entry.fromMs > at) continue;
    if (entry.rule.provider !== undefined && entry.rule.provider.toLowerCase() !== provider?.toLowerCase()) continue;
    if (!entry.pattern.test(model)) continue;
    if (!best || entry.fromMs > best.fromMs) best = entry;
  }
  return best;
}

/**
 * USD for the usage at the override's rates. Cached parts are carved out of input_tokens;
 * the audio, image and video parts out of what is left (cached audio out of the cache
 * reads) and out of output_tokens, each at its own rate where the rule names one, never
 * more than the count it is a part of.
 */
export function overrideCost(rule: PriceOverride, usage: PriceUsage): number {
  const read = usage.cache_read_tokens ?? 0;
  const write = usage.cache_write_tokens ?? 0;
  const hour = Math.min(usage.cache_write_1h_tokens ?? 0, write);
  const uncached = Math.max(0, usage.input_tokens - read - write);
  const audioRead = Math.min(usage.cache_audio_read_tokens ?? 0, read, usage.input_audio_tokens ?? 0);
  const audioIn = Math.min((usage.input_audio_tokens ?? 0) - audioRead, uncached);
  const imageIn = Math.min(usage.input_image_tokens ?? 0, uncached - audioIn);
  const videoIn = Math.min(usage.input_video_tokens ?? 0, uncached - audioIn - imageIn);
  const audioOut = Math.min(usage.output_audio_tokens ?? 0, usage.output_tokens);
  const imageOut = Math.min(usage.output_image_tokens ?? 0, usage.output_tokens - audioOut);
  const readRate = rule.cache_read_mtok ?? rule.input_mtok;
  const writeRate = rule.cache_write_mtok ?? rule.input_mtok;
  const micro = (uncached - audioIn - imageIn - videoIn) * rule.input_mtok
    + audioIn * (rule.input_audio_mtok ?? rule.input_mtok)
    + imageIn * (rule.input_image_mtok ?? rule.input_mtok)
    + videoIn * (rule.input_video_mtok ?? rule.input_mtok)
    + (read - audioRead) * readRate
    + audioRead * (rule.cache_audio_read_mtok ?? readRate)
    + (write - hour) * writeRate
    + hour * (rule.cache_write_1h_mtok ?? writeRate)
    + (usage.output_tokens - audioOut - imageOut) * rule.output_mtok
    + audioOut * (rule.output_audio_mtok ?? rule.output_mtok)
    + imageOut * (rule.output_image_mtok ?? rule.output_mtok);
  const calls = (usage.web_searches ?? 0) * (rule.web_searches_kcount ?? 0) + (usage.storage_searches ?? 0) * (rule.file_searches_kcount ?? 0);
  return micro / 1e6 + calls / 1e3;
}

/** A per-call fee the usage incurred and the rule names no rate for (its --prices key); undefined when none. */
export function overrideMissing(rule: PriceOverride, usage: PriceUsage): string | undefined {
  const missing: string[] = [];
  if ((usage.web_searches ?? 0) > 0 && rule.web_searches_kcount === undefined) missing.push('web searches (web_searches_kcount)');
  if ((usage.storage_searches ?? 0) > 0 && rule.file_searches_kcount === undefined) missing.push('file searches (file_searches_kcount)');
  return missing.length > 0 ? missing.join(' and ') : undefined;
}
