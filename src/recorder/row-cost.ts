import type { PriceOverrides } from '../cost/override-match.js';
import { priceExchange, type PriceResult } from '../cost/price-exchange.js';
import { priceInputOf } from '../cost/exchange-price-input.js';
import { priceSession } from '../cost/session-price.js';
import type { Exchange } from '../exchange.js';
import { answeredFromCache } from '../cache/answered-from-cache.js';
import type { ExchangeRow } from './db.js';

/**
 * Prices an exchange as its row is written (in the writer thread: 1-4 µs per row, off
 * the event loop), at the exchange's own time. Unknown model or usage → null, never a
 * guess; subscription traffic → its API-equivalent price, flagged.
 */
export function applyCost(row: ExchangeRow, ex: Exchange, overrides: PriceOverrides | undefined): void {
  // Answered from the response cache: nothing was paid for (the saving is the original's cost).
  if (answeredFromCache(ex)) {
    row.cost_usd = 0;
    row.cost_source = 'cache';
    return;
  }
  const price = priceOf(ex, overrides);
  row.cost_usd = price ? price.usd : null;
  row.cost_source = price && price.usd !== null ? price.source : null;
}

/**
 * The price of an exchange as the archive records it; undefined when there is nothing
 * to price (no usage). A WebSocket session is the sum of its responses (session-price.ts). Shared with budgets, the Prometheus cost counter and the live UI: computed
 * once per exchange (kept on `ex.price`, which travels to the writer with the record),
 * so they never disagree and the writer does not price it again.
 */
export function priceOf(ex: Exchange, overrides: PriceOverrides | undefined): PriceResult | undefined {
  if (answeredFromCache(ex)) return undefined;
  if (ex.price) return ex.price;
  if (ex.websocket) return (ex.price = priceSession(ex, overrides));
  const input = priceInputOf(ex);
  return input ? (ex.price = priceExchange(input, overrides)) : undefined;
}
