import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as genai from '@pydantic/genai-prices';
import type { ModelInfo, Provider } from '@pydantic/genai-prices';
import { describe, expect, it, vi } from 'vitest';
import { learnPrice, priceAt, replayPrice } from '../../src/cost/fast-price.js';
import { priceExchange, type PriceInput } from '../../src/cost/price-exchange.js';
import { loadPriceOverrides } from '../../src/cost/price-overrides.js';
import { toPriceUsage, type PriceUsage } from '../../src/cost/price-usage.js';

// Counts the package's calcPrice calls (the real one runs): the fast path must skip it.
vi.mock('@pydantic/genai-prices', async (original) => {
  const mod = await original<typeof import('@pydantic/genai-prices')>();
  return { ...mod, calcPrice: vi.fn(mod.calcPrice) };
});
const calcPrice = vi.mocked(genai.calcPrice);

const providers = (await genai.waitForUpdate()) ?? [];

/** Every tier start in the data: usages around them cross long-context thresholds. */
const tierStarts = [...new Set(providers.flatMap((p) => p.models.flatMap((m) => (Array.isArray(m.prices) ? m.prices.map((c) => c.prices) : [m.prices])
  .flatMap((price) => Object.values(price).flatMap((v) => (typeof v === 'object' && v ? v.tiers.map((t) => t.start) : []))))))];

const count = fc.oneof(fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: 300 }), fc.constantFrom(0, 1, ...tierStarts, ...tierStarts.map((s) => s + 1)));
/** PriceUsage as toPriceUsage builds it: input holds the cache parts; zero cache counts are left out. */
const usageArb: fc.Arbitrary<PriceUsage> = fc.record({ input: count, read: count, write: count, output: count }).map(({ input, read, write, output }) => {
  const usage: PriceUsage = { input_tokens: Math.max(input, read + write), output_tokens: output };
  if (read > 0) usage.cache_read_tokens = read;
  if (write > 0) usage.cache_write_tokens = write;
  return usage;
});

/** Each model alone in its provider, matched by its id: calcPrice then prices exactly that model. */
function alone(provider: Provider, model: ModelInfo): Provider {
  return { ...provider, models: [{ ...model, match: { equals: model.id } }], fallback_model_providers: [] };
}

/** Times that select each of the model's prices: every start date, the millisecond before it, and now. */
function timesOf(model: ModelInfo): number[] {
  const starts = Array.isArray(model.prices) ? model.prices.flatMap((c) => (c.constraint?.type === 'start_date' ? [Date.parse(`${c.constraint.start_date}T00:00:00Z`)] : [])) : [];
  return [Date.parse('2024-01-01T00:00:00Z'), Date.parse('2026-12-01T12:00:00Z'), ...starts, ...starts.map((s) => s - 1)];
}

describe('fast price path: the package arithmetic replayed', () => {
  it('prices every model in the package data exactly as calcPrice does, bit for bit', () => {
    const cases: { provider: Provider; model: ModelInfo; at: number }[] = [];
    let timeOfDay = 0;
    for (const provider of providers) {
      for (const model of provider.models) {
        for (const at of timesOf(model)) {
          const price = priceAt(model, at);
          if (price === undefined) { timeOfDay++; continue; }
          const first = calcPrice({ input_tokens: 1, output_tokens: 1 }, model.id, { provider: alone(provider, model), timestamp: new Date(at) });
          expect(first, `${provider.id}/${model.id}`).not.toBeNull();
          // The same price object the package picks for that time.
          expect(first!.model_price).toBe(price);
          learnPrice(first!.model_price);
          cases.push({ provider, model, at });
        }
      }
    }
    expect(providers.flatMap((p) => p.models).length).toBeGreaterThan(1000);
    expect(timeOfDay).toBeLessThan(20);
    fc.assert(fc.property(usageArb, (usage) => {
      for (const { provider, model, at } of cases) {
        const expected = calcPrice({ ...usage }, model.id, { provider: alone(provider, model), timestamp: new Date(at) })!.total_price;
        const got = replayPrice(priceAt(model, at)!, usage);
        if (!Object.is(got, expected)) throw new Error(`${provider.id}/${model.id} at ${new Date(at).toISOString()}: ${got} != ${expected} for ${JSON.stringify(usage)}`);
      }
    }), { numRuns: 25, seed: 11 });
  });

  it('leaves time-of-day prices, unseen prices and impossible usages to calcPrice', () => {
    const deepseek = providers.flatMap((p) => p.models).find((m) => Array.isArray(m.prices) && m.prices.some((c) => c.constraint?.type === 'time_of_date'));
    expect(deepseek).toBeDefined();
    expect(priceAt(deepseek!, Date.now())).toBeUndefined();
    const unseen = { input_mtok: 1, output_mtok: 2 };
    expect(replayPrice(unseen, { input_tokens: 10, output_tokens: 10 })).toBeUndefined();
    learnPrice(unseen);
    expect(replayPrice(unseen, { input_tokens: 1e6, output_tokens: 1e6 })).toBe(3);
    // Cache parts larger than the prompt: the package decides (it throws), never a replayed number.
    const cached = { input_mtok: 1, cache_read_mtok: 0.1, output_mtok: 2 };
    learnPrice(cached);
    expect(replayPrice(cached, { input_tokens: 10, cache_read_tokens: 20, output_tokens: 0 })).toBeUndefined();
  });

  const NOW = Date.parse('2026-12-01T12:00:00Z');
  const cases: Omit<PriceInput, 'usage' | 'subscription'>[] = [
    { provider: 'openai', host: 'api.openai.com', api: 'chat.completions', model: 'gpt-4o-2024-08-06', at: NOW },
    { provider: 'openai', host: 'api.openai.com', api: 'chat.completions', model: 'o3', at: Date.parse('2025-05-01T00:00:00Z') },
    { provider: 'anthropic', host: 'api.anthropic.com', api: 'messages', model: 'claude-sonnet-4-5-20250929', at: NOW },
    { provider: 'gemini', host: 'generativelanguage.googleapis.com', api: 'gemini.generateContent', model: 'gemini-2.5-pro', at: NOW },
    { provider: 'bedrock', host: 'bedrock-runtime.us-east-1.amazonaws.com', api: 'bedrock.converse', model: 'us.anthropic.claude-sonnet-4-20250514-v1:0', at: NOW },
    { provider: 'openrouter', host: 'openrouter.ai', api: 'chat.completions', model: 'anthropic/claude-sonnet-4', at: NOW },
  ];
  const usage = fc.record({ inputTokens: count, cachedInputTokens: count, cacheCreationInputTokens: count, outputTokens: count, reasoningTokens: count });

  it('priceExchange asks calcPrice once per model and price, then gives the same results without it', () => {
    const results = cases.map((c) => priceExchange({ ...c, subscription: false, usage: { inputTokens: 300_000, outputTokens: 10 } }));
    for (const r of results) expect(r.usd).toBeGreaterThan(0);
    calcPrice.mockClear();
    const fast = cases.map((c) => priceExchange({ ...c, subscription: false, usage: { inputTokens: 300_000, outputTokens: 10 } }));
    expect(fast).toEqual(results);
    expect(calcPrice).not.toHaveBeenCalled();
    fc.assert(fc.property(usage, fc.constantFrom(...cases), (u, c) => {
      const input = { ...c, subscription: false, usage: u };
      const got = priceExchange(input);
      const before = calcPrice.mock.calls.length;
      // The reference: the package itself, by provider id, uncached.
      const reference = calcPrice({ ...toPriceUsage(input.usage, input.api, input.provider)! }, c.model!, { providerId: got.matchedProvider!, timestamp: new Date(c.at) });
      expect(calcPrice.mock.calls.length).toBe(before + 1);
      expect(got.usd).toBe(reference!.total_price);
    }), { numRuns: 300, seed: 7 });
  });

  it('--prices overrides still win over a model the fast path knows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-fast-price-'));
    const path = join(dir, 'prices.yaml');
    writeFileSync(path, 'prices:\n  - model: gpt-4o*\n    input_mtok: 1\n    output_mtok: 2\n');
    const overrides = loadPriceOverrides(path);
    const input = { ...cases[0]!, subscription: false, usage: { inputTokens: 1_000_000, outputTokens: 1_000_000 } };
    expect(priceExchange(input).source).toBe('api');
    const r = priceExchange(input, overrides);
    expect(r).toMatchObject({ usd: 3, source: 'override', matchedModel: 'gpt-4o*' });
    expect(priceExchange(input).usd).toBe(12.5);
  });
});

