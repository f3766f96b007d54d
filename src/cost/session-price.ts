import type { Exchange, ResponsePart } from '../exchange.js';
import { priceInputOf } from './exchange-price-input.js';
import type { PriceOverrides } from './override-match.js';
import { priceExchange, type PriceResult } from './price-exchange.js';

/**
 * The price of a WebSocket session: the sum of its responses (one per `response.create`),
 * each priced at the model that answered it, as the same responses streamed over HTTP would
 * be. Undefined when no response carries usage. Never a guess: when one response cannot be
 * priced the session is not either (usd null, with that response's reason). Realtime
 * responses are priced with their audio tokens at audio rates (price-usage.ts,
 * price-exchange.ts).
 */
export function priceSession(ex: Exchange, overrides: PriceOverrides | undefined): PriceResult | undefined {
  const parts = (ex.response?.reassembled?.responses ?? []).filter((p) => p.usage !== undefined);
  if (parts.length === 0) return undefined;
  let usd = 0;
  let priced: PriceResult | undefined;
  const models = new Set<string>();
  for (const [i, part] of parts.entries()) {
    const one = priceResponse(ex, part, overrides);
    if (!one) return undefined;
    if (one.usd === null) return { ...one, reason: `response ${i + 1} of the session: ${one.reason ?? 'not priced'}` };
    usd += one.usd;
    models.add(`${one.matchedProvider}\n${one.matchedModel}`);
    // An override on any response makes the session's figure an override's.
    if (!priced || one.source === 'override') priced = one;
  }
  const result: PriceResult = { usd, source: priced!.source, pricesVersion: priced!.pricesVersion };
  // Named only when every response matched the same price entry.
  if (models.size === 1) {
    if (priced!.matchedProvider !== undefined) result.matchedProvider = priced!.matchedProvider;
    if (priced!.matchedModel !== undefined) result.matchedModel = priced!.matchedModel;
  }
  return result;
}

/**
 * One response of a session, priced as the same turn over HTTP would be: the session's
 * host, provider, route and subscription, the response's own model and usage. Undefined
 * without usage. Budgets charge each response with it as it ends (budget-charge.ts).
 */
export function priceResponse(ex: Exchange, part: ResponsePart, overrides: PriceOverrides | undefined): PriceResult | undefined {
  if (!part.usage) return undefined;
  const base = priceInputOf({ ...ex, websocket: undefined, usage: part.usage });
  return base && priceExchange({ ...base, responseModel: part.model }, overrides);
}
