import type { Exchange } from '../exchange.js';
import { priceInputOf } from './exchange-price-input.js';
import type { PriceOverrides } from './override-match.js';
import { GENAI_PRICES_VERSION, priceExchange, type PriceResult } from './price-exchange.js';

/**
 * The price of a WebSocket session: the sum of its responses (one per `response.create`),
 * each priced at the model that answered it, as the same responses streamed over HTTP would
 * be. Undefined when no response carries usage. Never a guess: when one response cannot be
 * priced the session is not either (usd null, with that response's reason); a Realtime
 * session is not priced, since its audio tokens (priced apart) are not recorded.
 */
export function priceSession(ex: Exchange, overrides: PriceOverrides | undefined): PriceResult | undefined {
  const parts = (ex.response?.reassembled?.responses ?? []).filter((p) => p.usage !== undefined);
  if (parts.length === 0) return undefined;
  const source = ex.subscription === true ? 'api_equivalent' : 'api';
  const pricesVersion = overrides ? `${GENAI_PRICES_VERSION}+prices:${overrides.version}` : GENAI_PRICES_VERSION;
  if (ex.api === 'realtime') return { usd: null, source, pricesVersion, reason: 'Realtime sessions are not priced: their audio tokens are not recorded' };
  // Host, provider, route and subscription as any exchange's; model and usage per response.
  const base = priceInputOf({ ...ex, websocket: undefined });
  if (!base) return undefined;
  let usd = 0;
  let priced: PriceResult | undefined;
  const models = new Set<string | undefined>();
  for (const [i, part] of parts.entries()) {
    const one = priceExchange({ ...base, responseModel: part.model, usage: part.usage }, overrides);
    if (one.usd === null) return { ...one, reason: `response ${i + 1} of the session: ${one.reason ?? 'not priced'}` };
    usd += one.usd;
    models.add(`${one.matchedProvider}\n${one.matchedModel}`);
    // An override on any response makes the session's figure an override's.
    if (!priced || one.source === 'override') priced = one;
  }
  const result: PriceResult = { usd, source: priced!.source, pricesVersion };
  // Named only when every response matched the same price entry.
  if (models.size === 1) {
    if (priced!.matchedProvider !== undefined) result.matchedProvider = priced!.matchedProvider;
    if (priced!.matchedModel !== undefined) result.matchedModel = priced!.matchedModel;
  }
  return result;
}
