import type { RecordedRequest } from '../websocket/reduce.js';
import type { PriceInput, PriceResult } from './price-exchange.js';

/** Where a recorded session ran, for pricing each of its responses as the same turn over HTTP. */
export interface SessionPriceBase {
  provider?: string;
  host: string;
  api?: string;
  /** The model the upgrade named, for a request that named none. */
  model?: string;
  /** When the session started (epoch ms), for a request the log gives no time for. */
  at: number;
  subscription: boolean;
}

/**
 * Each request's share of its WebSocket session's recorded cost, in wire order: in
 * proportion to its response's own price at the model that answered it (models in one
 * session can differ in price by 10× and more), so the shares add up to what the archive
 * recorded, overrides and all. Without a price function, or when a response cannot be
 * priced, by tokens instead; a session whose responses used none, evenly. A request no
 * response answered (refused, cut) has no share.
 */
export function responseShares(requests: readonly RecordedRequest[], base: SessionPriceBase, price?: (input: PriceInput) => PriceResult): number[] {
  const byPrice = price && requests.map((q) => (q.answer?.usage ? price(priceInputOf(q, base)).usd : 0));
  const weights = byPrice && byPrice.every((usd) => usd !== null) ? (byPrice as number[]) : requests.map(usedTokens);
  const all = weights.reduce((sum, w) => sum + w, 0);
  return weights.map((w) => (all > 0 ? w / all : 1 / requests.length));
}

/** The tokens a request's response used (input and output). */
export const usedTokens = (q: RecordedRequest): number => (q.answer?.usage?.inputTokens ?? 0) + (q.answer?.usage?.outputTokens ?? 0);

function priceInputOf(q: RecordedRequest, base: SessionPriceBase): PriceInput {
  const input: PriceInput = { host: base.host, at: q.at ?? base.at, subscription: base.subscription, usage: q.answer?.usage };
  if (base.provider !== undefined) input.provider = base.provider;
  if (base.api !== undefined) input.api = base.api;
  const model = q.model ?? base.model;
  if (model !== undefined) input.model = model;
  if (q.answer?.model) input.responseModel = q.answer.model;
  return input;
}
