import type { PriceOverrides } from '../../cost/override-match.js';
import type { ExchangeRow } from '../../recorder/db.js';
import type { SessionReading } from '../../sessions/turns.js';
import { isLiveSession } from '../../sessions/live-turns.js';
import { isResponsesSession } from '../../sessions/ws-turns.js';

/**
 * The price function for the rows' turns, when they need one: a Codex session's requests
 * and a Gemini Live session's turns share its cost by it, and a row that counted tokens without a cost is asked why
 * (cost/unpriced-reason.ts). The module is imported then, and its price data loaded at
 * the first price (once per thread, as for the live view), so a proxy whose UI shows
 * neither never holds it. With the proxy's overrides, as the archive priced the rows.
 */
let pricing: Promise<typeof import('../../cost/price-exchange.js') | undefined> | undefined;
export async function pricesFor(rows: readonly ExchangeRow[], overrides: PriceOverrides | undefined): Promise<SessionReading['price']> {
  if (!rows.some((row) => isResponsesSession(row) || isLiveSession(row) || unpricedWithTokens(row))) return undefined;
  return loadPrice(overrides);
}

/** The price function with the proxy's overrides, its module loaded by the first call (undefined: it could not be). */
export async function loadPrice(overrides: PriceOverrides | undefined): Promise<SessionReading['price']> {
  const module = await (pricing ??= import('../../cost/price-exchange.js').catch(() => undefined));
  return module && ((input) => module.priceExchange(input, overrides));
}

function unpricedWithTokens(row: ExchangeRow): boolean {
  return row.cost_usd === null && (row.input_tokens !== null || row.output_tokens !== null);
}
