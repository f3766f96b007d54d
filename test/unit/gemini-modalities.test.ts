import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { priceExchange } from '../../src/cost/price-exchange.js';
import type { Usage } from '../../src/exchange.js';
import { parserFor } from '../../src/providers/registry.js';
import { readLiveUsage } from '../../src/websocket/gemini-live.js';

/**
 * Gemini's usageMetadata names each modality's tokens (promptTokensDetails,
 * candidatesTokensDetails / responseTokensDetails): audio, images and video are billed at
 * rates other than text's (an image Gemini draws costs 12 times a text token on
 * gemini-2.5-flash-image), so the price reads them, as @pydantic/genai-prices' own Google
 * reader does.
 */
const AT = Date.parse('2026-12-01T12:00:00Z');
const at = { providerId: 'google', timestamp: new Date(AT) };

function generateContent(usageMetadata: Record<string, unknown>, model = 'gemini-2.5-flash-image'): Usage | undefined {
  const reducer = parserFor('gemini.generateContent')!.createReducer('application/json');
  reducer.push(Buffer.from(JSON.stringify({ candidates: [{ content: { parts: [{ text: 'here' }], role: 'model' }, finishReason: 'STOP' }], usageMetadata, modelVersion: model })));
  return reducer.finish().usage;
}

function price(api: 'gemini.generateContent' | 'gemini.live', model: string, usage: Usage | undefined) {
  return priceExchange({ provider: 'gemini', host: 'generativelanguage.googleapis.com', api, model, usage, at: AT, subscription: false });
}

describe('Gemini generateContent: tokens per modality', () => {
  it('an image Gemini drew is priced at the model\'s image output rate, not its text rate', () => {
    const usage = generateContent({
      promptTokenCount: 12, candidatesTokenCount: 1290, totalTokenCount: 1302,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 12 }], candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: 1290 }],
    });
    expect(usage).toMatchObject({ inputTokens: 12, outputTokens: 1290, outputImageTokens: 1290 });
    const expected = calcPrice({ input_tokens: 12, output_tokens: 1290, output_image_tokens: 1290 }, 'gemini-2.5-flash-image', at)!.total_price;
    expect(expected).toBeCloseTo((12 * 0.3 + 1290 * 30) / 1e6, 12);
    expect(price('gemini.generateContent', 'gemini-2.5-flash-image', usage).usd).toBeCloseTo(expected, 12);
  });

  it('audio in the prompt is priced at the audio input rate; images and documents in it count as images', () => {
    const usage = generateContent({
      promptTokenCount: 1000, candidatesTokenCount: 10,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 100 }, { modality: 'AUDIO', tokenCount: 600 }, { modality: 'IMAGE', tokenCount: 200 }, { modality: 'DOCUMENT', tokenCount: 100 }],
    }, 'gemini-2.5-flash');
    expect(usage).toMatchObject({ inputTokens: 1000, inputAudioTokens: 600, inputImageTokens: 300 });
    const expected = calcPrice({ input_tokens: 1000, input_audio_tokens: 600, input_image_tokens: 300, output_tokens: 10 }, 'gemini-2.5-flash', at)!.total_price;
    expect(price('gemini.generateContent', 'gemini-2.5-flash', usage).usd).toBeCloseTo(expected, 12);
    expect(expected).toBeGreaterThan((1000 * 0.3 + 10 * 2.5) / 1e6);
  });

  it('a text-only answer keeps no modality fields (nothing to price apart), and a cached audio part is read', () => {
    const text = generateContent({ promptTokenCount: 31, candidatesTokenCount: 18, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 31 }], candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: 18 }] }, 'gemini-2.5-flash');
    expect(text).toEqual({ inputTokens: 31, outputTokens: 18 });
    const cached = generateContent({ promptTokenCount: 500, cachedContentTokenCount: 400, candidatesTokenCount: 1, promptTokensDetails: [{ modality: 'AUDIO', tokenCount: 500 }], cacheTokensDetails: [{ modality: 'AUDIO', tokenCount: 400 }] }, 'gemini-2.5-flash');
    expect(cached).toMatchObject({ inputAudioTokens: 500, cachedAudioTokens: 400 });
  });

  it('parts that add up to more than the prompt (an inconsistent server) are priced, never refused', () => {
    const usage = generateContent({ promptTokenCount: 100, candidatesTokenCount: 1, promptTokensDetails: [{ modality: 'AUDIO', tokenCount: 80 }, { modality: 'IMAGE', tokenCount: 80 }, { modality: 'VIDEO', tokenCount: 80 }] }, 'gemini-2.5-flash');
    const result = price('gemini.generateContent', 'gemini-2.5-flash', usage);
    expect(result.usd).not.toBeNull();
    expect(result.usd!).toBeLessThanOrEqual((100 * 1 + 1 * 2.5) / 1e6 + 1e-12);
  });
});

describe('Gemini Live: image and video input', () => {
  it('camera frames and screen shares are priced at the Live model\'s image and video rates', () => {
    const usage = readLiveUsage({
      promptTokenCount: 1000, responseTokenCount: 50,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 100 }, { modality: 'IMAGE', tokenCount: 300 }, { modality: 'VIDEO', tokenCount: 600 }],
      responseTokensDetails: [{ modality: 'TEXT', tokenCount: 50 }],
    });
    expect(usage).toMatchObject({ inputTokens: 1000, inputAudioTokens: 0, inputImageTokens: 300, inputVideoTokens: 600 });
    const expected = calcPrice({ input_tokens: 1000, input_image_tokens: 300, input_video_tokens: 600, output_tokens: 50 }, 'gemini-3.1-flash-live-preview', at)!.total_price;
    const textOnly = calcPrice({ input_tokens: 1000, output_tokens: 50 }, 'gemini-3.1-flash-live-preview', at)!.total_price;
    expect(expected).toBeGreaterThan(textOnly);
    expect(price('gemini.live', 'gemini-3.1-flash-live-preview', usage).usd).toBeCloseTo(expected, 12);
  });
});
