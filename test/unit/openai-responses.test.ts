import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Reassembled } from '../../src/exchange.js';
import { openaiResponses } from '../../src/providers/openai-responses.js';
import { createResponsesEventReducer } from '../../src/providers/responses-events.js';
import { byteByByte, randomSplits, splitMismatches, twoWaySplits } from './split-helper.js';

const SSE = 'text/event-stream; charset=utf-8';

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/sse/${name}`, import.meta.url));
}

function reduce(contentType: string | undefined, pieces: Array<Buffer | string>): Reassembled {
  const reducer = openaiResponses.createReducer(contentType);
  for (const piece of pieces) reducer.push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece, 'utf8'));
  return reducer.finish();
}

/** The fixture's events as parsed objects (what a WebSocket message carries). */
function fixtureEvents(): Array<Record<string, unknown>> {
  return fixture('openai-responses-stream.txt').toString('utf8').split('\n')
    .filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
}

const TEXT = 'Je regarde la météo à Zürich — 天气 🌦️';
const THINKING = "**Checking the weather** — need Zürich's forecast\n\nThen call the tool.";
const STREAM_EXPECTED: Reassembled = {
  model: 'gpt-5-codex-2025-09-15',
  // The answer's id, which a later request's previous_response_id chains to.
  responseId: 'resp_68af0c2f9e1c8190a1b2c3d4e5f60718',
  text: TEXT,
  thinking: THINKING,
  toolCalls: [{ id: 'call_Zq8mN3vB7xK2pL9w', name: 'get_weather', arguments: '{"location":"Zürich, CH","unit":"celsius"}' }],
  usage: { inputTokens: 1234, outputTokens: 310, cachedInputTokens: 1024, reasoningTokens: 192 },
  stopReason: 'completed',
  events: 30,
};

describe('openaiResponses streamed answers', () => {
  const body = fixture('openai-responses-stream.txt');
  const run = (pieces: Buffer[]): Reassembled => reduce(SSE, pieces);

  it('reassembles the fixture', () => {
    expect(run([body])).toStrictEqual(STREAM_EXPECTED);
  });

  it('gives the same result split in two at every byte offset', () => {
    expect(splitMismatches(twoWaySplits(body), run, STREAM_EXPECTED)).toEqual([]);
  });

  it('gives the same result for random multi-piece splits and byte by byte', () => {
    expect(splitMismatches(randomSplits(body, 200), run, STREAM_EXPECTED)).toEqual([]);
    expect(run(byteByByte(body))).toStrictEqual(STREAM_EXPECTED);
  });

  it('builds text, reasoning and arguments from deltas when the stream is cut before any done event', () => {
    const cut = body.subarray(0, body.indexOf('event: response.function_call_arguments.done'));
    const withoutDone = Buffer.from(cut.toString('utf8').split('\n\n').filter((e) => !/\.done\n|output_item\.done/.test(e)).join('\n\n'), 'utf8');
    const result = run([withoutDone]);
    expect(result.text).toBe(TEXT);
    expect(result.thinking).toBe(THINKING);
    expect(result.toolCalls).toEqual(STREAM_EXPECTED.toolCalls);
    expect(result.usage).toBeUndefined();
    expect(result.stopReason).toBeUndefined();
    expect(result.model).toBe('gpt-5-codex-2025-09-15');
  });

  it('keeps the streamed items when the final response carries an empty output (as Codex\'s backend sends)', () => {
    const events = fixtureEvents();
    const last = events[events.length - 1]!;
    (last.response as Record<string, unknown>).output = [];
    const reducer = createResponsesEventReducer();
    for (const event of events) reducer.add(event);
    expect(reducer.result()).toStrictEqual(STREAM_EXPECTED);
  });

  it('the event reducer gives the SSE result from parsed events (the WebSocket path)', () => {
    const reducer = createResponsesEventReducer();
    for (const event of fixtureEvents()) reducer.add(event);
    expect(reducer.result()).toStrictEqual(STREAM_EXPECTED);
  });

  it('reads response.incomplete and response.failed as stop reasons, and an error event', () => {
    const incomplete = createResponsesEventReducer();
    incomplete.add({ type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: 'Partial' });
    incomplete.add({ type: 'response.incomplete', response: { model: 'gpt-5', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [], usage: { input_tokens: 5, output_tokens: 16, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 16 } } } });
    expect(incomplete.result()).toStrictEqual({ model: 'gpt-5', text: 'Partial', toolCalls: [], usage: { inputTokens: 5, outputTokens: 16, cachedInputTokens: 0, reasoningTokens: 16 }, stopReason: 'max_output_tokens', events: 2 });
    const failed = createResponsesEventReducer();
    failed.add({ type: 'response.failed', response: { model: 'gpt-5', status: 'failed', error: { code: 'server_error', message: 'boom' }, output: [] } });
    expect([failed.result().stopReason, failed.result().failed]).toEqual(['failed', true]);
    expect(incomplete.result().failed).toBeUndefined();
    const errored = createResponsesEventReducer();
    errored.add({ type: 'error', code: 'rate_limit_exceeded', message: 'slow down', param: null });
    errored.add('not an object');
    expect(errored.result()).toStrictEqual({ text: '', toolCalls: [], stopReason: 'error', failed: true, events: 2 });
  });

  it('reports custom tool calls (Codex apply_patch) with their input, and local shell calls', () => {
    const reducer = createResponsesEventReducer();
    reducer.add({ type: 'response.output_item.added', output_index: 0, item: { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_patch', name: 'apply_patch', input: '' } });
    reducer.add({ type: 'response.custom_tool_call_input.delta', output_index: 0, item_id: 'ctc_1', delta: '*** Begin Patch\n' });
    reducer.add({ type: 'response.custom_tool_call_input.delta', output_index: 0, item_id: 'ctc_1', delta: '*** End Patch' });
    reducer.add({ type: 'response.output_item.done', output_index: 1, item: { id: 'lsh_1', type: 'local_shell_call', call_id: 'call_sh', status: 'completed', action: { type: 'exec', command: ['ls', '-la'] } } });
    expect(reducer.result().toolCalls).toEqual([
      { id: 'call_patch', name: 'apply_patch', arguments: '*** Begin Patch\n*** End Patch' },
      { id: 'call_sh', name: 'local_shell', arguments: '{"type":"exec","command":["ls","-la"]}' },
    ]);
  });

  it('uses the event: line when a payload has no type', () => {
    const body = `event: response.output_text.delta\ndata: {"output_index":0,"content_index":0,"delta":"hi"}\n\n`;
    expect(reduce(SSE, [body]).text).toBe('hi');
  });
});

describe('openaiResponses JSON answers', () => {
  it('reads a Response object: output in order, incomplete reason, usage', () => {
    const body = fixture('openai-responses.json');
    const expected: Reassembled = {
      model: 'o4-mini-2025-04-16',
      responseId: 'resp_68af0c2f9e1c8190a1b2c3d4e5f60718',
      text: TEXT,
      thinking: THINKING,
      toolCalls: [],
      usage: { inputTokens: 1234, outputTokens: 310, cachedInputTokens: 1024, reasoningTokens: 192 },
      stopReason: 'max_output_tokens',
      events: 0,
    };
    expect(reduce('application/json', [body])).toStrictEqual(expected);
    expect(splitMismatches(twoWaySplits(body), (pieces) => reduce('application/json', pieces), expected)).toEqual([]);
  });

  it('reads cache writes and tolerates a body that is not JSON', () => {
    const body = JSON.stringify({ model: 'gpt-5', status: 'completed', output: [], usage: { input_tokens: 9, output_tokens: 1, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 7 } } });
    expect(reduce('application/json', [body]).usage).toEqual({ inputTokens: 9, outputTokens: 1, cachedInputTokens: 0, cacheCreationInputTokens: 7 });
    expect(reduce('application/json', ['<html>'])).toStrictEqual({ text: '', toolCalls: [], events: 0 });
  });

  it('reads model and stream from the request', () => {
    expect(openaiResponses.parseRequest(Buffer.from('{"model":"gpt-5-codex","stream":true,"input":[]}'))).toEqual({ model: 'gpt-5-codex', stream: true });
    expect(openaiResponses.parseRequest(Buffer.from('{"model":"gpt-5","input":"hi"}'))).toEqual({ model: 'gpt-5', stream: false });
  });
});
