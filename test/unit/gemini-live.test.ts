import { describe, expect, it } from 'vitest';
import type { ResponsePart } from '../../src/exchange.js';
import { createWsReducer, reduceWebSocketMessages, wsPayloadText, type WsTextMessage } from '../../src/websocket/reduce.js';
import { liveCloseStop, liveModelName, readLiveSetup, readLiveUsage } from '../../src/websocket/gemini-live.js';

/**
 * Gemini Live (BidiGenerateContent over WebSocket) as the documented wire format has it:
 * the client's `setup` first, then `clientContent` / `realtimeInput` / `toolResponse`;
 * the server's `setupComplete`, `serverContent` chunks, `toolCall`, and a `usageMetadata`
 * snapshot per model turn (each turn re-reads the session's context: its prompt count
 * grows turn by turn, and every turn is billed).
 */
const client = (body: unknown): WsTextMessage => ({ direction: 'client', text: JSON.stringify(body) });
const server = (body: unknown): WsTextMessage => ({ direction: 'server', text: JSON.stringify(body) });

const SETUP = client({
  setup: {
    model: 'models/gemini-live-2.5-flash-preview',
    generationConfig: { responseModalities: ['TEXT'], temperature: 0.2 },
    systemInstruction: { parts: [{ text: 'Answer briefly.' }] },
    tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } }] }],
  },
});

/** A two-turn session: a tool call answered, then a text answer in chunks; usage per model turn. */
const SESSION: WsTextMessage[] = [
  SETUP,
  server({ setupComplete: {} }),
  client({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }], turnComplete: true } }),
  server({ toolCall: { functionCalls: [{ id: 'fc_1', name: 'get_weather', args: { city: 'Paris' } }] } }),
  server({ usageMetadata: { promptTokenCount: 40, responseTokenCount: 8, totalTokenCount: 48, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 40 }], responseTokensDetails: [{ modality: 'TEXT', tokenCount: 8 }] } }),
  client({ toolResponse: { functionResponses: [{ id: 'fc_1', name: 'get_weather', response: { output: { sky: 'sunny' } } }] } }),
  server({ serverContent: { modelTurn: { parts: [{ text: 'Thinking about the sky', thought: true }] } } }),
  server({ serverContent: { modelTurn: { parts: [{ text: 'It is ' }] } } }),
  server({ serverContent: { modelTurn: { parts: [{ text: 'sunny in Paris.' }] } } }),
  server({ serverContent: { generationComplete: true } }),
  server({
    serverContent: { turnComplete: true },
    usageMetadata: { promptTokenCount: 70, cachedContentTokenCount: 20, responseTokenCount: 6, thoughtsTokenCount: 5, totalTokenCount: 81, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 70 }], responseTokensDetails: [{ modality: 'TEXT', tokenCount: 6 }] },
  }),
];

describe('Gemini Live: the setup and its model', () => {
  it('names the model without its resource prefix (Gemini API and Vertex AI forms)', () => {
    expect(liveModelName('models/gemini-2.0-flash-live-001')).toBe('gemini-2.0-flash-live-001');
    expect(liveModelName('projects/p/locations/us-central1/publishers/google/models/gemini-live-2.5-flash')).toBe('gemini-live-2.5-flash');
    expect(liveModelName('gemini-live-2.5-flash-preview')).toBe('gemini-live-2.5-flash-preview');
    expect(liveModelName('')).toBeUndefined();
    expect(liveModelName(7)).toBeUndefined();
  });

  it('reads the setup message (also a prefix cut at the capture limit), nothing else', () => {
    expect(readLiveSetup({ text: SETUP.text, truncated: false })?.model).toBe('gemini-live-2.5-flash-preview');
    expect(readLiveSetup({ text: '{"setup":{"model":"models/gemini-2.0-flash-live-001","systemInstruction":{"parts":[{"text":"aaaa', truncated: true })?.model).toBe('gemini-2.0-flash-live-001');
    expect(readLiveSetup({ text: '{"clientContent":{"turns":[]}}', truncated: false })).toBeUndefined();
    expect(readLiveSetup({ text: '{"realtimeInput":{"text":"setup"}}', truncated: false })).toBeUndefined();
    expect(readLiveSetup({ text: 'nope', truncated: false })).toBeUndefined();
  });
});

describe('Gemini Live: usageMetadata', () => {
  it('reads the Live names (responseTokenCount), Vertex\'s candidatesTokenCount, thoughts, cache, tool-use prompts and the audio parts', () => {
    expect(readLiveUsage({ promptTokenCount: 10, responseTokenCount: 4, thoughtsTokenCount: 2, cachedContentTokenCount: 3, toolUsePromptTokenCount: 5 })).toEqual({ inputTokens: 15, outputTokens: 4, reasoningTokens: 2, cachedInputTokens: 3 });
    expect(readLiveUsage({ promptTokenCount: 10, candidatesTokenCount: 4 })).toEqual({ inputTokens: 10, outputTokens: 4 });
    expect(readLiveUsage({
      promptTokenCount: 300, responseTokenCount: 120, cachedContentTokenCount: 50,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 100 }, { modality: 'AUDIO', tokenCount: 200 }],
      cacheTokensDetails: [{ modality: 'AUDIO', tokenCount: 40 }, { modality: 'TEXT', tokenCount: 10 }],
      responseTokensDetails: [{ modality: 'AUDIO', tokenCount: 120 }],
    })).toEqual({ inputTokens: 300, outputTokens: 120, cachedInputTokens: 50, inputAudioTokens: 200, cachedAudioTokens: 40, outputAudioTokens: 120 });
    // Details that name no audio say there was none: 0, not unknown (the price then knows the text rate applies).
    expect(readLiveUsage({ promptTokenCount: 9, responseTokenCount: 1, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 9 }], responseTokensDetails: [{ modality: 'TEXT', tokenCount: 1 }] }))
      .toEqual({ inputTokens: 9, outputTokens: 1, inputAudioTokens: 0, outputAudioTokens: 0 });
    expect(readLiveUsage({})).toBeUndefined();
    expect(readLiveUsage(undefined)).toBeUndefined();
  });
});

describe('Gemini Live: a session reduced', () => {
  it('gives the model, the text in order, thinking, the tool call, usage summed over its model turns, one part per turn', () => {
    const parts: ResponsePart[] = [];
    const reducer = createWsReducer('gemini.live', (part) => parts.push(part));
    for (const m of SESSION) reducer.push(m);
    const out = reducer.finish()!;
    expect(out.model).toBe('gemini-live-2.5-flash-preview');
    expect(out.text).toBe('It is sunny in Paris.');
    expect(out.thinking).toBe('Thinking about the sky');
    expect(out.toolCalls).toEqual([{ id: 'fc_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    expect(out.usage).toEqual({ inputTokens: 110, outputTokens: 14, cachedInputTokens: 20, reasoningTokens: 5, inputAudioTokens: 0, outputAudioTokens: 0 });
    expect(out.responses).toEqual([
      { model: 'gemini-live-2.5-flash-preview', usage: { inputTokens: 40, outputTokens: 8, inputAudioTokens: 0, outputAudioTokens: 0 } },
      { model: 'gemini-live-2.5-flash-preview', usage: { inputTokens: 70, outputTokens: 6, cachedInputTokens: 20, reasoningTokens: 5, inputAudioTokens: 0, outputAudioTokens: 0 } },
    ]);
    expect(out.stopReason).toBe('turn_complete');
    // Each model turn is told as it ends, with its own usage (budgets charge it then).
    expect(parts).toEqual(out.responses);
    expect(out.events).toBe(8);
    // Its turns when read back (sessions count them).
    expect(out.requests).toBe(2);
  });

  it('takes a turn\'s last usage snapshot when several come (cumulative within the turn), never their sum', () => {
    const out = reduceWebSocketMessages('gemini.live', [
      SETUP,
      client({ realtimeInput: { text: 'hi' } }),
      server({ serverContent: { modelTurn: { parts: [{ text: 'Hel' }] } }, usageMetadata: { promptTokenCount: 10, responseTokenCount: 1 } }),
      server({ serverContent: { modelTurn: { parts: [{ text: 'lo' }] } }, usageMetadata: { promptTokenCount: 10, responseTokenCount: 2 } }),
      server({ serverContent: { turnComplete: true }, usageMetadata: { promptTokenCount: 10, responseTokenCount: 3 } }),
    ])!;
    expect(out.text).toBe('Hello');
    expect(out.usage).toEqual({ inputTokens: 10, outputTokens: 3 });
    expect(out.responses).toHaveLength(1);
  });

  it('reads an audio answer by its output transcription; an interrupted turn says so', () => {
    const out = reduceWebSocketMessages('gemini.live', [
      SETUP,
      client({ realtimeInput: { audio: { data: 'AAAA', mimeType: 'audio/pcm;rate=16000' } } }),
      server({ serverContent: { inputTranscription: { text: 'what time is it' } } }),
      server({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data: 'AAAA' } }] }, outputTranscription: { text: 'It is ' } } }),
      server({ serverContent: { outputTranscription: { text: 'noon.' } } }),
      server({ serverContent: { interrupted: true } }),
      server({ usageMetadata: { promptTokenCount: 30, responseTokenCount: 25, promptTokensDetails: [{ modality: 'AUDIO', tokenCount: 30 }], responseTokensDetails: [{ modality: 'AUDIO', tokenCount: 25 }] } }),
    ])!;
    expect(out.text).toBe('It is noon.');
    expect(out.stopReason).toBe('interrupted');
    expect(out.usage).toEqual({ inputTokens: 30, outputTokens: 25, inputAudioTokens: 30, outputAudioTokens: 25 });
  });

  it('keeps what a cut session said: text so far, no usage when none came, and tells no turn that never ended', () => {
    const parts: ResponsePart[] = [];
    const reducer = createWsReducer('gemini.live', (part) => parts.push(part));
    for (const m of [SETUP, server({ setupComplete: {} }), client({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'Tell me a story' }] }], turnComplete: true } }), server({ serverContent: { modelTurn: { parts: [{ text: 'Once upon' }] } } })]) reducer.push(m);
    const out = reducer.finish()!;
    expect(out).toMatchObject({ model: 'gemini-live-2.5-flash-preview', text: 'Once upon', toolCalls: [] });
    expect(out.usage).toBeUndefined();
    expect(out.stopReason).toBeUndefined();
    expect(parts).toEqual([]);
  });

  it('a session with only its setup names the model; one with nothing readable is undefined', () => {
    expect(reduceWebSocketMessages('gemini.live', [SETUP])).toMatchObject({ model: 'gemini-live-2.5-flash-preview', text: '', toolCalls: [] });
    expect(reduceWebSocketMessages('gemini.live', [{ direction: 'server', text: 'garbage' }])).toBeUndefined();
  });
});

describe('Gemini Live: JSON sent in binary frames', () => {
  it('is read as text for Live (the server sends its messages as binary frames), never for other APIs', () => {
    const json = Buffer.from('{"setupComplete":{}}');
    expect(wsPayloadText('gemini.live', 2, json)).toBe('{"setupComplete":{}}');
    expect(wsPayloadText('gemini.live', 2, Buffer.from([0xff, 0x00, 0x01]))).toBeUndefined();
    expect(wsPayloadText('realtime', 2, json)).toBeUndefined();
    expect(wsPayloadText('realtime', 1, json)).toBe('{"setupComplete":{}}');
  });
});

describe('Gemini Live: the upgrade path', () => {
  it('is gemini.live for BidiGenerateContent under /ws/ (v1beta, v1alpha, ephemeral tokens, Vertex AI), nothing else', async () => {
    const { identifyWsApi } = await import('../../src/proxy/upgrade.js');
    expect(identifyWsApi('/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=AIzaSECRET', 'gemini')).toBe('gemini.live');
    expect(identifyWsApi('/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent', 'gemini')).toBe('gemini.live');
    expect(identifyWsApi('/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained?access_token=auth_tokens/abc', 'gemini')).toBe('gemini.live');
    expect(identifyWsApi('/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent', 'vertex-ai')).toBe('gemini.live');
    // @google/genai joins its base URL and path with a doubled slash.
    expect(identifyWsApi('//ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=AIzaSECRET', 'gemini')).toBe('gemini.live');
    expect(identifyWsApi('/v1beta/models/gemini-2.5-flash:BidiGenerateContent', 'gemini')).not.toBe('gemini.live');
    expect(identifyWsApi('/ws/other.Service.Generate', 'gemini')).toBe('other');
    expect(identifyWsApi('/v1/realtime?model=gpt-realtime', 'openai')).toBe('realtime');
  });
});

describe('Gemini Live: the price of a session', () => {
  const AT = Date.parse('2026-12-01T12:00:00Z');
  const price = async (model: string, usage: Record<string, unknown> | undefined) => {
    const { priceExchange } = await import('../../src/cost/price-exchange.js');
    return priceExchange({ provider: 'gemini', host: 'generativelanguage.googleapis.com', api: 'gemini.live', model, usage: readLiveUsage(usage), at: AT, subscription: false });
  };

  it('prices each modality at its rate: audio at the Live model\'s audio rates, text at its text rates', async () => {
    const { calcPrice } = await import('@pydantic/genai-prices');
    const audio = await price('gemini-live-2.5-flash-preview', { promptTokenCount: 1000, responseTokenCount: 500, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 200 }, { modality: 'AUDIO', tokenCount: 800 }], responseTokensDetails: [{ modality: 'AUDIO', tokenCount: 500 }] });
    const expected = calcPrice({ input_tokens: 1000, input_audio_tokens: 800, output_tokens: 500, output_audio_tokens: 500 }, 'gemini-live-2.5-flash', { providerId: 'google', timestamp: new Date(AT) })!;
    expect(audio.usd).toBeCloseTo(expected.total_price, 12);
    expect(audio.matchedModel).toBe('gemini-live-2.5-flash');
    const text = await price('gemini-live-2.5-flash-preview', { promptTokenCount: 1000, responseTokenCount: 500, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 1000 }], responseTokensDetails: [{ modality: 'TEXT', tokenCount: 500 }] });
    expect(text.usd).toBeLessThan(audio.usd!);
  });

  it('is unpriced, with its reason, when the usage has no per-modality breakdown (audio would be a guess) or the model has no price', async () => {
    const bare = await price('gemini-live-2.5-flash-preview', { promptTokenCount: 1000, responseTokenCount: 500 });
    expect(bare.usd).toBeNull();
    expect(bare.reason).toMatch(/Gemini Live usage without its per-modality breakdown/);
    const unknown = await price('gemini-2.0-flash-live-001', { promptTokenCount: 10, responseTokenCount: 5, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 10 }] });
    expect(unknown.usd).toBeNull();
    expect(unknown.reason).toMatch(/unknown model "gemini-2.0-flash-live-001"/);
  });
});

describe('Gemini Live: credentials in the upgrade URL', () => {
  it('the API key (?key=) and an ephemeral token (?access_token=) are redacted from the stored path and left out of the logged one', async () => {
    const { createRedactor } = await import('../../src/redact/redactor.js');
    const redactor = createRedactor();
    const withKey = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=AIzaSyLIVEsecretKEY0123456789abcdefghijk';
    const withToken = '/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained?access_token=auth_tokens/0123456789abcdef';
    expect(redactor.path(withKey)).toBe('/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=[REDACTED]');
    expect(redactor.path(withToken)).toBe('/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained?access_token=[REDACTED]');
    expect(redactor.logPath(withToken)).not.toContain('auth_tokens');
  });
});

describe('Gemini Live: a session the server ended with an error close', () => {
  const closeFrame = (code: number, reason = ''): Buffer => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

  it('reads an error close as `close CODE: REASON`; a normal close, or one without a status, is no stop reason', () => {
    expect(liveCloseStop(closeFrame(1011, 'Internal error encountered.'))).toBe('close 1011: Internal error encountered.');
    expect(liveCloseStop(closeFrame(1008))).toBe('close 1008');
    expect([liveCloseStop(closeFrame(1000, 'bye')), liveCloseStop(closeFrame(1001)), liveCloseStop(Buffer.alloc(0))]).toEqual([undefined, undefined, undefined]);
  });

  it('makes the server\'s error close the session\'s stop reason, over its last turn\'s; the client\'s close is not read', () => {
    const reducer = createWsReducer('gemini.live');
    for (const m of SESSION) reducer.push(m);
    reducer.close!('client', closeFrame(1011, 'client side'));
    expect(reducer.finish()?.stopReason).not.toMatch(/^close/);
    const failed = createWsReducer('gemini.live');
    failed.push(SETUP);
    failed.push(server({ setupComplete: {} }));
    failed.close!('server', closeFrame(1011, 'Internal error encountered.'));
    // The first close counts (the echo of a close is not the server's word).
    failed.close!('server', closeFrame(1000));
    expect(failed.finish()).toMatchObject({ model: 'gemini-live-2.5-flash-preview', stopReason: 'close 1011: Internal error encountered.' });
  });
});
