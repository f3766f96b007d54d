import type { Exchange } from '../exchange.js';
import { effectiveUpstream } from './effective-upstream.js';
import type { PriceInput } from './price-exchange.js';
import { unbilledReason } from './unbilled-apis.js';

/**
 * What an exchange is priced from: the same input in the writer thread (the row's cost)
 * and in the proxy's main thread (budgets), so a budget counts what the archive shows.
 * Undefined when there is nothing to price (no usage, unless the API is free; a WebSocket session is priced per
 * response: session-price.ts). A routed exchange is priced where it went (the upstream
 * that answered, the model it was sent), not where the client sent it.
 */
export function priceInputOf(ex: Exchange): PriceInput | undefined {
  const reassembled = ex.response?.reassembled;
  // A free API (token counting, OpenAI moderation) reports no usage but is priced all the same: at $0, not left unpriced.
  const usage = ex.usage ?? reassembled?.usage ?? (unbilledReason(ex.api, ex.provider) !== undefined ? {} : undefined);
  if (!usage || ex.websocket) return undefined;
  const routed = effectiveUpstream(ex);
  return {
    provider: routed ? routed.provider : ex.provider, host: routed?.host ?? ex.target.host, api: ex.api,
    model: routed?.model ?? ex.request.model, responseModel: reassembled?.model, usage,
    at: ex.timings.start, subscription: ex.subscription === true,
  };
}
