import type { ModelInfo, ModelPrice } from '@pydantic/genai-prices';
import type { PriceUsage } from './price-usage.js';

/**
 * The package's price arithmetic, replayed for the four usage keys llmtap reports
 * (price-usage.ts), so a model seen before is priced without `calcPrice` (20-50 µs of
 * unit checks, usage splitting and copying per call; this is well under 1 µs).
 *
 * Exact by construction, operation for operation, for those keys (test/unit/cost-fast-price.test.ts
 * compares it with calcPrice, bit for bit, for every model in the package's data):
 * - each priced unit's "leaf" count is its usage minus its priced descendants'. With only
 *   input, cache read, cache write and output reported, every other unit (audio, images,
 *   1-hour cache writes, web searches, …) has a leaf of 0 and adds 0 (a usage that reports
 *   any of those llmtap knows goes to calcPrice: replayPrice), so only five price keys
 *   matter: input_mtok (less the priced cache parts), cache_read_mtok, cache_write_mtok,
 *   output_mtok and requests_kcount (a fixed fee: one request);
 * - a term is `price * leaf / per`; a tiered price (long-context tiers) takes the price
 *   of the last tier whose start the WHOLE prompt exceeds, as `price * leaf / 1e6 * 1e6 / per`;
 * - terms add up per direction (input, output, other) in the price's key order, then
 *   input + output + other.
 * Whatever the replay does not cover answers undefined and the caller asks calcPrice:
 * time-of-day prices, a negative leaf (the package clamps rounding noise or throws), a
 * price object this module has not seen calcPrice accept (its key checks depend only on
 * the keys, so one success vouches for every later usage).
 */

interface Term {
  key: 'input' | 'cache_read' | 'cache_write' | 'output' | 'requests';
  bucket: 0 | 1 | 2;
  per: number;
  /** A flat price, or the base of a tiered one. */
  base: number;
  /** Tier starts ascending with their prices; undefined for a flat price. */
  tiers?: { start: number; price: number }[];
}

interface Plan {
  terms: Term[];
  cacheReadPriced: boolean;
  cacheWritePriced: boolean;
}

/** Price keys that can be non-zero with llmtap's usage, and their unit (the package's unit registry). */
const KNOWN: Readonly<Record<string, { key: Term['key']; bucket: Term['bucket']; per: number }>> = {
  input_mtok: { key: 'input', bucket: 0, per: 1e6 },
  cache_read_mtok: { key: 'cache_read', bucket: 0, per: 1e6 },
  cache_write_mtok: { key: 'cache_write', bucket: 0, per: 1e6 },
  output_mtok: { key: 'output', bucket: 1, per: 1e6 },
  requests_kcount: { key: 'requests', bucket: 2, per: 1e3 },
};

/** Compiled plans, per price object calcPrice has accepted (null: not replayable, e.g. malformed tiers). */
const plans = new WeakMap<ModelPrice, Plan | null>();

/** Records that calcPrice priced with this price object, so later calls may replay it. */
export function learnPrice(price: ModelPrice): void {
  if (!plans.has(price)) plans.set(price, compile(price));
}

/**
 * The price in force at `at` for the model, as the package picks it (the last entry whose
 * start date has passed, else the first); undefined when the model has time-of-day prices.
 */
export function priceAt(model: ModelInfo, at: number): ModelPrice | undefined {
  const prices = model.prices;
  if (!Array.isArray(prices)) return prices;
  if (!Number.isFinite(at)) return undefined;
  for (let i = prices.length - 1; i >= 0; i--) {
    const entry = prices[i]!;
    const constraint = entry.constraint;
    if (constraint === undefined) return entry.prices;
    if (constraint.type !== 'start_date') return undefined;
    if (at >= new Date(constraint.start_date).getTime()) return entry.prices;
  }
  return prices[0]?.prices;
}

/** USD for the usage at a price calcPrice has accepted before; undefined: ask calcPrice. */
export function replayPrice(price: ModelPrice, usage: PriceUsage): number | undefined {
  const plan = plans.get(price);
  // Audio and image tokens, 1-hour cache writes and per-call tool fees have their own rates: the package prices those itself.
  if (!plan || usage.input_audio_tokens || usage.cache_audio_read_tokens || usage.output_audio_tokens || usage.input_image_tokens || usage.output_image_tokens || usage.audio_seconds
    || usage.cache_write_1h_tokens || usage.web_searches || usage.storage_searches) return undefined;
  const read = plan.cacheReadPriced ? usage.cache_read_tokens ?? 0 : 0;
  const write = plan.cacheWritePriced ? usage.cache_write_tokens ?? 0 : 0;
  // Same order as the package: descendants' leaves summed (read before write), then subtracted.
  const input = usage.input_tokens - (0 + read + write);
  if (!(input >= 0)) return undefined;
  let inputUsd = 0;
  let outputUsd = 0;
  let otherUsd = 0;
  for (const term of plan.terms) {
    const leaf = term.key === 'input' ? input : term.key === 'cache_read' ? read : term.key === 'cache_write' ? write : term.key === 'output' ? usage.output_tokens : 1;
    let value: number;
    if (term.tiers === undefined) value = term.base * leaf / term.per;
    else if (leaf <= 0) value = 0 * 1e6 / term.per;
    else {
      let rate = term.base;
      for (const tier of term.tiers) if (usage.input_tokens > tier.start) rate = tier.price;
      value = rate * leaf / 1e6 * 1e6 / term.per;
    }
    if (term.bucket === 0) inputUsd += value;
    else if (term.bucket === 1) outputUsd += value;
    else otherUsd += value;
  }
  return inputUsd + outputUsd + otherUsd;
}

function compile(price: ModelPrice): Plan | null {
  const terms: Term[] = [];
  for (const [name, value] of Object.entries(price)) {
    const unit = KNOWN[name];
    if (!unit || value === undefined) continue;
    if (typeof value === 'number') {
      terms.push({ ...unit, base: value });
      continue;
    }
    const tiers = (value as { tiers?: unknown }).tiers;
    if (typeof value.base !== 'number' || !Array.isArray(tiers)) return null;
    const sorted = (tiers as { start: number; price: number }[]).map((t) => ({ start: t.start, price: t.price })).sort((a, b) => a.start - b.start);
    terms.push({ ...unit, base: value.base, tiers: sorted });
  }
  return { terms, cacheReadPriced: terms.some((t) => t.key === 'cache_read'), cacheWritePriced: terms.some((t) => t.key === 'cache_write') };
}
