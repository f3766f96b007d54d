/**
 * The archive's pricing for the proxy's event loop (budgets, the Prometheus cost counter,
 * the live view): the modules imported and the price data loaded now, so that no request
 * waits for them at its first price. Nothing on the event loop imports these statically.
 */
export async function loadPricing(): Promise<{ priceOf: typeof import('../recorder/row-cost.js').priceOf; priceResponse: typeof import('./session-price.js').priceResponse }> {
  const [rows, sessions, prices] = await Promise.all([import('../recorder/row-cost.js'), import('./session-price.js'), import('./price-exchange.js')]);
  prices.loadPriceData();
  return { priceOf: rows.priceOf, priceResponse: sessions.priceResponse };
}
