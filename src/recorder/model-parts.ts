import type { ModelPart } from '../archive/model-parts.js';
import type { PriceOverrides } from '../cost/override-match.js';
import { priceResponse } from '../cost/session-price.js';
import type { Exchange } from '../exchange.js';
import type { ExchangeRow } from './db.js';

/**
 * The `model_usage` column of a WebSocket session that more than one model answered
 * (archive/model-parts.ts): each model's responses, tokens and cost, in the order the
 * models first answered. Each response is priced as the session's price prices it
 * (priceResponse), so the parts add up to the row's cost; none when the row has no cost.
 * Model names go through the redactor, as the row's model does.
 */
export function modelUsageColumn(row: ExchangeRow, ex: Exchange, overrides: PriceOverrides | undefined, redact: (text: string) => string): string | null {
  if (!ex.websocket) return null;
  const responses = ex.response?.reassembled?.responses ?? [];
  const byModel = new Map<string, ModelPart>();
  for (const part of responses) {
    const name = part.model ?? row.model;
    if (name === undefined || name === null) continue;
    const model = redact(name);
    const p = byModel.get(model) ?? { model, responses: 0, input_tokens: null, cached_input_tokens: null, cache_creation_input_tokens: null, output_tokens: null, reasoning_tokens: null, cost_usd: row.cost_usd === null ? null : 0 };
    p.responses++;
    const u = part.usage;
    p.input_tokens = add(p.input_tokens, u?.inputTokens);
    p.cached_input_tokens = add(p.cached_input_tokens, u?.cachedInputTokens);
    p.cache_creation_input_tokens = add(p.cache_creation_input_tokens, u?.cacheCreationInputTokens);
    p.output_tokens = add(p.output_tokens, u?.outputTokens);
    p.reasoning_tokens = add(p.reasoning_tokens, u?.reasoningTokens);
    if (p.cost_usd !== null && u) p.cost_usd += priceResponse(ex, part, overrides)?.usd ?? 0;
    byModel.set(model, p);
  }
  return byModel.size > 1 ? JSON.stringify([...byModel.values()]) : null;
}

function add(sum: number | null, n: number | undefined): number | null {
  return n === undefined || !Number.isFinite(n) ? sum : (sum ?? 0) + n;
}
