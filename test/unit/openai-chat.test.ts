import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Reassembled } from '../../src/exchange.js';
import { openaiChat } from '../../src/providers/openai.js';
import { byteByByte, randomSplits, splitMismatches, twoWaySplits } from './split-helper.js';

const SSE = 'text/event-stream; charset=utf-8';
const JSON_TYPE = 'application/json';

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/sse/${name}`, import.meta.url));
}

function reduce(contentType: string | undefined, pieces: Array<Buffer | string>): Reassembled {
  const reducer = openaiChat.createReducer(contentType);
  for (const piece of pieces) reducer.push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece, 'utf8'));
  return reducer.finish();
}

const sse = (...chunks: unknown[]): string => chunks.map((c) => `data: ${typeof c === 'string' ? c : JSON.stringify(c)}\n\n`).join('');

const STREAM_EXPECTED: Reassembled = {
  model: 'gpt-4o-2024-08-06',
  text: 'héllo wörld — 你好 🌍',
  toolCalls: [
    { id: 'call_8fKq2XvTz1Lm0aBcDeFgHiJk', name: 'get_weather', arguments: '{"location": "Zürich, CH", "unit": "celsius"}' },
    { id: 'call_Qw3rTy7UiOp9AsDfGhJkL0Zx', name: 'get_local_time', arguments: '{"timezone": "Europe/Zurich"}' },
  ],
  usage: { inputTokens: 182, outputTokens: 71, cachedInputTokens: 128, reasoningTokens: 0 },
  stopReason: 'tool_calls',
  events: 17,
};

const JSON_EXPECTED: Reassembled = {
  model: 'gpt-4o-2024-08-06',
  text: 'Checking the weather in Zürich — un instant… 🌦️',
  toolCalls: [
    { id: 'call_Zx9yW8vU7tS6rQ5pO4nM3lK2', name: 'get_weather', arguments: '{"location":"Zürich, CH","unit":"celsius"}' },
    { id: 'call_Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8', name: 'get_local_time', arguments: '{"timezone":"Europe/Zurich"}' },
  ],
  usage: { inputTokens: 182, outputTokens: 64, cachedInputTokens: 0, reasoningTokens: 0 },
  stopReason: 'tool_calls',
  events: 0,
};

describe('openaiChat streamed answers', () => {
  const body = fixture('openai-chat-stream.txt');
  const run = (pieces: Buffer[]): Reassembled => reduce(SSE, pieces);

  it('reassembles the fixture', () => {
    expect(run([body])).toStrictEqual(STREAM_EXPECTED);
  });

  it('gives the same result split in two at every byte offset', () => {
    expect(splitMismatches(twoWaySplits(body), run, STREAM_EXPECTED)).toEqual([]);
  });

  it('gives the same result for random multi-piece splits', () => {
    expect(splitMismatches(randomSplits(body, 300), run, STREAM_EXPECTED)).toEqual([]);
  });

  it('gives the same result byte by byte', () => {
    expect(run(byteByByte(body))).toStrictEqual(STREAM_EXPECTED);
  });

  it('gives the same result with CRLF line endings, however split', () => {
    const crlf = Buffer.from(body.toString('utf8').replace(/\n/g, '\r\n'), 'utf8');
    expect(run([crlf])).toStrictEqual(STREAM_EXPECTED);
    expect(splitMismatches(twoWaySplits(crlf), run, STREAM_EXPECTED)).toEqual([]);
    expect(run(byteByByte(crlf))).toStrictEqual(STREAM_EXPECTED);
  });

  it('keeps what arrived when the stream is cut off mid-event', () => {
    const cut = body.subarray(0, body.indexOf('rld — '));
    const result = run([cut]);
    expect(result.text).toBe('héllo wö');
    expect(result.toolCalls).toEqual([]);
    expect(result.stopReason).toBeUndefined();
    expect(result.usage).toBeUndefined();
    expect(result.events).toBe(3);
  });

  it('collects reasoning_content (DeepSeek) into thinking', () => {
    const result = reduce(SSE, [sse(
      { model: 'deepseek-reasoner', choices: [{ index: 0, delta: { role: 'assistant', content: null, reasoning_content: '' } }] },
      { model: 'deepseek-reasoner', choices: [{ index: 0, delta: { content: null, reasoning_content: 'Think ' } }] },
      { model: 'deepseek-reasoner', choices: [{ index: 0, delta: { content: null, reasoning_content: 'hard.' } }] },
      { model: 'deepseek-reasoner', choices: [{ index: 0, delta: { content: 'Answer', reasoning_content: null } }] },
      { model: 'deepseek-reasoner', choices: [{ index: 0, delta: { content: '' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 20, prompt_cache_hit_tokens: 4, completion_tokens_details: { reasoning_tokens: 12 } } },
      '[DONE]',
    )]);
    expect(result).toStrictEqual({
      model: 'deepseek-reasoner',
      text: 'Answer',
      thinking: 'Think hard.',
      toolCalls: [],
      usage: { inputTokens: 10, outputTokens: 20, cachedInputTokens: 4, reasoningTokens: 12 },
      stopReason: 'stop',
      events: 6,
    });
  });

  it('skips malformed events, other choices and anything after [DONE]', () => {
    const result = reduce(SSE, [
      sse(
        { model: '', choices: [], prompt_filter_results: [] },
        { model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'A' } }, { index: 1, delta: { content: 'X' } }] },
        '{"choices": [ {"index": 0, "delta": {"content": "broken',
        'not json at all',
        { model: 'gpt-4o', choices: [{ index: 1, delta: { content: 'Y' }, finish_reason: 'length' }] },
        { model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'B' }, finish_reason: 'stop' }] },
        '[DONE]',
        { model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'late' } }] },
      ),
    ]);
    expect(result).toStrictEqual({ model: 'gpt-4o', text: 'AB', toolCalls: [], stopReason: 'stop', events: 8 });
  });

  it('an error sent inside the 200 ends the answer failed, its type the stop reason; what came before stays', () => {
    const result = reduce(SSE, [sse(
      { model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'Partial' } }] },
      { error: { message: 'The server had an error while processing your request.', type: 'server_error', code: null } },
    )]);
    expect(result).toStrictEqual({ model: 'gpt-4o', text: 'Partial', toolCalls: [], stopReason: 'server_error', failed: true, events: 2 });
  });

  it('reads usage that Groq puts under x_groq', () => {
    const result = reduce(SSE, [sse(
      { model: 'llama-3.3-70b-versatile', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: 'stop' }], x_groq: { id: 'req_1', usage: { prompt_tokens: 5, completion_tokens: 1 } } },
      '[DONE]',
    )]);
    expect(result.usage).toEqual({ inputTokens: 5, outputTokens: 1 });
  });

  it('reads the audio parts of an audio model\'s usage (priced at audio rates), and leaves the zeros every answer carries', () => {
    const audio = reduce(SSE, [sse(
      { model: 'gpt-4o-audio-preview', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 50, completion_tokens: 30, prompt_tokens_details: { audio_tokens: 40, cached_tokens: 0 }, completion_tokens_details: { audio_tokens: 25, reasoning_tokens: 0 } } },
      '[DONE]',
    )]);
    expect(audio.usage).toEqual({ inputTokens: 50, outputTokens: 30, cachedInputTokens: 0, reasoningTokens: 0, inputAudioTokens: 40, outputAudioTokens: 25 });
    const text = reduce(SSE, [sse(
      { model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, prompt_tokens_details: { audio_tokens: 0 }, completion_tokens_details: { audio_tokens: 0 } } },
      '[DONE]',
    )]);
    expect(text.usage).toEqual({ inputTokens: 5, outputTokens: 1 });
  });

  it('keys whole tool calls by id when a provider sends no index', () => {
    const call = (id: string, name: string, args: string) => ({ choices: [{ index: 0, delta: { tool_calls: [{ id, type: 'function', function: { name, arguments: args } }] } }] });
    const result = reduce(SSE, [sse(call('a', 'one', '{}'), call('b', 'two', '{"x":1}'), '[DONE]')]);
    expect(result.toolCalls).toEqual([
      { id: 'a', name: 'one', arguments: '{}' },
      { id: 'b', name: 'two', arguments: '{"x":1}' },
    ]);
  });

  it('returns an empty best-effort result for an empty or garbage stream', () => {
    expect(reduce(SSE, [])).toStrictEqual({ text: '', toolCalls: [], events: 0 });
    expect(reduce(SSE, ['\u0000\u00ff garbage \n\n'])).toStrictEqual({ text: '', toolCalls: [], events: 0 });
  });
});

describe('openaiChat JSON answers', () => {
  const body = fixture('openai-chat.json');
  const run = (pieces: Buffer[]): Reassembled => reduce(JSON_TYPE, pieces);

  it('reassembles the fixture', () => {
    expect(run([body])).toStrictEqual(JSON_EXPECTED);
  });

  it('uses JSON mode when the content type is missing', () => {
    expect(reduce(undefined, [body])).toStrictEqual(JSON_EXPECTED);
  });

  it('gives the same result however the body is split', () => {
    expect(splitMismatches(twoWaySplits(body), run, JSON_EXPECTED)).toEqual([]);
    expect(splitMismatches(randomSplits(body, 50), run, JSON_EXPECTED)).toEqual([]);
    expect(run(byteByByte(body))).toStrictEqual(JSON_EXPECTED);
  });

  it('handles null content, legacy function_call and reasoning fields', () => {
    const result = reduce(JSON_TYPE, [JSON.stringify({
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: null, reasoning: 'hmm', function_call: { name: 'f', arguments: '{"a":1}' } }, finish_reason: 'function_call' }],
    })]);
    expect(result).toStrictEqual({ model: 'm', text: '', thinking: 'hmm', toolCalls: [{ name: 'f', arguments: '{"a":1}' }], stopReason: 'function_call', events: 0 });
  });

  it('never throws on error bodies, truncated JSON or non-JSON', () => {
    const empty = { text: '', toolCalls: [], events: 0 };
    // An error body is no answer (failed: never cached, never estimated); its status says why, not a stop reason.
    expect(reduce(JSON_TYPE, ['{"error":{"message":"Rate limit","type":"requests"}}'])).toStrictEqual({ ...empty, failed: true });
    expect(reduce(JSON_TYPE, [body.subarray(0, body.length / 2)])).toStrictEqual(empty);
    expect(reduce(JSON_TYPE, ['<html>502 Bad Gateway</html>'])).toStrictEqual(empty);
    expect(reduce(JSON_TYPE, ['[1,2,3]'])).toStrictEqual(empty);
    expect(reduce(JSON_TYPE, [])).toStrictEqual(empty);
  });
});

describe('openaiChat.parseRequest', () => {
  it.each<[string, string | Buffer, object]>([
    ['streaming request', '{"model":"gpt-4o","stream":true,"messages":[]}', { model: 'gpt-4o', stream: true }],
    ['non-streaming request', '{"model":"gpt-4o-mini","stream":false}', { model: 'gpt-4o-mini', stream: false }],
    ['stream flag absent (API default false)', '{"model":"gpt-4o"}', { model: 'gpt-4o', stream: false }],
    ['wrongly typed fields', '{"model":42,"stream":"yes"}', {}],
    ['leading BOM', '\ufeff{"model":"gpt-4o","stream":true}', { model: 'gpt-4o', stream: true }],
    ['invalid JSON', '{"model":"gpt-4o",', {}],
    ['empty body', '', {}],
    ['JSON array', '[{"model":"gpt-4o"}]', {}],
    ['JSON string', '"gpt-4o"', {}],
    ['JSON null', 'null', {}],
    ['binary', Buffer.from([0xff, 0xfe, 0x00, 0x01]), {}],
  ])('%s', (_name, body, expected) => {
    expect(openaiChat.parseRequest(Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'))).toStrictEqual(expected);
  });
});
