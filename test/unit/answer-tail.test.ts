import { describe, expect, it } from 'vitest';
import { completeFromTail } from '../../src/providers/answer-tail.js';
import { anthropicMessages } from '../../src/providers/anthropic.js';
import { gemini } from '../../src/providers/gemini.js';
import { openaiChat } from '../../src/providers/openai.js';
import { openaiImages } from '../../src/providers/openai-images.js';
import type { ProviderParser } from '../../src/providers/types.js';

const SSE = 'text/event-stream; charset=utf-8';
const JSON_TYPE = 'application/json';

/** The answer as finish() reads it: the head up to `limit` through the reducer, then its tail (the last `tailBytes`). */
function read(parser: ProviderParser, contentType: string, body: string, limit: number, tailBytes: number) {
  const bytes = Buffer.from(body);
  const reducer = parser.createReducer(contentType);
  reducer.push(bytes.subarray(0, limit));
  const head = reducer.finish();
  return completeFromTail(parser, contentType, head, bytes.subarray(Math.max(0, bytes.length - tailBytes)));
}

const chatChunk = (content: string) => `data: ${JSON.stringify({ model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

describe('completeFromTail: an event stream cut at the capture limit', () => {
  const pieces = Array.from({ length: 200 }, (_, i) => `w${i} `);
  const body = `${pieces.map(chatChunk).join('')}data: ${JSON.stringify({ model: 'gpt-4o-mini', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`
    + `data: ${JSON.stringify({ model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 11, completion_tokens: 200 } })}\n\ndata: [DONE]\n\n`;

  it('takes the usage and stop reason from the tail; the text stays the head\'s (the tail\'s pieces follow a gap)', () => {
    const limit = 2000;
    const headOnly = openaiChat.createReducer(SSE);
    headOnly.push(Buffer.from(body).subarray(0, limit));
    const expectedText = headOnly.finish().text;
    const result = read(openaiChat, SSE, body, limit, 1000);
    expect(result.usage).toEqual({ inputTokens: 11, outputTokens: 200 });
    expect(result.stopReason).toBe('stop');
    expect(result.text).toBe(expectedText);
    expect(result.text.startsWith('w0 w1 ')).toBe(true);
    expect(result.model).toBe('gpt-4o-mini');
  });

  it('a tail that starts mid-event (mid-character even) skips to the next event', () => {
    const emoji = `${pieces.map(() => chatChunk('🌍🌍🌍')).join('')}data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 2 } })}\n\n`;
    for (let tailBytes = 200; tailBytes < 700; tailBytes += 37) expect(read(openaiChat, SSE, emoji, 500, tailBytes).usage).toEqual({ inputTokens: 1, outputTokens: 2 });
  });

  it('Anthropic: message_start\'s input kept, message_delta\'s output from the tail, no longer partial', () => {
    const ev = (type: string, payload: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
    const stream = ev('message_start', { message: { model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 21, output_tokens: 1, cache_read_input_tokens: 4 } } })
      + ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
      + pieces.map((p) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } })).join('')
      + ev('content_block_stop', { index: 0 }) + ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 900 } }) + ev('message_stop', {});
    const result = read(anthropicMessages, SSE, stream, 1500, 600);
    expect(result.usage).toEqual({ inputTokens: 21, outputTokens: 900, cachedInputTokens: 4 });
    expect(result.usagePartial).toBeUndefined();
    expect(result.stopReason).toBe('end_turn');
    expect(result.text.startsWith('w0 ')).toBe(true);
    expect(result.text).not.toContain('w199');
  });

  it('a last event larger than the tail (a streamed image\'s completion): its usage read as JSON', () => {
    const b64 = 'A'.repeat(100_000);
    const stream = `event: image_generation.partial_image\ndata: ${JSON.stringify({ type: 'image_generation.partial_image', b64_json: b64 })}\n\n`
      + `event: image_generation.completed\ndata: ${JSON.stringify({ type: 'image_generation.completed', b64_json: b64, size: '1024x1024', usage: { input_tokens: 50, output_tokens: 4160 } })}\n\n`;
    const result = read(openaiImages, SSE, stream, 1000, 65_536);
    expect(result.usage).toMatchObject({ inputTokens: 50, outputTokens: 4160 });
  });
});

describe('completeFromTail: a JSON answer cut at the capture limit', () => {
  it('an image answer\'s usage after its base64', () => {
    const answer = JSON.stringify({ created: 1, data: [{ b64_json: 'A'.repeat(200_000) }], usage: { input_tokens: 50, input_tokens_details: { text_tokens: 50, image_tokens: 0 }, output_tokens: 4160, total_tokens: 4210 }, size: '1024x1024' });
    const result = read(openaiImages, JSON_TYPE, answer, 1000, 65_536);
    expect(result.usage).toMatchObject({ inputTokens: 50, outputTokens: 4160 });
  });

  it('Gemini: usageMetadata and the model version', () => {
    const answer = JSON.stringify({ candidates: [{ content: { parts: [{ inlineData: { data: 'A'.repeat(100_000) } }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 1290, totalTokenCount: 1299 }, modelVersion: 'gemini-2.5-flash-image' });
    const result = read(gemini, JSON_TYPE, answer, 1000, 65_536);
    expect(result.usage).toMatchObject({ inputTokens: 9, outputTokens: 1290 });
    expect(result.model).toBe('gemini-2.5-flash-image');
  });

  it('no usage in the tail: the head\'s reading as it was', () => {
    const answer = JSON.stringify({ data: [{ b64_json: 'A'.repeat(100_000) }] });
    expect(read(openaiImages, JSON_TYPE, answer, 1000, 65_536).usage).toBeUndefined();
  });

  it('an answer in a framing the tail is not read in: nothing from it', () => {
    const head = { text: '', toolCalls: [], events: 0 };
    expect(completeFromTail(openaiImages, 'application/octet-stream', head, Buffer.from(',"usage":{"input_tokens":1}}'))).toBe(head);
  });
});
