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

/** USD for the usage at the override's rates; cached parts are carved out of input_tokens. */
export function overrideCost(rule: PriceOverride, usage: PriceUsage): number {
  const read = usage.cache_read_tokens ?? 0;
  const write = usage.cache_write_tokens ?? 0;
  const uncached = Math.max(0, usage.input_tokens - read - write);
  const micro = uncached * rule.input_mtok
    + read * (rule.cache_read_mtok ?? rule.input_mtok)
    + write * (rule.cache_write_mtok ?? rule.input_mtok)
    + usage.output_tokens * rule.output_mtok;
  return micro / 1e6;
}
