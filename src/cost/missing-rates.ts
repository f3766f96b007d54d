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

/**
 * The parts of a usage its price has no rate for: the package would charge a 1-hour
 * cache write at the 5-minute rate and a search it has no fee for at nothing, so such
 * an exchange is left unpriced (with the --prices keys that would price it) rather than
 * priced low. Undefined when every part the usage has is priced.
 */
export function missingRates(usage: PriceUsage, price: ModelPrice): { parts: string; keys: string } | undefined {
  const missing = PARTS.filter(([part, key]) => (usage[part] ?? 0) > 0 && price[key] === undefined);
  if (missing.length === 0) return undefined;
  return { parts: missing.map(([, , what]) => what).join(' and '), keys: missing.map(([part]) => OVERRIDE_KEYS[part]).join(', ') };
}
