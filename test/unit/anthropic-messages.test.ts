import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Reassembled } from '../../src/exchange.js';
import { anthropicMessages } from '../../src/providers/anthropic.js';
import { byteByByte, randomSplits, splitMismatches, twoWaySplits } from './split-helper.js';

const SSE = 'text/event-stream; charset=utf-8';
const JSON_TYPE = 'application/json';

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/sse/${name}`, import.meta.url));
}

function reduce(contentType: string | undefined, pieces: Array<Buffer | string>): Reassembled {
  const reducer = anthropicMessages.createReducer(contentType);
  for (const piece of pieces) reducer.push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece, 'utf8'));
  return reducer.finish();
}

/** Events as Anthropic writes them: an event line naming the type, then the JSON payload. */
const sse = (...payloads: Array<{ type: string; [key: string]: unknown }>): string =>
  payloads.map((p) => `event: ${p.type}\ndata: ${JSON.stringify(p)}\n\n`).join('');

const start = (usage: object = { input_tokens: 10, output_tokens: 1 }) => ({
  type: 'message_start',
  message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5', content: [], stop_reason: null, usage },
});

const STREAM_EXPECTED: Reassembled = {
  model: 'claude-sonnet-4-5-20250929',
  text: 'Je vérifie la météo à Zürich — 稍等 🌦️ …',
  thinking: 'The user asks about the weather in Zürich. I should call get_weather — with the city and celsius.',
  toolCalls: [{ id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', arguments: '{"location": "Zürich, CH", "unit": "celsius"}' }],
  usage: { inputTokens: 472, outputTokens: 138, cachedInputTokens: 2048, cacheCreationInputTokens: 1024 },
  stopReason: 'tool_use',
  events: 23,
};

const JSON_EXPECTED: Reassembled = {
  model: 'claude-sonnet-4-5-20250929',
  text: 'Je vérifie la météo — 稍等 🌦️',
  thinking: 'Zürich weather needs a tool call.',
  toolCalls: [
    { id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', arguments: '{"location":"Zürich, CH","unit":"celsius"}' },
    { id: 'toolu_01B19r01rx01mr028946mr0', name: 'list_alerts', arguments: '{}' },
  ],
  usage: { inputTokens: 472, outputTokens: 96, cachedInputTokens: 2048, cacheCreationInputTokens: 0 },
  stopReason: 'tool_use',
  events: 0,
};

describe('anthropicMessages streamed answers', () => {
  const body = fixture('anthropic-messages-stream.txt');
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

  it('keeps what arrived when the stream is cut off inside the tool input', () => {
    const cut = body.subarray(0, body.indexOf('H\\", \\"unit'));
    const result = run([cut]);
    expect(result.text).toBe(STREAM_EXPECTED.text);
    expect(result.thinking).toBe(STREAM_EXPECTED.thinking);
    expect(result.toolCalls).toEqual([{ id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', arguments: '{"location": "Zürich, C' }]);
    expect(result.stopReason).toBeUndefined();
    expect(result.usage).toEqual({ inputTokens: 472, outputTokens: 4, cachedInputTokens: 2048, cacheCreationInputTokens: 1024 });
  });

  it('uses the start input for a tool_use without input deltas', () => {
    const result = reduce(SSE, [sse(
      start(),
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_a', name: 'no_args', input: {} } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_b', name: 'given', input: { q: 'ä' } } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_c', name: 'empty_delta', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 30 } },
      { type: 'message_stop' },
    )]);
    expect(result.toolCalls).toEqual([
      { id: 'toolu_a', name: 'no_args', arguments: '{}' },
      { id: 'toolu_b', name: 'given', arguments: '{"q":"ä"}' },
      { id: 'toolu_c', name: 'empty_delta', arguments: '{}' },
    ]);
  });

  it('takes the last cumulative usage, including input and cache fields from message_delta', () => {
    const result = reduce(SSE, [sse(
      start({ input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 }),
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: null }, usage: { output_tokens: 5 } },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { input_tokens: 900, cache_read_input_tokens: 300, cache_creation_input_tokens: null, output_tokens: 12 } },
      { type: 'message_stop' },
    )]);
    expect(result).toStrictEqual({
      model: 'claude-haiku-4-5',
      text: 'ok',
      toolCalls: [],
      usage: { inputTokens: 900, outputTokens: 12, cachedInputTokens: 300 },
      stopReason: 'end_turn',
      events: 7,
    });
  });

  it('ignores redacted thinking, signatures, server tool blocks and unknown events', () => {
    const result = reduce(SSE, [sse(
      start(),
      { type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"query":"x"}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'A' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'citations_delta', citation: { type: 'web_search_result_location' } } },
      { type: 'some_future_event' },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'B' } },
      { type: 'content_block_stop', index: 2 },
    )]);
    expect(result.text).toBe('AB');
    expect(result.toolCalls).toEqual([]);
    expect(result.thinking).toBeUndefined();
    expect(result.events).toBe(12);
  });

  it('keeps going after an error event and returns what it has, the error as the stop reason, marked failed', () => {
    const result = reduce(SSE, [
      sse(
        start(),
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'partial' } },
        { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      ),
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" more"}}\n\n',
      'event: content_block_delta\ndata: {not json}\n\n',
    ]);
    expect(result).toStrictEqual({ model: 'claude-haiku-4-5', text: 'partial more', toolCalls: [], usage: { inputTokens: 10, outputTokens: 1 }, stopReason: 'overloaded_error', failed: true, events: 6 });
  });

  it('concatenates several text and thinking blocks in index order', () => {
    const result = reduce(SSE, [sse(
      start(),
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'one.' } },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'First' } },
      { type: 'content_block_start', index: 2, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'thinking_delta', thinking: 'two.' } },
      { type: 'content_block_start', index: 3, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 3, delta: { type: 'text_delta', text: 'Second' } },
    )]);
    expect(result.text).toBe('FirstSecond');
    expect(result.thinking).toBe('one.two.');
  });
});

describe('anthropicMessages JSON answers', () => {
  const body = fixture('anthropic-messages.json');
  const run = (pieces: Buffer[]): Reassembled => reduce(JSON_TYPE, pieces);

  it('reassembles the fixture', () => {
    expect(run([body])).toStrictEqual(JSON_EXPECTED);
  });

  it('gives the same result however the body is split', () => {
    expect(splitMismatches(twoWaySplits(body), run, JSON_EXPECTED)).toEqual([]);
    expect(splitMismatches(randomSplits(body, 50), run, JSON_EXPECTED)).toEqual([]);
    expect(run(byteByByte(body))).toStrictEqual(JSON_EXPECTED);
  });

  it('never throws on error bodies, truncated JSON or non-JSON', () => {
    const empty = { text: '', toolCalls: [], events: 0 };
    expect(reduce(JSON_TYPE, ['{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'])).toStrictEqual(empty);
    expect(reduce(JSON_TYPE, [body.subarray(0, 200)])).toStrictEqual(empty);
    expect(reduce(JSON_TYPE, ['upstream connect error'])).toStrictEqual(empty);
    expect(reduce(JSON_TYPE, ['{"content":"not a list","model":7}'])).toStrictEqual(empty);
    expect(reduce(undefined, [])).toStrictEqual(empty);
  });
});

describe('anthropicMessages.parseRequest', () => {
  it.each<[string, string, object]>([
    ['streaming request', '{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,"messages":[]}', { model: 'claude-sonnet-4-5', stream: true }],
    ['stream flag absent', '{"model":"claude-opus-4-1","max_tokens":1024}', { model: 'claude-opus-4-1', stream: false }],
    ['stream null', '{"model":"claude-opus-4-1","stream":null}', { model: 'claude-opus-4-1' }],
    ['invalid JSON', '{"model":', {}],
    ['JSON number', '42', {}],
    ['empty body', '', {}],
  ])('%s', (_name, body, expected) => {
    expect(anthropicMessages.parseRequest(Buffer.from(body, 'utf8'))).toStrictEqual(expected);
  });
});
