import { describe, expect, it } from 'vitest';
import type { Reassembled } from '../../src/exchange.js';
import { bedrockConverse, bedrockInvoke, invocationHeaders } from '../../src/providers/bedrock.js';
import { BEDROCK_TEXT, claudeInvokeFrames, converseStreamFrames, eventFrame } from '../helpers/fake-bedrock.js';
import { byteByByte, randomSplits, splitMismatches, twoWaySplits } from './split-helper.js';

const EVENTSTREAM = 'application/vnd.amazon.eventstream';

function reduce(parser: typeof bedrockConverse, contentType: string, pieces: Buffer[]): Reassembled {
  const reducer = parser.createReducer(contentType);
  for (const piece of pieces) reducer.push(piece);
  return reducer.finish();
}

describe('Bedrock ConverseStream (eventstream frames from AWS\'s encoder)', () => {
  const body = Buffer.concat(converseStreamFrames());
  const expected: Reassembled = {
    text: BEDROCK_TEXT,
    toolCalls: [{ id: 'tooluse_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
    usage: { inputTokens: 14, outputTokens: 11, cachedInputTokens: 4 },
    stopReason: 'tool_use',
    events: 10,
  };
  it('reduces to text, the tool call, stop reason and usage', () => {
    expect(reduce(bedrockConverse, EVENTSTREAM, [body])).toEqual(expected);
  });
  it('gives the same result split at every byte, in random pieces and byte by byte', () => {
    expect(splitMismatches(twoWaySplits(body), (p) => reduce(bedrockConverse, EVENTSTREAM, p), expected)).toEqual([]);
    expect(splitMismatches(randomSplits(body, 100), (p) => reduce(bedrockConverse, EVENTSTREAM, p), expected)).toEqual([]);
    expect(reduce(bedrockConverse, EVENTSTREAM, byteByByte(body))).toEqual(expected);
  });
  it('a frame with a bad CRC stops reading there and keeps what came before', () => {
    const frames = converseStreamFrames().map((f) => Buffer.from(f));
    frames[2]![frames[2]!.length - 1]! ^= 0xff;
    const out = reduce(bedrockConverse, EVENTSTREAM, [Buffer.concat(frames)]);
    expect(out.text).toBe(BEDROCK_TEXT.slice(0, BEDROCK_TEXT.indexOf('—')));
    expect(out.events).toBe(2);
  });
  it('reasoning deltas are thinking', () => {
    const out = reduce(bedrockConverse, EVENTSTREAM, [Buffer.from(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'hmm' } } }))]);
    expect(out.thinking).toBe('hmm');
  });
});

describe('Bedrock Converse JSON', () => {
  it('text, toolUse, reasoningContent, stop reason and cache usage', () => {
    const answer = {
      output: { message: { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: 'think', signature: 's' } } }, { text: 'Hi' }, { toolUse: { toolUseId: 't1', name: 'f', input: { a: 1 } } }] } },
      stopReason: 'tool_use', usage: { inputTokens: 5, outputTokens: 3, cacheReadInputTokens: 2, cacheWriteInputTokens: 1 },
    };
    expect(reduce(bedrockConverse, 'application/json', [Buffer.from(JSON.stringify(answer))])).toEqual({
      text: 'Hi', thinking: 'think', toolCalls: [{ id: 't1', name: 'f', arguments: '{"a":1}' }], stopReason: 'tool_use',
      usage: { inputTokens: 5, outputTokens: 3, cachedInputTokens: 2, cacheCreationInputTokens: 1 }, events: 0,
    });
  });
});

describe('Bedrock InvokeModel', () => {
  it('Claude streamed in chunk events: the Messages reducer reads the decoded chunks, split anywhere', () => {
    const body = Buffer.concat(claudeInvokeFrames('anthropic.claude-sonnet-4-5-20250929-v1:0'));
    const expected = reduce(bedrockInvoke, EVENTSTREAM, [body]);
    expect(expected).toMatchObject({ model: 'claude-sonnet-4-5-20250929', text: BEDROCK_TEXT, stopReason: 'end_turn', usage: { inputTokens: 14, outputTokens: 11 } });
    expect(splitMismatches(twoWaySplits(body), (p) => reduce(bedrockInvoke, EVENTSTREAM, p), expected)).toEqual([]);
  });
  it('Amazon Nova chunks (Converse-shaped) and Llama generation chunks', () => {
    const nova = [{ contentBlockDelta: { delta: { text: 'Hel' }, contentBlockIndex: 0 } }, { contentBlockDelta: { delta: { text: 'lo' }, contentBlockIndex: 0 } }, { messageStop: { stopReason: 'end_turn' } }, { metadata: { usage: { inputTokens: 3, outputTokens: 2 } } }];
    const novaBody = Buffer.concat(nova.map((c) => eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(c)).toString('base64') })));
    expect(reduce(bedrockInvoke, EVENTSTREAM, [novaBody])).toMatchObject({ text: 'Hello', stopReason: 'end_turn', usage: { inputTokens: 3, outputTokens: 2 } });
    const llama = [{ generation: 'Hi', prompt_token_count: 4 }, { generation: ' there', stop_reason: 'stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 4, outputTokenCount: 2 } }];
    const llamaBody = Buffer.concat(llama.map((c) => eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(c)).toString('base64') })));
    expect(reduce(bedrockInvoke, EVENTSTREAM, [llamaBody])).toEqual({ text: 'Hi there', toolCalls: [], stopReason: 'stop', usage: { inputTokens: 4, outputTokens: 2 }, events: 2 });
  });

  const chunks = (list: object[]): Buffer => Buffer.concat(list.map((c) => eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(c)).toString('base64') })));
  const whole = (body: object): Reassembled => reduce(bedrockInvoke, 'application/json', [Buffer.from(JSON.stringify(body))]);

  it('Mistral, Titan and Cohere streams: their text, and Bedrock\'s invocation metrics as the usage', () => {
    const metrics = { inputTokenCount: 9, outputTokenCount: 5, invocationLatency: 80, firstByteLatency: 30 };
    const mistral = chunks([{ outputs: [{ text: 'Bon', stop_reason: null }] }, { outputs: [{ text: 'jour', stop_reason: 'stop' }], 'amazon-bedrock-invocationMetrics': metrics }]);
    expect(reduce(bedrockInvoke, EVENTSTREAM, [mistral])).toEqual({ text: 'Bonjour', toolCalls: [], stopReason: 'stop', usage: { inputTokens: 9, outputTokens: 5 }, events: 2 });
    const titan = chunks([{ outputText: 'Hi', index: 0, totalOutputTextTokenCount: 1, completionReason: null, inputTextTokenCount: 9 }, { outputText: '!', index: 0, totalOutputTextTokenCount: 5, completionReason: 'FINISH', 'amazon-bedrock-invocationMetrics': metrics }]);
    expect(reduce(bedrockInvoke, EVENTSTREAM, [titan])).toEqual({ text: 'Hi!', toolCalls: [], stopReason: 'FINISH', usage: { inputTokens: 9, outputTokens: 5 }, events: 2 });
    const cohere = chunks([{ event_type: 'text-generation', text: 'Hey', is_finished: false }, { event_type: 'stream-end', is_finished: true, finish_reason: 'COMPLETE', 'amazon-bedrock-invocationMetrics': metrics }]);
    expect(reduce(bedrockInvoke, EVENTSTREAM, [cohere])).toEqual({ text: 'Hey', toolCalls: [], stopReason: 'COMPLETE', usage: { inputTokens: 9, outputTokens: 5 }, events: 2 });
  });

  it('whole answers of Mistral, Titan, Cohere and AI21: their text, and the counts the body carries (others come in headers)', () => {
    expect(whole({ outputs: [{ text: 'Bonjour', stop_reason: 'stop' }] })).toEqual({ text: 'Bonjour', toolCalls: [], stopReason: 'stop', events: 0 });
    expect(whole({ inputTextTokenCount: 4, results: [{ tokenCount: 2, outputText: 'Hi!', completionReason: 'FINISH' }] }))
      .toEqual({ text: 'Hi!', toolCalls: [], stopReason: 'FINISH', usage: { inputTokens: 4, outputTokens: 2 }, events: 0 });
    expect(whole({ generations: [{ id: 'g', text: 'Hey', finish_reason: 'COMPLETE' }] })).toEqual({ text: 'Hey', toolCalls: [], stopReason: 'COMPLETE', events: 0 });
    expect(whole({ response_id: 'r', text: 'Hey', finish_reason: 'COMPLETE' })).toEqual({ text: 'Hey', toolCalls: [], stopReason: 'COMPLETE', events: 0 });
    expect(whole({ id: 'c', choices: [{ index: 0, message: { role: 'assistant', content: 'Shalom' }, finish_reason: 'stop' }], usage: { prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 } }))
      .toEqual({ text: 'Shalom', toolCalls: [], stopReason: 'stop', usage: { inputTokens: 6, outputTokens: 3 }, events: 0 });
  });

  it('Bedrock\'s token-count headers, for an answer whose body counts nothing; anything but a count is ignored', () => {
    expect(invocationHeaders(['Content-Type', 'application/json', 'X-Amzn-Bedrock-Input-Token-Count', '14', 'X-Amzn-Bedrock-Output-Token-Count', '11'])).toEqual({ inputTokens: 14, outputTokens: 11 });
    expect(invocationHeaders(['x-amzn-bedrock-output-token-count', '7'])).toEqual({ outputTokens: 7 });
    expect(invocationHeaders(['x-amzn-bedrock-input-token-count', '-3', 'x-amzn-bedrock-output-token-count', '1e9'])).toBeUndefined();
    expect(invocationHeaders(['content-type', 'application/json'])).toBeUndefined();
    expect(bedrockInvoke.usageFromHeaders).toBe(invocationHeaders);
  });
});
