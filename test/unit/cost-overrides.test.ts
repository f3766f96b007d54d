import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config-error.js';
import { GENAI_PRICES_VERSION, priceExchange, type PriceInput } from '../../src/cost/price-exchange.js';
import { loadPriceOverrides, type PriceOverrides } from '../../src/cost/price-overrides.js';

const dir = mkdtempSync(join(tmpdir(), 'llmtap-prices-'));
let n = 0;
function file(text: string, ext = 'yaml'): string {
  const path = join(dir, `prices-${++n}.${ext}`);
  writeFileSync(path, text);
  return path;
}
function errorOf(path: string): string {
  try {
    loadPriceOverrides(path);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ConfigError');
}

const NOW = Date.parse('2026-06-01T00:00:00Z');
function price(overrides: PriceOverrides, parts: Partial<PriceInput>): ReturnType<typeof priceExchange> {
  return priceExchange({ host: 'api.anthropic.com', provider: 'anthropic', api: 'messages', at: NOW, subscription: false, ...parts }, overrides);
}

describe('--prices overrides', () => {
  const overrides = loadPriceOverrides(file(`# negotiated rates
prices:
  - provider: anthropic
    model: claude-sonnet-4*
    input_mtok: 2.5
    output_mtok: 12
    cache_read_mtok: 0.25
    cache_write_mtok: 3
  - provider: anthropic
    model: claude-sonnet-4*
    input_mtok: 2
    output_mtok: 10
    from: 2026-09-01
  - model: acme-??b
    input_mtok: 0.5
    output_mtok: 1
`));

  it('a glob rate wins over the package, with cache rates of its own', () => {
    const r = price(overrides, { model: 'claude-sonnet-4-20250514', usage: { inputTokens: 100, cachedInputTokens: 10_000, cacheCreationInputTokens: 2_000, outputTokens: 1_000 } });
    expect(r.usd).toBeCloseTo((100 * 2.5 + 10_000 * 0.25 + 2_000 * 3 + 1_000 * 12) / 1e6, 12);
    expect(r).toMatchObject({ source: 'override', matchedProvider: 'anthropic', matchedModel: 'claude-sonnet-4*' });
    expect(r.pricesVersion).toMatch(new RegExp(`^${GENAI_PRICES_VERSION.replace(/\./g, '\\.')}\\+prices:[0-9a-f]{12}$`));
  });

  it('the rate with the latest `from` on or before the exchange applies; cache reads default to the input rate', () => {
    const usage = { inputTokens: 100, cachedInputTokens: 1_000, outputTokens: 100 };
    const later = price(overrides, { model: 'claude-sonnet-4-5', usage, at: Date.parse('2026-09-01T00:00:00Z') });
    expect(later.usd).toBeCloseTo((1_100 * 2 + 100 * 10) / 1e6, 12);
    const earlier = price(overrides, { model: 'claude-sonnet-4-5', usage, at: Date.parse('2026-08-31T23:59:59Z') });
    expect(earlier.usd).toBeCloseTo((100 * 2.5 + 1_000 * 0.25 + 100 * 12) / 1e6, 12);
  });

  it('a rule for one provider leaves the others to the package', () => {
    // Claude Sonnet 4 on Bedrock at list price: $3/M input, $15/M output.
    const r = price(overrides, { provider: 'bedrock', host: 'bedrock-runtime.us-east-1.amazonaws.com', api: 'bedrock.converse', model: 'us.anthropic.claude-sonnet-4-20250514-v1:0', usage: { inputTokens: 1_000, outputTokens: 1_000 } });
    expect(r.source).toBe('api');
    expect(r.usd).toBeCloseTo((1_000 * 3 + 1_000 * 15) / 1e6, 12);
  });

  it('adds models the package does not know, even on a local gateway', () => {
    const r = price(overrides, { provider: 'openai-compatible', host: '10.1.2.3', api: 'chat.completions', model: 'ACME-70b', usage: { inputTokens: 2_000, cachedInputTokens: 1_000, outputTokens: 500 } });
    // Chat Completions counts the cached tokens inside prompt_tokens: 2,000 prompt tokens in all.
    expect(r.usd).toBeCloseTo((2_000 * 0.5 + 500 * 1) / 1e6, 12);
    expect(price(overrides, { provider: 'openai-compatible', host: '10.1.2.3', api: 'chat.completions', model: 'acme-700b', usage: { inputTokens: 1 } }).usd).toBeNull();
  });

  it('subscription traffic at an override rate stays api_equivalent', () => {
    const r = price(overrides, { model: 'claude-sonnet-4-20250514', usage: { inputTokens: 1_000, outputTokens: 0 }, subscription: true });
    expect(r.source).toBe('api_equivalent');
    expect(r.usd).toBeCloseTo(1_000 * 2.5 / 1e6, 12);
  });

  it('per-call fees and 1-hour cache writes at the rule\'s rates; a fee the rule has no rate for leaves the exchange unpriced', () => {
    const fees = loadPriceOverrides(file(`prices:
  - provider: openai
    model: gpt-4.1
    input_mtok: 1
    output_mtok: 4
    web_searches_kcount: 8
  - provider: openai
    model: gpt-4.1-mini
    input_mtok: 1
    output_mtok: 4
    web_searches_kcount: 8
    file_searches_kcount: 2
  - provider: anthropic
    model: claude-opus-4*
    input_mtok: 10
    output_mtok: 50
    cache_write_mtok: 12
    cache_write_1h_mtok: 20
  - provider: anthropic
    model: claude-haiku-4*
    input_mtok: 1
    output_mtok: 5
    cache_write_mtok: 1.25
`));
    const openai = { provider: 'openai', host: 'api.openai.com', api: 'responses' };
    const searched = { inputTokens: 1_000, outputTokens: 100, webSearches: 2, fileSearches: 1 };
    expect(price(fees, { ...openai, model: 'gpt-4.1-mini', usage: searched }).usd).toBeCloseTo((1_000 * 1 + 100 * 4) / 1e6 + 2 * 8 / 1e3 + 2 / 1e3, 12);
    expect(price(fees, { ...openai, model: 'gpt-4.1', usage: { ...searched, fileSearches: 0 } }).usd).toBeCloseTo((1_000 * 1 + 100 * 4) / 1e6 + 2 * 8 / 1e3, 12);
    expect(price(fees, { ...openai, model: 'gpt-4.1', usage: searched })).toMatchObject({ usd: null, reason: 'the --prices rule for "gpt-4.1" has no rate for file searches (file_searches_kcount)' });
    const writes = { inputTokens: 10, cacheCreationInputTokens: 3_000, cacheCreation1hTokens: 1_000, outputTokens: 100 };
    expect(price(fees, { model: 'claude-opus-4-5', usage: writes }).usd).toBeCloseTo((10 * 10 + 2_000 * 12 + 1_000 * 20 + 100 * 50) / 1e6, 12);
    // No 1-hour rate in the rule: its cache write rate, the user's negotiated one.
    expect(price(fees, { model: 'claude-haiku-4-5', usage: writes }).usd).toBeCloseTo((10 * 1 + 3_000 * 1.25 + 100 * 5) / 1e6, 12);
  });

  it('prices audio, image and video tokens at a rule\'s own rates for them; without one, at its text rates', () => {
    const media = loadPriceOverrides(file(`
prices:
  - provider: gemini
    model: gemini-live-*
    input_mtok: 0.5
    output_mtok: 2
    input_audio_mtok: 3
    output_audio_mtok: 12
    input_image_mtok: 1
    input_video_mtok: 1.5
    cache_read_mtok: 0.05
    cache_audio_read_mtok: 0.3
  - provider: openai
    model: gpt-image-*
    input_mtok: 5
    output_mtok: 40
    input_image_mtok: 10
    output_image_mtok: 40
  - provider: openai
    model: gpt-4o-audio-*
    input_mtok: 2.5
    output_mtok: 10
`));
    const live = { provider: 'gemini', host: 'generativelanguage.googleapis.com', api: 'gemini.live', model: 'gemini-live-2.5-flash-preview' };
    // 10k prompt tokens: 2k cached (1k of them audio), 4k audio in all, 1k image, 2k video; 500 out, 300 of them audio.
    const usage = { inputTokens: 10_000, cachedInputTokens: 2_000, cachedAudioTokens: 1_000, inputAudioTokens: 4_000, inputImageTokens: 1_000, inputVideoTokens: 2_000, outputTokens: 500, outputAudioTokens: 300 };
    const text = 10_000 - 2_000 - 3_000 - 1_000 - 2_000;
    expect(price(media, { ...live, usage }).usd).toBeCloseTo((text * 0.5 + 3_000 * 3 + 1_000 * 1 + 2_000 * 1.5 + 1_000 * 0.05 + 1_000 * 0.3 + 200 * 2 + 300 * 12) / 1e6, 12);
    const image = { provider: 'openai', host: 'api.openai.com', api: 'images', model: 'gpt-image-1' };
    expect(price(media, { ...image, usage: { inputTokens: 373, inputImageTokens: 323, outputTokens: 4160, outputImageTokens: 4160 } }).usd).toBeCloseTo((50 * 5 + 323 * 10 + 4160 * 40) / 1e6, 12);
    // No audio rates in the rule: audio at its text rates, as before these keys.
    const chat = { provider: 'openai', host: 'api.openai.com', api: 'chat.completions', model: 'gpt-4o-audio-preview' };
    expect(price(media, { ...chat, usage: { inputTokens: 1_000, inputAudioTokens: 800, outputTokens: 100, outputAudioTokens: 100 } }).usd).toBeCloseTo((1_000 * 2.5 + 100 * 10) / 1e6, 12);
  });

  it('reads JSON too', () => {
    const json = loadPriceOverrides(file('{ "prices": [ { "model": "gpt-4o", "input_mtok": 1, "output_mtok": 4 } ] }', 'json'));
    const r = priceExchange({ provider: 'openai', host: 'api.openai.com', api: 'chat.completions', model: 'gpt-4o', usage: { inputTokens: 1_000, outputTokens: 1_000 }, at: NOW, subscription: false }, json);
    expect(r.usd).toBeCloseTo((1_000 * 1 + 1_000 * 4) / 1e6, 12);
  });
});

describe('--prices file errors: one line naming file, line and key', () => {
  it('a wrong type', () => {
    const path = file('prices:\n  - model: gpt-4o\n    output_mtok: 4\n    input_mtok: cheap\n');
    expect(errorOf(path)).toBe(`${path}:4: prices[0].input_mtok: must be a number`);
  });

  it('an unknown key, at the line it is written', () => {
    const path = file('prices:\n  - model: gpt-4o\n    input_mtok: 1\n    output_mtok: 4\n    cache_mtok: 1\n');
    expect(errorOf(path)).toBe(`${path}:5: prices[0].cache_mtok: unknown key (known: provider, model, input_mtok, output_mtok, cache_read_mtok, cache_write_mtok, cache_write_1h_mtok, input_audio_mtok, output_audio_mtok, cache_audio_read_mtok, input_image_mtok, output_image_mtok, input_video_mtok, web_searches_kcount, file_searches_kcount, from)`);
    const top = file('prices: []\nrates: []\n');
    expect(errorOf(top)).toBe(`${top}:2: rates: unknown key (known: prices)`);
  });

  it('a missing key, a negative rate, a bad date, an unknown provider', () => {
    const missing = file('prices:\n  - model: gpt-4o\n    input_mtok: 1\n');
    expect(errorOf(missing)).toBe(`${missing}:2: prices[0].output_mtok: is required`);
    const negative = file('prices:\n  - model: a\n    input_mtok: 1\n    output_mtok: 1\n  - model: b\n    input_mtok: -1\n    output_mtok: 1\n');
    expect(errorOf(negative)).toBe(`${negative}:6: prices[1].input_mtok: must be a number >= 0`);
    const date = file('prices:\n  - model: a\n    input_mtok: 1\n    output_mtok: 1\n    from: 2026-02-30\n');
    expect(errorOf(date)).toBe(`${date}:5: prices[0].from: "2026-02-30" is not a calendar day (YYYY-MM-DD)`);
    const provider = file('prices:\n  - model: a\n    provider: antropic\n    input_mtok: 1\n    output_mtok: 1\n');
    expect(errorOf(provider)).toMatch(new RegExp(`^${path(provider)}:3: prices\\[0\\]\\.provider: must be an llmtap provider id \\(openai, anthropic, `));
  });

  it('syntax errors, an empty file, an unreadable file', () => {
    const json = file('{ "prices": [\n  { "model": "a", }\n', 'json');
    expect(errorOf(json)).toMatch(new RegExp(`^${path(json)}:\\d+: `));
    const yaml = file('prices:\n  - model: a\n   input_mtok: 1\n');
    expect(errorOf(yaml)).toMatch(new RegExp(`^${path(yaml)}:3: `));
    const empty = file('');
    expect(errorOf(empty)).toBe(`${empty}:1: (top level): must be a mapping`);
    const duplicate = file('prices: []\nprices: []\n');
    expect(errorOf(duplicate)).toMatch(new RegExp(`^${path(duplicate)}:2: .*[Uu]nique`));
    expect(errorOf(join(dir, 'absent.yaml'))).toBe(`${join(dir, 'absent.yaml')}: cannot read (ENOENT)`);
  });
});

function path(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
