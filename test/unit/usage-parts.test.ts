import { describe, expect, it } from 'vitest';
import { exchangeToJson } from '../../src/archive/export.js';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { rowUsage } from '../../src/cost/unpriced-reason.js';
import { makeExchange, type ApiKind, type ProviderId, type Usage } from '../../src/exchange.js';
import { archivedRequest } from '../../src/policy/archived-request.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { simulatePolicy } from '../../src/policy/simulate.js';
import { priceOf } from '../../src/recorder/row-cost.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/**
 * The parts of an exchange's usage with no column of their own (image and video tokens,
 * whisper-1's seconds, web and file searches, 1-hour cache writes) are kept in the row's
 * `usage_parts` (JSON), so what prices a row again prices it as it was recorded.
 */
const AT = Date.parse('2026-06-01');

function recorded(provider: ProviderId, api: ApiKind, model: string, host: string, usage: Usage) {
  const ex = makeExchange({ provider, api, target: { host, port: 443, tls: true }, timings: { start: AT }, request: { model, path: '/v1/x' } });
  ex.usage = usage;
  ex.outcome = 'completed';
  const row = exchangeToRow(ex);
  row.cost_usd = priceOf(ex, undefined)!.usd;
  return row;
}

const cases: [string, ProviderId, ApiKind, string, string, Usage][] = [
  ['a GPT image edit (image tokens in and out)', 'openai', 'images', 'gpt-image-1', 'api.openai.com', { inputTokens: 373, inputImageTokens: 323, outputTokens: 4160, outputImageTokens: 4160 }],
  ['an image Gemini drew', 'gemini', 'gemini.generateContent', 'gemini-2.5-flash-image', 'generativelanguage.googleapis.com', { inputTokens: 12, outputTokens: 1290, outputImageTokens: 1290 }],
  ['a Gemini prompt with a video and pictures', 'gemini', 'gemini.generateContent', 'gemini-3.1-flash-live-preview', 'generativelanguage.googleapis.com', { inputTokens: 5000, inputVideoTokens: 4000, inputImageTokens: 500, outputTokens: 200 }],
  ['a whisper-1 transcription (seconds of audio)', 'openai', 'audio.transcriptions', 'whisper-1', 'api.openai.com', { inputAudioSeconds: 42 }],
  ['a Claude answer with web searches and 1-hour cache writes', 'anthropic', 'messages', 'claude-sonnet-4-5', 'api.anthropic.com', { inputTokens: 100, cacheCreationInputTokens: 20_000, cacheCreation1hTokens: 15_000, webSearches: 3, outputTokens: 500 }],
  ['an OpenAI Responses answer with file searches', 'openai', 'responses', 'gpt-4o', 'api.openai.com', { inputTokens: 1000, outputTokens: 100, fileSearches: 2, webSearches: 1 }],
];

describe('the usage parts column', () => {
  it.each(cases)('%s: re-priced from its row, it costs what was recorded', (_, provider, api, model, host, usage) => {
    const row = recorded(provider, api, model, host, usage);
    expect(row.cost_usd).toBeGreaterThan(0);
    expect(row.usage_parts).not.toBeNull();
    const again = priceExchange({ provider, host, api, model, usage: rowUsage(row), at: AT, subscription: false });
    expect(again.usd).toBeCloseTo(row.cost_usd!, 12);
    // policy test reads the same usage back (its what-if prices of a route).
    expect(archivedRequest(row, new Map()).usage).toMatchObject(usage);
  });

  it('policy test: a route to the same model changes nothing in the what-if cost of an image edit', () => {
    const row = recorded('openai', 'images', 'gpt-image-1', 'api.openai.com', { inputTokens: 373, inputImageTokens: 323, outputTokens: 4160, outputImageTokens: 4160 });
    const policy = loadPolicyText('rules:\n  - {id: same, match: {model: gpt-image-1}, route: {model: gpt-image-1}}\n', 'p.yaml');
    const report = simulatePolicy(policy, [row], { price: (input) => priceExchange(input) });
    expect(report.totals.rerouted).toBe(1);
    expect(report.totals.routeCostDeltaUsd).toBeCloseTo(0, 12);
  });

  it('holds just the parts with no column, above 0; an ordinary row has none (null)', () => {
    const image = recorded('openai', 'images', 'gpt-image-1', 'api.openai.com', { inputTokens: 373, inputImageTokens: 323, outputTokens: 4160, outputImageTokens: 4160 });
    expect(JSON.parse(image.usage_parts!)).toEqual({ input_image_tokens: 323, output_image_tokens: 4160 });
    const claude = recorded('anthropic', 'messages', 'claude-sonnet-4-5', 'api.anthropic.com', { inputTokens: 10, outputTokens: 5, cacheCreation1hTokens: 0, webSearches: 0 });
    expect(claude.usage_parts).toBeNull();
    expect(recorded('openai', 'chat.completions', 'gpt-4o-mini', 'api.openai.com', { inputTokens: 10, outputTokens: 5 }).usage_parts).toBeNull();
  });

  it('a row from before the column (or with an unreadable one) reads as no parts', () => {
    const row = recorded('openai', 'images', 'gpt-image-1', 'api.openai.com', { inputTokens: 373, inputImageTokens: 323, outputTokens: 4160, outputImageTokens: 4160 });
    expect(rowUsage({ ...row, usage_parts: null })).toMatchObject({ inputTokens: 373, outputTokens: 4160 });
    expect(rowUsage({ ...row, usage_parts: null }).inputImageTokens).toBeUndefined();
    expect(rowUsage({ ...row, usage_parts: 'not json' }).outputImageTokens).toBeUndefined();
    const odd = rowUsage({ ...row, usage_parts: '{"output_image_tokens":"many","web_searches":2}' });
    expect([odd.webSearches, odd.outputImageTokens]).toEqual([2, undefined]);
  });

  it('export writes them beside the other counts (null when none were recorded)', () => {
    const row = recorded('anthropic', 'messages', 'claude-sonnet-4-5', 'api.anthropic.com', { inputTokens: 100, outputTokens: 50, webSearches: 3 });
    expect(exchangeToJson(row).usage).toMatchObject({ input_tokens: 100, output_tokens: 50, web_searches: 3, output_image_tokens: null, input_audio_seconds: null });
    const plain = exchangeToJson(recorded('openai', 'chat.completions', 'gpt-4o-mini', 'api.openai.com', { inputTokens: 10, outputTokens: 5 })).usage;
    expect(plain).toMatchObject({ input_image_tokens: null, output_image_tokens: null, input_video_tokens: null, input_audio_seconds: null, web_searches: null, file_searches: null, cache_creation_1h_tokens: null });
  });
});
