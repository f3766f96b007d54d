import type { ModelInfo, ModelPrice, PriceCalculation, Provider } from '@pydantic/genai-prices';
import { learnPrice, priceAt, replayPrice } from './fast-price.js';
import type { Usage } from '../exchange.js';
import { lazyRequire } from '../lazy-require.js';
import { findOverride, overrideCost, overrideMissing, type PriceOverrides } from './override-match.js';
import { missingRates, oneHourWriteTopUp } from './missing-rates.js';
import { GENAI_PRICES_VERSION } from './prices-version.js';
import { resolvePriceProvider } from './provider-map.js';
import { toPriceUsage, type PriceUsage } from './price-usage.js';
import { unbilledReason } from './unbilled-apis.js';

export interface PriceInput {
  /** llmtap ProviderId (src/exchange.ts). */
  provider?: string;
  /** Target host, for servers off the provider list. */
  host: string;
  /** llmtap ApiKind: decides how the usage counts cached tokens (price-usage.ts). */
  api?: string;
  /** Model as the request named it (body, or the path for Gemini, Vertex, Bedrock, Azure deployments). */
  model?: string;
  /** Model as the answer named it, tried first: Azure answers with the real model behind a deployment name. */
  responseModel?: string;
  usage?: Usage;
  /** When the exchange happened (epoch ms): prices change over time. */
  at: number;
  /** Paid by a subscription (isSubscriptionTraffic): priced as what the API would have cost. */
  subscription: boolean;
}

export type PriceSource = 'api' | 'api_equivalent' | 'override';

export interface PriceResult {
  /** USD; null when no price is known (see reason). Never guessed. */
  usd: number | null;
  /** 'api_equivalent' for subscription traffic (even at an override's rate), 'override' for a --prices rate. */
  source: PriceSource;
  /** The package's provider id, or the override's provider. */
  matchedProvider?: string;
  /** The package's model id, or the override's model glob. */
  matchedModel?: string;
  /** Price data used: `genai-prices@0.1.8`, plus `+prices:<file hash>` when overrides are loaded. */
  pricesVersion: string;
  /** Why usd is null (or 0). */
  reason?: string;
}

export { GENAI_PRICES_VERSION } from './prices-version.js';

/**
 * The price package (~10 MB of price data per thread) is loaded on the first price asked
 * for, not by every module that can price: its CommonJS build, synchronously (this module
 * is its only importer, so there is one copy). Threads that price from the start load it
 * up front (loadPriceData), so no request waits on it.
 */
export const loadPriceData = lazyRequire<typeof import('@pydantic/genai-prices')>('@pydantic/genai-prices');
const calcPrice: typeof import('@pydantic/genai-prices').calcPrice = (...args) => loadPriceData().calcPrice(...args);

/**
 * Cost of one recorded exchange, synchronous (it runs in the archive's writer thread).
 * Overrides win over the package; then the package's price at `at` for the provider
 * llmtap's provider id and host map to (provider-map.ts).
 */
export function priceExchange(input: PriceInput, overrides?: PriceOverrides): PriceResult {
  const pricesVersion = overrides ? `${GENAI_PRICES_VERSION}+prices:${overrides.version}` : GENAI_PRICES_VERSION;
  const source: PriceSource = input.subscription ? 'api_equivalent' : 'api';
  const miss = (reason: string, usd: number | null = null): PriceResult => ({ usd, source, pricesVersion, reason });
  const unbilled = unbilledReason(input.api, input.provider);
  if (unbilled !== undefined) return miss(unbilled, 0);
  // Realtime bills audio apart from text: without the usage's audio breakdown any figure would be a guess.
  if (input.api === 'realtime' && input.usage && input.usage.inputAudioTokens === undefined && input.usage.outputAudioTokens === undefined) {
    return miss('Realtime usage without its audio breakdown (input_token_details.audio_tokens): not priced');
  }
  // Gemini Live too: its usage names each modality's tokens (promptTokensDetails, responseTokensDetails).
  if (input.api === 'gemini.live' && input.usage && input.usage.inputAudioTokens === undefined && input.usage.outputAudioTokens === undefined) {
    return miss('Gemini Live usage without its per-modality breakdown (promptTokensDetails): not priced');
  }
  const models = candidateModels(input);
  if (models.length === 0) return miss('no model recorded');
  const usage = toPriceUsage(input.usage, input.api, input.provider);
  if (!usage) return miss('no usage recorded');

  for (const model of models) {
    const rule = findOverride(overrides, input.provider, model, input.at);
    if (!rule) continue;
    const lacking = overrideMissing(rule.rule, usage);
    if (lacking) return miss(`the --prices rule for ${JSON.stringify(rule.rule.model)} has no rate for ${lacking}`);
    const result: PriceResult = { usd: overrideCost(rule.rule, usage), source: input.subscription ? 'api_equivalent' : 'override', matchedModel: rule.rule.model, pricesVersion };
    const provider = rule.rule.provider ?? input.provider;
    if (provider !== undefined) result.matchedProvider = provider;
    return result;
  }

  const resolution = resolvePriceProvider(input.provider, input.host);
  if (resolution.kind === 'local') return miss(`local model (${input.provider ?? input.host}): not billed per token`);
  if (resolution.kind === 'unpriced') return miss(`no public price for provider ${input.provider ?? '(none)'}; add it with --prices`);
  const when = new Date(input.at);
  for (const model of models) {
    let calc: Priced | null;
    try {
      calc = lookup(resolution.providerId, resolution.providerApiUrl, model, usage, when);
    } catch (err) {
      return miss(`price calculation failed: ${(err as Error).message}`);
    }
    if (calc && input.provider === 'bedrock' && otherVersion(model, calc.modelId)) {
      return miss(`no price for ${JSON.stringify(model)}: the price list's ${JSON.stringify(calc.modelId)} is another version of it; add it with --prices`);
    }
    if (!calc) continue;
    // The package charges a part its price lacks at a parent unit's rate, or not at all
    // (a 1-hour write at the 5-minute rate, a web search for nothing): a guess either way,
    // except a Claude model's 1-hour writes, whose rate follows Anthropic's rule.
    const topUp = calc.price ? oneHourWriteTopUp(usage, calc.price, calc.modelId) : 0;
    const lacking = calc.price && missingRates(usage, calc.price, topUp !== undefined);
    if (lacking) return miss(`no price for the ${lacking.parts} of ${JSON.stringify(calc.modelId)} in ${GENAI_PRICES_VERSION}; add ${lacking.keys} with --prices`);
    return { usd: calc.usd + (topUp ?? 0), source, matchedProvider: calc.providerId, matchedModel: calc.modelId, pricesVersion };
  }
  const where = resolution.providerId ?? resolution.providerApiUrl ?? 'any provider';
  return miss(`unknown model ${models.map((m) => JSON.stringify(m)).join(' / ')} for ${where}`);
}

/**
 * Bedrock model ids end in their version (`amazon.titan-embed-text-v2:0`); the price
 * list matches some by a prefix that takes in every version (Titan Text Embeddings V2
 * at V1's rate, five times V2's). A price entry for another version is not the price.
 */
function otherVersion(model: string, matched: string): boolean {
  const version = (id: string): string | undefined => /-v(\d+)(?::\d+)?$/.exec(id)?.[1];
  const asked = version(model);
  const found = version(matched);
  return asked !== undefined && found !== undefined && asked !== found;
}

/**
 * The answer's model first: it names the real model behind an Azure deployment or an
 * alias. Except on Bedrock, whose path model id is the billing SKU: its inference
 * profile (`global.`, `us.`…) sets the rate, and a Claude answer names only the bare
 * Anthropic id, which the package prices at the (10% dearer) regional rate.
 */
function candidateModels(input: PriceInput): string[] {
  const out: string[] = [];
  const order = input.provider === 'bedrock' ? [input.model, input.responseModel] : [input.responseModel, input.model];
  for (const model of order) {
    const trimmed = model?.trim();
    if (trimmed && !out.includes(trimmed)) out.push(trimmed);
  }
  return out;
}

/**
 * Model lookups memoized: the package scans a provider's models (and its fallbacks) on
 * every call, 15-80 µs. A hit prices against a one-model copy of the provider, which the
 * package matches at once; same id, so its provider-specific rules still apply. And a hit
 * whose price at that time calcPrice has already accepted is replayed without it
 * (fast-price.ts: the same arithmetic, bit for bit, without 20-50 µs of per-call checks).
 */
const MEMO_LIMIT = 2048;
const memo = new Map<string, { provider: Provider; model: ModelInfo } | null>();

interface Priced {
  usd: number;
  providerId: string;
  modelId: string;
  /** The rates used; undefined for time-of-day prices, which only calcPrice picks. */
  price?: ModelPrice;
}

function lookup(providerId: string | undefined, providerApiUrl: string | undefined, model: string, usage: PriceUsage, timestamp: Date): Priced | null {
  const key = `${providerId ?? ''}\n${providerApiUrl ?? ''}\n${model}`;
  const known = memo.get(key);
  if (known === null) return null;
  if (known) {
    const price = priceAt(known.model, timestamp.getTime());
    const usd = price === undefined ? undefined : replayPrice(price, usage);
    if (usd !== undefined) return { usd, providerId: known.provider.id, modelId: known.model.id, price: price! };
    return learned(calcPrice({ ...usage }, model, { provider: known.provider, timestamp }));
  }
  const options: { providerId?: string; providerApiUrl?: string; timestamp: Date } = { timestamp };
  if (providerId !== undefined) options.providerId = providerId;
  if (providerApiUrl !== undefined) options.providerApiUrl = providerApiUrl;
  // Without a provider id or a URL the package guesses the provider from the model name.
  const calc = calcPrice({ ...usage }, model, options);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, calc ? { provider: { ...calc.provider, models: [calc.model], fallback_model_providers: [] }, model: calc.model } : null);
  return learned(calc);
}

function learned(calc: PriceCalculation | null): Priced | null {
  if (!calc) return null;
  learnPrice(calc.model_price);
  return { usd: calc.total_price, providerId: calc.provider.id, modelId: calc.model.id, price: calc.model_price };
}
