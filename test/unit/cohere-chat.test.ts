import { describe, expect, it } from 'vitest';
import type { Reassembled } from '../../src/exchange.js';
import { cohereChat } from '../../src/providers/cohere.js';
import { identifyRequest, parserFor } from '../../src/providers/registry.js';
import { byteByByte, randomSplits, splitMismatches, twoWaySplits } from './split-helper.js';

const SSE = 'text/event-stream';

function reduce(contentType: string | undefined, pieces: Array<Buffer | string>): Reassembled {
  const reducer = cohereChat.createReducer(contentType);
  for (const piece of pieces) reducer.push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece, 'utf8'));
  return reducer.finish();
}

/** Events as Cohere writes them: an event line naming the type, then the JSON payload. */
const sse = (...payloads: Array<{ type: string; [key: string]: unknown }>): string =>
  payloads.map((p) => `event: ${p.type}\ndata: ${JSON.stringify(p)}\n\n`).join('');

const usage = { billed_units: { input_tokens: 12, output_tokens: 40 }, tokens: { input_tokens: 208, output_tokens: 42 } };

/** A streamed answer with a tool plan, text in two content blocks' worth of deltas, two tool calls and a citation. */
const STREAM = sse(
  { type: 'message-start', id: 'c0ffee', delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } },
  { type: 'tool-plan-delta', delta: { message: { tool_plan: 'I will look up ' } } },
  { type: 'tool-plan-delta', delta: { message: { tool_plan: 'the weather in Zürich.' } } },
  { type: 'tool-call-start', index: 0, delta: { message: { tool_calls: { id: 'get_weather_1', type: 'function', function: { name: 'get_weather', arguments: '' } } } } },
  { type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: '{"city": ' } } } } },
  { type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: '"Zürich"}' } } } } },
  { type: 'tool-call-end', index: 0 },
  { type: 'tool-call-start', index: 1, delta: { message: { tool_calls: { id: 'list_alerts_2', type: 'function', function: { name: 'list_alerts', arguments: '{}' } } } } },
  { type: 'tool-call-end', index: 1 },
  { type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } },
  { type: 'content-delta', index: 0, delta: { message: { content: { text: 'Il fait ' } } } },
  { type: 'content-delta', index: 0, delta: { message: { content: { text: 'beau — 稍等 🌦️' } } } },
  { type: 'citation-start', index: 0, delta: { message: { citations: { start: 0, end: 4, text: 'Il f', sources: [] } } } },
  { type: 'citation-end', index: 0 },
  { type: 'content-end', index: 0 },
  { type: 'message-end', delta: { finish_reason: 'TOOL_CALL', usage } },
);

const STREAM_EXPECTED: Reassembled = {
  text: 'Il fait beau — 稍等 🌦️',
  thinking: 'I will look up the weather in Zürich.',
  toolCalls: [
    { id: 'get_weather_1', name: 'get_weather', arguments: '{"city": "Zürich"}' },
    { id: 'list_alerts_2', name: 'list_alerts', arguments: '{}' },
  ],
  // billed_units, not tokens: Cohere bills the billed units (see cohere.ts).
  usage: { inputTokens: 12, outputTokens: 40 },
  stopReason: 'TOOL_CALL',
  events: 16,
};

describe('cohereChat streamed answers', () => {
  const body = Buffer.from(STREAM, 'utf8');
  const run = (pieces: Buffer[]): Reassembled => reduce(SSE, pieces);

  it('reassembles text, tool plan, tool calls, usage and finish reason', () => {
    expect(run([body])).toStrictEqual(STREAM_EXPECTED);
  });

  it('gives the same result split in two at every byte offset, byte by byte, and at random', () => {
    expect(splitMismatches(twoWaySplits(body), run, STREAM_EXPECTED)).toEqual([]);
    expect(run(byteByByte(body))).toStrictEqual(STREAM_EXPECTED);
    expect(splitMismatches(randomSplits(body, 50), run, STREAM_EXPECTED)).toEqual([]);
  });

  it('reads a reasoning model\'s thinking content blocks apart from its text', () => {
    const result = reduce(SSE, [sse(
      { type: 'message-start', id: 'r1', delta: { message: { role: 'assistant' } } },
      { type: 'content-start', index: 0, delta: { message: { content: { type: 'thinking', thinking: '' } } } },
      { type: 'content-delta', index: 0, delta: { message: { content: { thinking: 'Two plus two ' } } } },
      { type: 'content-delta', index: 0, delta: { message: { content: { thinking: 'is four.' } } } },
      { type: 'content-end', index: 0 },
      { type: 'content-start', index: 1, delta: { message: { content: { type: 'text', text: '' } } } },
      { type: 'content-delta', index: 1, delta: { message: { content: { text: '4' } } } },
      { type: 'content-end', index: 1 },
      { type: 'message-end', delta: { finish_reason: 'COMPLETE', usage: { billed_units: { input_tokens: 5, output_tokens: 9 } } } },
    )]);
    expect(result).toMatchObject({ text: '4', thinking: 'Two plus two is four.', stopReason: 'COMPLETE', usage: { inputTokens: 5, outputTokens: 9 } });
  });

  it('counts a message-end with finish_reason ERROR as the provider\'s own error, keeping what arrived', () => {
    const result = reduce(SSE, [sse(
      { type: 'message-start', id: 'e1', delta: { message: { role: 'assistant' } } },
      { type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } },
      { type: 'content-delta', index: 0, delta: { message: { content: { text: 'Partial' } } } },
      { type: 'message-end', delta: { finish_reason: 'ERROR', error: 'internal server error' } },
    )]);
    expect(result).toMatchObject({ text: 'Partial', stopReason: 'ERROR', failed: true });
  });

  it('falls back to tokens when an answer carries no billed_units', () => {
    const result = reduce(SSE, [sse({ type: 'message-end', delta: { finish_reason: 'MAX_TOKENS', usage: { tokens: { input_tokens: 7, output_tokens: 3 } } } })]);
    expect(result).toMatchObject({ stopReason: 'MAX_TOKENS', usage: { inputTokens: 7, outputTokens: 3 } });
    expect(result.failed).toBeUndefined();
  });

  it('keeps what arrived of a stream cut before message-end, with no usage', () => {
    const result = reduce(SSE, [sse(
      { type: 'message-start', id: 'p1', delta: { message: { role: 'assistant' } } },
      { type: 'content-delta', index: 0, delta: { message: { content: { text: 'cut' } } } },
    )]);
    expect(result).toStrictEqual({ text: 'cut', toolCalls: [], events: 2 });
  });
});

describe('cohereChat plain JSON answers', () => {
  const answer = {
    id: 'a1b2',
    finish_reason: 'TOOL_CALL',
    message: {
      role: 'assistant',
      content: [{ type: 'thinking', thinking: 'Need weather.' }, { type: 'text', text: 'Checking — 稍等' }],
      tool_plan: 'I will call get_weather.',
      tool_calls: [{ id: 'get_weather_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Zürich"}' } }],
      citations: [],
    },
    usage,
  };
  const body = Buffer.from(JSON.stringify(answer), 'utf8');
  const expected: Reassembled = {
    text: 'Checking — 稍等',
    thinking: 'Need weather.\n\nI will call get_weather.',
    toolCalls: [{ id: 'get_weather_0', name: 'get_weather', arguments: '{"city":"Zürich"}' }],
    usage: { inputTokens: 12, outputTokens: 40 },
    stopReason: 'TOOL_CALL',
    events: 0,
  };

  it('reads the answer, whatever its split', () => {
    const run = (pieces: Buffer[]): Reassembled => reduce('application/json', pieces);
    expect(run([body])).toStrictEqual(expected);
    expect(splitMismatches(twoWaySplits(body), run, expected)).toEqual([]);
  });

  it('marks finish_reason ERROR failed', () => {
    const failed = reduce('application/json', [JSON.stringify({ id: 'x', finish_reason: 'ERROR', message: { role: 'assistant', content: [] } })]);
    expect(failed).toMatchObject({ stopReason: 'ERROR', failed: true });
  });
});

describe('cohereChat requests and routing', () => {
  it('reads model and stream flag (a missing flag is a plain answer)', () => {
    expect(cohereChat.parseRequest(Buffer.from('{"model":"command-a-03-2025","messages":[],"stream":true}'))).toEqual({ model: 'command-a-03-2025', stream: true });
    expect(cohereChat.parseRequest(Buffer.from('{"model":"command-r7b-12-2024","messages":[]}'))).toEqual({ model: 'command-r7b-12-2024', stream: false });
  });

  it('is the API of /v2/chat on api.cohere.com, and only there', () => {
    expect(identifyRequest('api.cohere.com', 443, '/v2/chat')).toEqual({ provider: 'cohere', api: 'cohere.chat' });
    expect(identifyRequest('api.cohere.com', 443, '/v2/chat?x=1')).toEqual({ provider: 'cohere', api: 'cohere.chat' });
    expect(identifyRequest('api.cohere.com', 443, '/v1/tokenize').api).toBe('other');
    expect(identifyRequest('example.test', 443, '/v2/chat').api).toBe('other');
    expect(parserFor('cohere.chat')).toBe(cohereChat);
  });
});
