import { compileOverride, type PriceOverrides } from '../cost/override-match.js';
import { priceExchange } from '../cost/price-exchange.js';
import { priceInputOf } from '../cost/exchange-price-input.js';
import type { Exchange } from '../exchange.js';
import type { ExchangeRow } from './db.js';
import type { PriceOverridesData } from './protocol.js';

/**
 * Prices an exchange as its row is written (in the writer thread: ~10 µs per row, off
 * the event loop), at the exchange's own time. Unknown model or usage → null, never a
 * guess; subscription traffic → its API-equivalent price, flagged.
 */
export function applyCost(row: ExchangeRow, ex: Exchange, overrides: PriceOverrides | undefined): void {
  const input = priceInputOf(ex);
  if (!input) {
    // No usage, nothing to price; a WebSocket session is priced per response by the read side later.
    row.cost_usd = null;
    row.cost_source = null;
    return;
  }
  const price = priceExchange(input, overrides);
  row.cost_usd = price.usd;
  row.cost_source = price.usd === null ? null : price.source;
}

export function compileOverrides(data: PriceOverridesData | null): PriceOverrides | undefined {
  if (!data) return undefined;
  return { file: data.file, version: data.version, entries: data.rules.map(compileOverride) };
}

export function overridesData(overrides: PriceOverrides | undefined): PriceOverridesData | null {
  return overrides ? { file: overrides.file, version: overrides.version, rules: overrides.entries.map((e) => e.rule) } : null;
}
