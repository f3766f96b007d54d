import type { Exchange } from '../exchange.js';

/** Answered from llmtap's response cache (an enforced cache hit): no upstream call, nothing paid for. */
export function answeredFromCache(ex: Exchange): boolean {
  return ex.policy?.decisions.some((d) => d.kind === 'cache' && d.action === 'hit' && d.enforced) === true;
}
