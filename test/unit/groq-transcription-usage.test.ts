import { describe, expect, it } from 'vitest';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { unpricedReason, type UnpricedRow } from '../../src/cost/unpriced-reason.js';
import { parserFor } from '../../src/providers/registry.js';

/**
 * Groq's speech to text (/openai/v1/audio/transcriptions, /translations): OpenAI's Audio API
 * shape, billed by the hour of audio (at least 10 seconds a request), which only a
 * `verbose_json` answer reports, as its `duration` in seconds; `json` is `{text, x_groq: {id}}`.
 */
function reduce(answer: string, contentType = 'application/json') {
  const reducer = parserFor('audio.transcriptions')!.createReducer(contentType);
  const bytes = Buffer.from(answer);
  for (let i = 0; i < bytes.length; i += 6) reducer.push(bytes.subarray(i, i + 6));
  return reducer.finish();
}

const at = Date.parse('2026-01-01');
const price = (model: string, seconds: number) => priceExchange({ provider: 'groq', host: 'api.groq.com', api: 'audio.transcriptions', model, usage: { inputAudioSeconds: seconds }, at, subscription: false });

describe('Groq transcription usage', () => {
  it('reads a verbose_json answer\'s duration as the audio\'s seconds', () => {
    const verbose = { task: 'transcribe', language: 'English', duration: 42.5, text: 'Hello from Groq.', segments: [{ id: 0, start: 0, end: 42.5, text: 'Hello from Groq.' }], x_groq: { id: 'req_01' } };
    expect(reduce(JSON.stringify(verbose))).toMatchObject({ text: 'Hello from Groq.', usage: { inputAudioSeconds: 42.5 } });
    // A usage the answer reports itself (OpenAI's whisper-1) comes first.
    expect(reduce(JSON.stringify({ ...verbose, usage: { type: 'duration', seconds: 43 } })).usage).toEqual({ inputAudioSeconds: 43 });
    // `json` names no duration: no usage.
    expect(reduce(JSON.stringify({ text: 'Hello from Groq.', x_groq: { id: 'req_02' } })).usage).toBeUndefined();
    expect(reduce(JSON.stringify({ text: 'x', duration: -1 })).usage).toBeUndefined();
  });

  it('is priced at Groq\'s hourly rates, a short clip billed as 10 seconds', () => {
    expect(price('whisper-large-v3', 3600)).toMatchObject({ matchedProvider: 'groq' });
    expect(price('whisper-large-v3', 3600).usd).toBeCloseTo(0.111, 9);
    expect(price('whisper-large-v3-turbo', 3).usd).toBeCloseTo((10 / 3600) * 0.04, 12);
  });

  it('an answer without a duration (json, text) is unpriced with a reason that says what Groq bills and where it is reported', () => {
    const row: UnpricedRow = {
      cost_usd: null, cost_source: null, status: 200, provider: 'groq', host: 'api.groq.com', port: 443, tls: 1, path: '/openai/v1/audio/transcriptions', api: 'audio.transcriptions',
      model: 'whisper-large-v3-turbo', policy: null, started_at: at, input_tokens: null, output_tokens: null, cached_input_tokens: null, reasoning_tokens: null,
      cache_creation_input_tokens: null, input_audio_tokens: null, cached_audio_input_tokens: null, output_audio_tokens: null,
    };
    expect(unpricedReason(row, (input) => priceExchange(input))).toBe('Groq bills transcription by the audio\'s length, which only a verbose_json answer reports (its duration): this answer (json, text) has none, so whisper-large-v3-turbo is not priced');
  });
});
