import { describe, expect, it } from 'vitest';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { unpricedReason, type UnpricedRow } from '../../src/cost/unpriced-reason.js';
import { BUILT_IN_DETECTORS } from '../../src/policy/detectors.js';
import { Placeholders, redactRequest } from '../../src/policy/redact-body.js';
import { identifyRequest, parserFor } from '../../src/providers/registry.js';
import { readConversation } from '../../src/sessions/conversation.js';

/**
 * OpenAI's Audio API: transcriptions and translations (multipart upload in; JSON, plain
 * text or `transcript.text.*` SSE out) and speech (JSON in; audio bytes or
 * `speech.audio.*` SSE out).
 */
const transcriptions = () => parserFor('audio.transcriptions')!;
const speech = () => parserFor('audio.speech')!;
const tokens = { type: 'tokens', input_tokens: 14, input_token_details: { text_tokens: 0, audio_tokens: 14 }, output_tokens: 45, total_tokens: 59 };

function reduce(api: 'audio.transcriptions' | 'audio.speech', answer: string | Buffer, contentType: string) {
  const reducer = parserFor(api)!.createReducer(contentType);
  const bytes = Buffer.isBuffer(answer) ? answer : Buffer.from(answer);
  for (let i = 0; i < bytes.length; i += 5) reducer.push(bytes.subarray(i, i + 5));
  return reducer.finish();
}

const sse = (events: object[]) => events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('');

async function upload(fields: Record<string, string>): Promise<{ body: Buffer; contentType: string }> {
  const data = new FormData();
  data.append('file', new Blob([Buffer.from('RIFF....WAVEfmt name="model"\r\n\r\nnot-this')], { type: 'audio/wav' }), 'hello.wav');
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  const request = new Request('http://x/', { method: 'POST', body: data });
  return { body: Buffer.from(await request.arrayBuffer()), contentType: request.headers.get('content-type')! };
}

describe('audio', () => {
  it('is identified: transcriptions and translations, speech', () => {
    expect(identifyRequest('api.openai.com', 443, '/v1/audio/transcriptions')).toEqual({ provider: 'openai', api: 'audio.transcriptions' });
    expect(identifyRequest('api.openai.com', 443, '/v1/audio/translations')).toEqual({ provider: 'openai', api: 'audio.transcriptions' });
    expect(identifyRequest('api.openai.com', 443, '/v1/audio/speech')).toEqual({ provider: 'openai', api: 'audio.speech' });
    expect(identifyRequest('api.groq.com', 443, '/openai/v1/audio/transcriptions')).toEqual({ provider: 'groq', api: 'audio.transcriptions' });
  });

  it('reads a transcription\'s model and stream flag from its form fields, never from the audio', async () => {
    const plain = await upload({ model: 'gpt-4o-transcribe', response_format: 'json' });
    expect(transcriptions().parseRequest(plain.body, plain.contentType)).toEqual({ model: 'gpt-4o-transcribe', stream: false });
    const streamed = await upload({ model: 'gpt-4o-mini-transcribe', stream: 'true' });
    expect(transcriptions().parseRequest(streamed.body, streamed.contentType)).toEqual({ model: 'gpt-4o-mini-transcribe', stream: true });
    expect(transcriptions().parseRequest(Buffer.from('{"model":"whisper-1"}'), 'application/json')).toEqual({});
  });

  it('reads the transcript and its usage: JSON (tokens, or whisper-1\'s duration), plain text, SSE', () => {
    expect(reduce('audio.transcriptions', JSON.stringify({ text: 'Hello there.', usage: tokens }), 'application/json'))
      .toMatchObject({ text: 'Hello there.', usage: { inputTokens: 14, inputAudioTokens: 14, outputTokens: 45 } });
    const whisper = reduce('audio.transcriptions', JSON.stringify({ task: 'transcribe', language: 'english', duration: 8.47, text: 'Hi.', segments: [], usage: { type: 'duration', seconds: 9 } }), 'application/json');
    expect(whisper).toMatchObject({ text: 'Hi.', usage: { inputAudioSeconds: 9 } });
    const srt = '1\n00:00:00,000 --> 00:00:01,500\nHello there.\n';
    expect(reduce('audio.transcriptions', srt, 'text/plain; charset=utf-8')).toMatchObject({ text: srt.slice(0, -1) });
    expect(reduce('audio.transcriptions', srt, 'text/plain').usage).toBeUndefined();
    const streamed = reduce('audio.transcriptions', sse([
      { type: 'transcript.text.delta', delta: 'Hello', logprobs: [] }, { type: 'transcript.text.delta', delta: ' there — ça va.' },
      { type: 'transcript.text.done', text: 'Hello there — ça va.', usage: tokens },
    ]), 'text/event-stream');
    expect(streamed).toMatchObject({ text: 'Hello there — ça va.', events: 3, usage: { inputTokens: 14, outputTokens: 45, inputAudioTokens: 14 } });
    // Cut before `done`: the deltas so far.
    expect(reduce('audio.transcriptions', sse([{ type: 'transcript.text.delta', delta: 'Hel' }]), 'text/event-stream').text).toBe('Hel');
  });

  it('reads speech: model and SSE flag from the JSON; audio bytes described, never kept as text; the SSE usage', () => {
    expect(speech().parseRequest(Buffer.from(JSON.stringify({ model: 'gpt-4o-mini-tts', input: 'Hi', voice: 'coral', stream_format: 'sse' })))).toEqual({ model: 'gpt-4o-mini-tts', stream: true });
    expect(speech().parseRequest(Buffer.from(JSON.stringify({ model: 'tts-1', input: 'Hi', voice: 'alloy' })))).toEqual({ model: 'tts-1', stream: false });
    expect(reduce('audio.speech', Buffer.alloc(4800, 0xff), 'audio/mpeg')).toEqual({ text: 'audio/mpeg, 4800 bytes', toolCalls: [], events: 0 });
    expect(reduce('audio.speech', '{"error":{"message":"bad voice"}}', 'application/json').text).toBe('');
    const chunk = Buffer.alloc(1000, 7).toString('base64');
    const streamed = reduce('audio.speech', sse([{ type: 'speech.audio.delta', audio: chunk }, { type: 'speech.audio.delta', audio: chunk }, { type: 'speech.audio.done', usage: { input_tokens: 14, output_tokens: 101, total_tokens: 115 } }]), 'text/event-stream');
    expect(streamed).toMatchObject({ text: 'audio, 2000 bytes', events: 3, usage: { inputTokens: 14, outputTokens: 101 } });
  });

  it('prices tokens and whisper-1\'s duration where the price list can; tts-1 and usage-less answers unpriced, saying why', () => {
    const at = Date.parse('2026-06-01');
    const price = (api: string, model: string, usage: object) => priceExchange({ provider: 'openai', host: 'api.openai.com', api, model, usage, at, subscription: false });
    // gpt-4o-transcribe: audio input $6/M, text output $10/M.
    expect(price('audio.transcriptions', 'gpt-4o-transcribe', { inputTokens: 14, inputAudioTokens: 14, outputTokens: 45 }).usd).toBeCloseTo((14 * 6 + 45 * 10) / 1e6, 9);
    // whisper-1: $0.36 an hour of audio.
    expect(price('audio.transcriptions', 'whisper-1', { inputAudioSeconds: 60 }).usd).toBeCloseTo(0.006, 9);
    // gpt-4o-mini-tts: $0.60/M input, $12/M output.
    expect(price('audio.speech', 'gpt-4o-mini-tts', { inputTokens: 14, outputTokens: 101 }).usd).toBeCloseTo((14 * 0.6 + 101 * 12) / 1e6, 9);
    const row = (api: string, model: string): UnpricedRow => ({
      cost_usd: null, cost_source: null, status: 200, provider: 'openai', host: 'api.openai.com', port: 443, tls: 1, path: '/v1/audio/x', api,
      model, policy: null, started_at: at, input_tokens: null, output_tokens: null, cached_input_tokens: null, reasoning_tokens: null,
      cache_creation_input_tokens: null, input_audio_tokens: null, cached_audio_input_tokens: null, output_audio_tokens: null,
    });
    const reason = (r: UnpricedRow) => unpricedReason(r, (input) => priceExchange(input));
    expect(reason(row('audio.speech', 'tts-1-hd'))).toBe('tts-1-hd bills per character of input, which llmtap does not price: the price list has no per-character rates');
    expect(reason(row('audio.speech', 'gpt-4o-mini-tts'))).toBe('the answer is audio and reports no usage (only stream_format "sse" ends with one), so gpt-4o-mini-tts is not priced');
    expect(reason(row('audio.transcriptions', 'whisper-1'))).toMatch(/^the answer reports no usage \(a transcript as text, srt or vtt carries none/);
  });

  it('redaction reads the text to speak and the instructions; show reads them with the voice', () => {
    const body = { model: 'gpt-4o-mini-tts', input: 'Call a@x.io', voice: 'coral', instructions: 'Whisper to b@x.io' };
    const hits = redactRequest('audio.speech', body, Object.values(BUILT_IN_DETECTORS), new Placeholders(), true);
    expect(hits.map((h) => h.at)).toEqual(['input', 'instructions']);
    expect(readConversation('audio.speech', { model: 'tts-1', input: 'Good morning', voice: 'alloy', instructions: 'cheerful' }))
      .toEqual({ system: 'cheerful', tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: 'Good morning' }, { type: 'other', kind: 'voice alloy' }] }] });
  });
});
