import type { ProviderId, Usage } from '../exchange.js';
import { usagePartsOf } from '../archive/usage-parts.js';
import { effectiveUpstream } from './effective-upstream.js';
import { untokenedReason } from './untokened-reason.js';
import { usdFraction } from './usd-fraction.js';
import { parsePolicy } from '../policy/parse-record.js';
import type { ExchangeRow } from '../recorder/row-types.js';
import type { PriceInput, PriceResult } from './price-exchange.js';

/**
 * The archived columns an exchange's usage is read back from. `usage_parts` may be left
 * out by a reader that selects no such column: its row then reads as one without parts.
 */
export type UsageColumns = Pick<ExchangeRow, 'input_tokens' | 'output_tokens' | 'cached_input_tokens' | 'cache_creation_input_tokens' | 'reasoning_tokens'
  | 'input_audio_tokens' | 'cached_audio_input_tokens' | 'output_audio_tokens'> & Partial<Pick<ExchangeRow, 'usage_parts'>>;

/**
 * An archived exchange's usage as the price list reads it, its image, video, search and
 * 1-hour cache parts laid back from `usage_parts`, so it is priced as it was recorded.
 * Rows from before schema 11 have no audio columns, from before 17 no parts: undefined,
 * priced as text (as they were then).
 */
export function rowUsage(row: UsageColumns): Usage {
  const usage: Usage = {
    inputTokens: row.input_tokens ?? undefined, outputTokens: row.output_tokens ?? undefined, cachedInputTokens: row.cached_input_tokens ?? undefined,
    cacheCreationInputTokens: row.cache_creation_input_tokens ?? undefined, reasoningTokens: row.reasoning_tokens ?? undefined,
    inputAudioTokens: row.input_audio_tokens ?? undefined, cachedAudioTokens: row.cached_audio_input_tokens ?? undefined, outputAudioTokens: row.output_audio_tokens ?? undefined,
  };
  const parts = usagePartsOf(row.usage_parts);
  return parts ? Object.assign(usage, parts) : usage;
}

export type UnpricedRow = UsageColumns & Pick<ExchangeRow, 'cost_usd' | 'cost_source' | 'status' | 'provider' | 'host' | 'port' | 'tls' | 'path' | 'api' | 'model' | 'policy' | 'started_at'>;

/**
 * Why an archived exchange that counted tokens has no cost (`null`: never a guess). The
 * archive keeps the cost, not its reason, so the price list is asked again, with the
 * exchange's own time, where a route or fallback sent it and the model it was sent as:
 * `unknown model "gpt-9" for openai`, `local model (ollama): not billed per token`.
 * Undefined when it has a cost, counted no tokens, or is a WebSocket session (priced
 * response by response).
 */
export function unpricedReason(row: UnpricedRow, price: (input: PriceInput) => PriceResult): string | undefined {
  if (row.cost_usd !== null || row.status === 101) return undefined;
  if (row.input_tokens === null && row.output_tokens === null) return untokenedReason(row);
  // Priced where it went, as the archive priced it (cost/exchange-price-input.ts).
  const policy = parsePolicy(row.policy);
  const routed = policy && effectiveUpstream({
    policy, target: { host: row.host, port: row.port, tls: row.tls === 1 }, provider: (row.provider ?? undefined) as ProviderId | undefined,
    request: { model: row.model ?? undefined, path: row.path },
  });
  const input: PriceInput = {
    provider: routed ? routed.provider : row.provider ?? undefined, host: routed?.host ?? row.host, api: row.api ?? undefined,
    model: routed?.model ?? row.model ?? undefined, usage: rowUsage(row), at: row.started_at, subscription: false,
  };
  const now = price(input);
  if (now.usd === null) return now.reason ?? 'no price known';
  // Recorded before the price list (or a --prices file) knew it: the proxy prices it from its next start.
  return `not priced when recorded; the prices read now give $${usdFraction(now.usd)}`;
}
