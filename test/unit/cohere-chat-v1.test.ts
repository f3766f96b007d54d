import { describe, expect, it } from 'vitest';
import type { Reassembled } from '../../src/exchange.js';
import { cohereChatV1 } from '../../src/providers/cohere-v1.js';
import { identifyRequest, parserFor } from '../../src/providers/registry.js';
import { byteByByte, randomSplits, splitMismatches, twoWaySplits } from './split-helper.js';

/** Cohere's legacy Chat API (POST /v1/chat): a plain JSON answer, or newline-delimited JSON events. */

function reduce(contentType: string | undefined, pieces: Array<Buffer | string>): Reassembled {
  const reducer = cohereChatV1.createReducer(contentType);
  for (const piece of pieces) reducer.push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece, 'utf8'));
  return reducer.finish();
}

/** Events as Cohere writes them: one JSON object a line, its kind in `event_type`. */
const ndjson = (...events: Array<{ event_type: string; [key: string]: unknown }>): string =>
  events.map((e) => `${JSON.stringify({ is_finished: e.event_type === 'stream-end', ...e })}\n`).join('');

const meta = { api_version: { version: '1' }, billed_units: { input_tokens: 11, output_tokens: 37 }, tokens: { input_tokens: 190, output_tokens: 38 } };
const STREAM_CT = 'application/stream+json';

const STREAM = ndjson(
  { event_type: 'stream-start', generation_id: 'g-1' },
  { event_type: 'text-generation', text: 'Il fait ' },
  { event_type: 'text-generation', text: 'beau — 稍等 🌦️' },
  { event_type: 'citation-generation', citations: [{ start: 0, end: 4, text: 'Il f', document_ids: [] }] },
  { event_type: 'stream-end', finish_reason: 'COMPLETE', response: { response_id: 'r-1', text: 'Il fait beau — 稍等 🌦️', generation_id: 'g-1', chat_history: [], finish_reason: 'COMPLETE', meta } },
);

const STREAM_EXPECTED: Reassembled = {
  text: 'Il fait beau — 稍等 🌦️',
  toolCalls: [],
  // billed_units, not tokens: what Cohere bills, as for Chat v2.
  usage: { inputTokens: 11, outputTokens: 37 },
  stopReason: 'COMPLETE',
  events: 5,
};

describe('cohereChatV1 streamed answers (newline-delimited JSON)', () => {
  const body = Buffer.from(STREAM, 'utf8');
  const run = (pieces: Buffer[]): Reassembled => reduce(STREAM_CT, pieces);

  it('reassembles text, billed usage and finish reason', () => {
    expect(run([body])).toStrictEqual(STREAM_EXPECTED);
  });

  it('gives the same result split inside a line at every byte offset, byte by byte, and at random', () => {
    expect(splitMismatches(twoWaySplits(body), run, STREAM_EXPECTED)).toEqual([]);
    expect(run(byteByByte(body))).toStrictEqual(STREAM_EXPECTED);
    expect(splitMismatches(randomSplits(body, 50), run, STREAM_EXPECTED)).toEqual([]);
  });

  it('reads the same events under any streaming Content-Type, or none', () => {
    for (const type of ['application/x-ndjson', 'text/plain', undefined]) expect(reduce(type, [body])).toStrictEqual(STREAM_EXPECTED);
  });

  it('reads an events body labelled application/json as events too', () => {
    expect(reduce('application/json', [body])).toStrictEqual(STREAM_EXPECTED);
  });

  it('reads the tool plan as thinking and the calls from tool-calls-chunk deltas, replaced by tool-calls-generation', () => {
    const streamed = ndjson(
      { event_type: 'stream-start', generation_id: 'g-2' },
      { event_type: 'tool-calls-chunk', text: 'I will look up ' },
      { event_type: 'tool-calls-chunk', text: 'the weather.' },
      { event_type: 'tool-calls-chunk', tool_call_delta: { index: 0, name: 'get_weather' } },
      { event_type: 'tool-calls-chunk', tool_call_delta: { index: 0, parameters: '{"city":' } },
      { event_type: 'tool-calls-chunk', tool_call_delta: { index: 0, parameters: '"Zürich"}' } },
    );
    // Cut before tool-calls-generation: the deltas are what arrived.
    expect(reduce(STREAM_CT, [streamed])).toStrictEqual({
      text: '', thinking: 'I will look up the weather.', toolCalls: [{ name: 'get_weather', arguments: '{"city":"Zürich"}' }], events: 6,
    });
    const whole = streamed + ndjson(
      { event_type: 'tool-calls-generation', text: 'I will look up the weather.', tool_calls: [{ name: 'get_weather', parameters: { city: 'Zürich' } }, { name: 'list_alerts', parameters: {} }] },
      { event_type: 'stream-end', finish_reason: 'COMPLETE', response: { text: 'I will look up the weather.', tool_calls: [], meta } },
    );
    expect(reduce(STREAM_CT, [whole])).toStrictEqual({
      text: '',
      thinking: 'I will look up the weather.',
      toolCalls: [{ name: 'get_weather', arguments: '{"city":"Zürich"}' }, { name: 'list_alerts', arguments: '{}' }],
      usage: { inputTokens: 11, outputTokens: 37 },
      stopReason: 'COMPLETE',
      events: 8,
    });
  });

  it('counts a stream-end with an ERROR finish reason as Cohere\'s own error, keeping what arrived', () => {
    const result = reduce(STREAM_CT, [ndjson(
      { event_type: 'stream-start', generation_id: 'g-3' },
      { event_type: 'text-generation', text: 'Partial' },
      { event_type: 'stream-end', finish_reason: 'ERROR', response: { text: 'Partial', meta } },
    )]);
    expect(result).toMatchObject({ text: 'Partial', stopReason: 'ERROR', failed: true });
    expect(reduce(STREAM_CT, [ndjson({ event_type: 'stream-end', finish_reason: 'ERROR_TOXIC', response: {} })])).toMatchObject({ stopReason: 'ERROR_TOXIC', failed: true });
  });

  it('falls back to meta.tokens when there are no billed_units', () => {
    const result = reduce(STREAM_CT, [ndjson({ event_type: 'stream-end', finish_reason: 'MAX_TOKENS', response: { text: 'x', meta: { tokens: { input_tokens: 7, output_tokens: 3 } } } })]);
    expect(result).toMatchObject({ stopReason: 'MAX_TOKENS', usage: { inputTokens: 7, outputTokens: 3 } });
    expect(result.failed).toBeUndefined();
  });

  it('keeps what arrived of a stream cut before stream-end, with no usage, a last line without its newline included', () => {
    const cut = `${ndjson({ event_type: 'stream-start', generation_id: 'g-4' }, { event_type: 'text-generation', text: 'cu' })}{"is_finished":false,"event_type":"text-generation","text":"t"}`;
    expect(reduce(STREAM_CT, [cut])).toStrictEqual({ text: 'cut', toolCalls: [], events: 3 });
    // A line cut in half is no event.
    expect(reduce(STREAM_CT, [`${cut}\n{"is_finished":false,"event_ty`])).toStrictEqual({ text: 'cut', toolCalls: [], events: 4 });
  });
});

describe('cohereChatV1 plain JSON answers', () => {
  const answer = { response_id: 'r-9', text: 'Bonjour — 你好', generation_id: 'g-9', chat_history: [], finish_reason: 'COMPLETE', meta };
  const body = Buffer.from(JSON.stringify(answer, null, 2), 'utf8');
  const expected: Reassembled = { text: 'Bonjour — 你好', toolCalls: [], usage: { inputTokens: 11, outputTokens: 37 }, stopReason: 'COMPLETE', events: 0 };

  it('reads text, billed usage and finish reason, whatever the split (pretty-printed too)', () => {
    const run = (pieces: Buffer[]): Reassembled => reduce('application/json', pieces);
    expect(run([body])).toStrictEqual(expected);
    expect(splitMismatches(twoWaySplits(body), run, expected)).toEqual([]);
  });

  it('reads an answer that calls tools: its text is the plan (thinking), the calls with their parameters as JSON', () => {
    const calling = { text: 'I will call get_weather.', finish_reason: 'COMPLETE', tool_calls: [{ name: 'get_weather', parameters: { city: 'Paris' } }], meta };
    expect(reduce('application/json; charset=utf-8', [JSON.stringify(calling)])).toStrictEqual({
      text: '', thinking: 'I will call get_weather.', toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }],
      usage: { inputTokens: 11, outputTokens: 37 }, stopReason: 'COMPLETE', events: 0,
    });
  });

  it('gives an empty answer for a body that is not JSON', () => {
    expect(reduce('application/json', ['<html>'])).toStrictEqual({ text: '', toolCalls: [], events: 0 });
  });
});

describe('cohereChatV1 requests and routing', () => {
  it('reads model and stream flag (a missing flag is a plain answer)', () => {
    expect(cohereChatV1.parseRequest(Buffer.from('{"model":"command-r-plus-08-2024","message":"hi","stream":true}'))).toEqual({ model: 'command-r-plus-08-2024', stream: true });
    expect(cohereChatV1.parseRequest(Buffer.from('{"message":"hi"}'))).toEqual({ stream: false });
  });

  it('is the API of /v1/chat on api.cohere.com and the older api.cohere.ai, and only there', () => {
    expect(identifyRequest('api.cohere.com', 443, '/v1/chat')).toEqual({ provider: 'cohere', api: 'cohere.chat.v1' });
    expect(identifyRequest('api.cohere.ai', 443, '/v1/chat?x=1')).toEqual({ provider: 'cohere', api: 'cohere.chat.v1' });
    expect(identifyRequest('api.cohere.ai', 443, '/v2/chat')).toEqual({ provider: 'cohere', api: 'cohere.chat' });
    expect(identifyRequest('example.test', 443, '/v1/chat').api).toBe('other');
    expect(parserFor('cohere.chat.v1')).toBe(cohereChatV1);
  });
});
