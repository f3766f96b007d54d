import type { Exchange } from '../exchange.js';
import type { PriceInput } from './price-exchange.js';

/**
 * What an exchange is priced from: the same input in the writer thread (the row's cost)
 * and in the proxy's main thread (budgets), so a budget counts what the archive shows.
 * Undefined when there is nothing to price (no usage; a WebSocket session is priced per
 * response by the read side).
 */
export function priceInputOf(ex: Exchange): PriceInput | undefined {
  const reassembled = ex.response?.reassembled;
  const usage = ex.usage ?? reassembled?.usage;
  if (!usage || ex.websocket) return undefined;
  return {
    provider: ex.provider, host: ex.target.host, api: ex.api, model: ex.request.model, responseModel: reassembled?.model, usage,
    at: ex.timings.start, subscription: ex.subscription === true,
  };
}
