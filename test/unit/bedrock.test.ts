import { describe, expect, it } from 'vitest';
import type { Reassembled } from '../../src/exchange.js';
import { bedrockConverse, bedrockInvoke } from '../../src/providers/bedrock.js';
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
});
