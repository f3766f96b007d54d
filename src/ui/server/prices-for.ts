import type { PriceOverrides } from '../../cost/override-match.js';
import type { ExchangeRow } from '../../recorder/db.js';
import type { SessionReading } from '../../sessions/turns.js';
import { isResponsesSession } from '../../sessions/ws-turns.js';

/**
 * The price function a Codex session's requests share its cost by, when the rows hold
 * such a session: the module imported then, and its price data loaded at the first price
 * (once per thread, as for the live view), so a proxy whose UI shows none never holds
 * it. With the proxy's overrides, as the archive priced the session.
 */
let pricing: Promise<typeof import('../../cost/price-exchange.js') | undefined> | undefined;
export async function pricesFor(rows: readonly ExchangeRow[], overrides: PriceOverrides | undefined): Promise<SessionReading['price']> {
  if (!rows.some(isResponsesSession)) return undefined;
  const module = await (pricing ??= import('../../cost/price-exchange.js').catch(() => undefined));
  return module && ((input) => module.priceExchange(input, overrides));
}
