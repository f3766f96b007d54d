import type { ModelPrice } from '@pydantic/genai-prices';
import type { PriceUsage } from './price-usage.js';

/** Usage parts billed at rates of their own, with the package's price key for each. */
const PARTS = [
  ['cache_write_1h_tokens', 'cache_write_1h_mtok', '1-hour cache writes'],
  ['web_searches', 'web_searches_kcount', 'web searches'],
  ['storage_searches', 'storage_searches_kcount', 'file searches'],
] as const;

/** The --prices keys for the same parts (override-match.ts). */
const OVERRIDE_KEYS: Record<(typeof PARTS)[number][0], string> = {
  cache_write_1h_tokens: 'cache_write_1h_mtok',
  web_searches: 'web_searches_kcount',
  storage_searches: 'file_searches_kcount',
};

/** Anthropic prices a 1-hour cache write at twice the base input rate, on its API, Bedrock and Vertex alike. */
const ONE_HOUR_WRITE_TIMES_INPUT = 2;

/**
 * The parts of a usage its price has no rate for: the package would charge a 1-hour
 * cache write at the 5-minute rate and a search it has no fee for at nothing, so such
 * an exchange is left unpriced (with the --prices keys that would price it) rather than
 * priced low. Undefined when every part the usage has is priced; `oneHourPriced`: the
 * 1-hour writes are (a Claude model's, by oneHourWriteTopUp).
 */
export function missingRates(usage: PriceUsage, price: ModelPrice, oneHourPriced: boolean): { parts: string; keys: string } | undefined {
  const missing = PARTS.filter(([part, key]) => (usage[part] ?? 0) > 0 && price[key] === undefined && !(part === 'cache_write_1h_tokens' && oneHourPriced));
  if (missing.length === 0) return undefined;
  return { parts: missing.map(([, , what]) => what).join(' and '), keys: missing.map(([part]) => OVERRIDE_KEYS[part]).join(', ') };
}

/**
 * What a Claude model's 1-hour cache writes cost beyond the 5-minute rate the package
 * charged them at, when its price has no 1-hour rate (Claude on Vertex, most of Bedrock):
 * Anthropic's published rule, twice the input rate, of which the package already charged
 * the 5-minute write rate. 0 when the price has its own 1-hour rate or there are no such
 * writes; undefined for a model the rule is not known to hold for.
 */
export function oneHourWriteTopUp(usage: PriceUsage, price: ModelPrice, modelId: string): number | undefined {
  const hour = usage.cache_write_1h_tokens ?? 0;
  if (hour === 0 || price.cache_write_1h_mtok !== undefined) return 0;
  const input = rateAt(price.input_mtok, usage.input_tokens);
  if (!/claude/i.test(modelId) || input === undefined) return undefined;
  const write = rateAt(price.cache_write_mtok, usage.input_tokens) ?? input;
  return (hour * (ONE_HOUR_WRITE_TIMES_INPUT * input - write)) / 1e6;
}

/** A rate in USD per million at this many input tokens: the highest tier the count has passed. */
function rateAt(rate: ModelPrice[string], inputTokens: number): number | undefined {
  if (rate === undefined || typeof rate === 'number') return rate;
  let at = rate.base;
  for (const tier of rate.tiers) if (inputTokens > tier.start) at = tier.price;
  return at;
}
