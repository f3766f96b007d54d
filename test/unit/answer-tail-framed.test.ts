import { describe, expect, it } from 'vitest';
import type { Reassembled } from '../../src/exchange.js';
import { completeFromTail } from '../../src/providers/answer-tail.js';
import { bedrockConverse, bedrockInvoke } from '../../src/providers/bedrock.js';
import { cohereChatV1 } from '../../src/providers/cohere-v1.js';
import { eventstreamFrameStart } from '../../src/providers/framed-tail.js';
import { ollamaNative } from '../../src/providers/ollama.js';
import type { ProviderParser } from '../../src/providers/types.js';
import { eventFrame, exceptionFrame } from '../helpers/fake-bedrock.js';

/**
 * Streams in their own framing (Bedrock's binary eventstream, Ollama's JSON lines) cut at
 * the capture limit: the tail starts mid-frame or mid-line, and the usage at their end is
 * still read from it.
 */
const EVENTSTREAM = 'application/vnd.amazon.eventstream';
const NDJSON = 'application/x-ndjson';

function headOf(parser: ProviderParser, contentType: string, body: Buffer, limit: number): Reassembled {
  const reducer = parser.createReducer(contentType);
  reducer.push(body.subarray(0, limit));
  return reducer.finish();
}

/** The answer as the proxy reads it: its head up to `limit`, then its last `tailBytes`. */
function read(parser: ProviderParser, contentType: string, body: Buffer, limit: number, tailBytes: number): Reassembled {
  return completeFromTail(parser, contentType, headOf(parser, contentType, body, limit), body.subarray(Math.max(0, body.length - tailBytes)));
}

const words = Array.from({ length: 120 }, (_, i) => `w${i} 🌊 `);
const chunk = (event: object) => eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(event)).toString('base64') });

describe('completeFromTail: a Bedrock eventstream cut at the capture limit', () => {
  const converse = Buffer.concat([
    eventFrame('messageStart', { role: 'assistant' }),
    ...words.map((text) => eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })),
    eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
    eventFrame('messageStop', { stopReason: 'end_turn' }),
    eventFrame('metadata', { usage: { inputTokens: 14, outputTokens: 900, totalTokens: 914, cacheReadInputTokens: 4 }, metrics: { latencyMs: 120 } }),
  ]);

  it('ConverseStream: metadata\'s usage and messageStop\'s stop reason from a tail cut anywhere in a frame; the text stays the head\'s', () => {
    const head = headOf(bedrockConverse, EVENTSTREAM, converse, 2000);
    expect(head.usage).toBeUndefined();
    for (let tailBytes = 500; tailBytes < 1500; tailBytes += 7) {
      const result = read(bedrockConverse, EVENTSTREAM, converse, 2000, tailBytes);
      expect(result.usage, `tail of ${tailBytes}`).toEqual({ inputTokens: 14, outputTokens: 900, cachedInputTokens: 4 });
      expect(result.stopReason).toBe('end_turn');
      expect(result.text).toBe(head.text);
    }
  });

  it('a tail holding the whole body (an answer under 64 KiB) starts at a frame', () => {
    expect(read(bedrockConverse, EVENTSTREAM, converse, 2000, converse.length).usage).toEqual({ inputTokens: 14, outputTokens: 900, cachedInputTokens: 4 });
  });

  it('Claude on Bedrock (InvokeModelWithResponseStream): message_start\'s input kept, message_delta\'s output from the tail, no longer partial', () => {
    const body = Buffer.concat([
      chunk({ type: 'message_start', message: { model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 21, output_tokens: 1, cache_read_input_tokens: 4 } } }),
      chunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      ...words.map((text) => chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
      chunk({ type: 'content_block_stop', index: 0 }),
      chunk({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 900 } }),
      chunk({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 25, outputTokenCount: 900, invocationLatency: 300, firstByteLatency: 90 } }),
    ]);
    expect(headOf(bedrockInvoke, EVENTSTREAM, body, 1500).usagePartial).toBe(true);
    for (let tailBytes = 700; tailBytes < 1200; tailBytes += 11) {
      const result = read(bedrockInvoke, EVENTSTREAM, body, 1500, tailBytes);
      expect(result.usage, `tail of ${tailBytes}`).toEqual({ inputTokens: 21, outputTokens: 900, cachedInputTokens: 4 });
      expect(result.usagePartial).toBeUndefined();
      expect(result.stopReason).toBe('end_turn');
      expect(result.text.startsWith('w0 ')).toBe(true);
      expect(result.text).not.toContain('w119');
    }
  });

  it('a family whose body counts nothing (Mistral): the last chunk\'s amazon-bedrock-invocationMetrics', () => {
    const body = Buffer.concat([
      ...words.map((text) => chunk({ outputs: [{ text, stop_reason: null }] })),
      chunk({ outputs: [{ text: '.', stop_reason: 'stop' }], 'amazon-bedrock-invocationMetrics': { inputTokenCount: 9, outputTokenCount: 500 } }),
    ]);
    expect(headOf(bedrockInvoke, EVENTSTREAM, body, 1000).usage).toBeUndefined();
    const result = read(bedrockInvoke, EVENTSTREAM, body, 1000, 555);
    expect(result.usage).toEqual({ inputTokens: 9, outputTokens: 500 });
    expect(result.stopReason).toBe('stop');
  });

  it('an exception frame in the tail: the answer failed, its type the stop reason', () => {
    const body = Buffer.concat([...words.map((text) => eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })), exceptionFrame('modelStreamErrorException')]);
    const result = read(bedrockConverse, EVENTSTREAM, body, 1000, 400);
    expect([result.failed, result.stopReason]).toEqual([true, 'modelStreamErrorException']);
  });

  it('a tail holding no whole frame: the head\'s reading as it was', () => {
    const head = headOf(bedrockConverse, EVENTSTREAM, converse, 2000);
    expect(completeFromTail(bedrockConverse, EVENTSTREAM, head, converse.subarray(converse.length - 40))).toBe(head);
    expect(completeFromTail(bedrockConverse, EVENTSTREAM, head, Buffer.from(',"usage":{"inputTokens":1}}'))).toBe(head);
  });
});

describe('completeFromTail: an Ollama NDJSON stream cut at the capture limit', () => {
  const created_at = '2025-08-27T12:00:00.000000Z';
  const final = { done: true, done_reason: 'stop', total_duration: 1_200_000_000, prompt_eval_count: 26, prompt_eval_duration: 100_000_000, eval_count: 900, eval_duration: 900_000_000 };
  const lines = (values: object[]) => Buffer.from(values.map((v) => `${JSON.stringify(v)}\n`).join(''));

  it('/api/chat: the done line\'s counts and done_reason from a tail cut mid-line (mid-character too); the text stays the head\'s', () => {
    const body = lines([...words.map((content) => ({ model: 'llama3.2', created_at, message: { role: 'assistant', content }, done: false })), { model: 'llama3.2', created_at, message: { role: 'assistant', content: '' }, ...final }]);
    const head = headOf(ollamaNative, NDJSON, body, 2000);
    expect(head.usage).toBeUndefined();
    for (let tailBytes = 300; tailBytes < 800; tailBytes += 3) {
      const result = read(ollamaNative, NDJSON, body, 2000, tailBytes);
      expect(result.usage, `tail of ${tailBytes}`).toEqual({ inputTokens: 26, outputTokens: 900 });
      expect(result.stopReason).toBe('stop');
      expect(result.text).toBe(head.text);
      expect(result.model).toBe('llama3.2');
    }
  });

  it('/api/generate, whose last line has no newline after it', () => {
    const body = lines([...words.map((response) => ({ model: 'qwen3', created_at, response, done: false }))]);
    const whole = Buffer.concat([body, Buffer.from(JSON.stringify({ model: 'qwen3', created_at, response: '', ...final, context: [1, 2, 3] }))]);
    expect(read(ollamaNative, NDJSON, whole, 1000, 500).usage).toEqual({ inputTokens: 26, outputTokens: 900 });
  });

  it('an error line in the tail ends the answer as failed', () => {
    const body = lines([...words.map((response) => ({ model: 'qwen3', created_at, response, done: false })), { error: 'model runner has unexpectedly stopped' }]);
    const result = read(ollamaNative, NDJSON, body, 1000, 200);
    expect([result.failed, result.stopReason]).toEqual([true, 'error']);
  });
});

describe('completeFromTail: Cohere\'s legacy Chat stream (one JSON event a line) cut at the capture limit', () => {
  it('stream-end\'s billed units and finish reason from a tail cut mid-line; the text stays the head\'s', () => {
    const events = [
      { event_type: 'stream-start', generation_id: 'g-1' },
      ...words.map((text) => ({ event_type: 'text-generation', text })),
      { event_type: 'stream-end', finish_reason: 'COMPLETE', response: { text: words.join(''), generation_id: 'g-1', finish_reason: 'COMPLETE', meta: { billed_units: { input_tokens: 31, output_tokens: 600 } } } },
    ];
    const body = Buffer.from(events.map((e) => `${JSON.stringify({ is_finished: e.event_type === 'stream-end', ...e })}\n`).join(''));
    const contentType = 'application/stream+json';
    const head = headOf(cohereChatV1, contentType, body, 1500);
    expect(head.usage).toBeUndefined();
    const result = read(cohereChatV1, contentType, body, 1500, 3000);
    expect(result.usage).toEqual({ inputTokens: 31, outputTokens: 600 });
    expect(result.stopReason).toBe('COMPLETE');
    expect(result.text).toBe(head.text);
  });
});

describe('eventstreamFrameStart: a frame boundary is proven by both CRCs, never guessed', () => {
  const frame = Buffer.from(eventFrame('metadata', { usage: { inputTokens: 1, outputTokens: 2 } }));

  it('bytes that read as a plausible prelude but fail its CRC are skipped', () => {
    const forged = Buffer.alloc(12);
    forged.writeUInt32BE(frame.length, 0); // a length that fits what follows
    forged.writeUInt32BE(20, 4);
    forged.writeUInt32BE(0xdeadbeef, 8);
    expect(eventstreamFrameStart(Buffer.concat([forged, frame]))).toBe(12);
  });

  it('a prelude whose CRC holds but whose frame\'s does not is skipped', () => {
    const broken = Buffer.from(frame);
    broken[broken.length - 1]! ^= 0xff;
    expect(eventstreamFrameStart(Buffer.concat([Buffer.from('xy'), broken, frame]))).toBe(2 + broken.length);
  });

  it('none whole: -1', () => {
    expect(eventstreamFrameStart(frame.subarray(0, frame.length - 1))).toBe(-1);
    expect(eventstreamFrameStart(Buffer.alloc(0))).toBe(-1);
  });
});
