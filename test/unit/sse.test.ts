import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSseReader, isEventStream, type SseEvent } from '../../src/providers/sse.js';
import { byteByByte, randomSplits, splitMismatches, twoWaySplits } from './split-helper.js';

function read(pieces: Array<Buffer | string>): SseEvent[] {
  const events: SseEvent[] = [];
  const reader = createSseReader((event) => events.push(event));
  for (const piece of pieces) reader.push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece, 'utf8'));
  reader.end();
  return events;
}

describe('createSseReader', () => {
  it('reads named and unnamed events, multi-line data and comments', () => {
    const events = read([': keep-alive\n\nevent: greeting\ndata: hello\n\ndata: line one\ndata: line two\nid: 7\n\ndata:no-space\n\n']);
    expect(events).toEqual([
      { event: 'greeting', data: 'hello' },
      { data: 'line one\nline two' },
      { data: 'no-space' },
    ]);
    // An unnamed event has no `event` key at all, not an undefined one.
    expect(Object.keys(events[1]!)).toEqual(['data']);
  });

  it('does not emit a final event that lacks its terminating blank line', () => {
    expect(read(['data: complete\n\ndata: cut off\n'])).toEqual([{ data: 'complete' }]);
    expect(read(['data: complete\n\ndata: cut off'])).toEqual([{ data: 'complete' }]);
  });

  it('treats CRLF and lone CR as line terminators, even split between CR and LF', () => {
    const expected = [{ event: 'a', data: '1' }, { data: '2' }];
    expect(read(['event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n'])).toEqual(expected);
    expect(read(['event: a\r', '\ndata: 1\r', '\n\r', '\ndata: 2\r\n\r', '\n'])).toEqual(expected);
    expect(read(['event: a\rdata: 1\r\rdata: 2\r\r'])).toEqual(expected);
  });

  it('dispatches a last event whose blank line is a lone CR at end of body', () => {
    expect(read(['data: x\r\n\r'])).toEqual([{ data: 'x' }]);
    expect(read(['data: x\r', '\r'])).toEqual([{ data: 'x' }]);
  });

  it('drops a leading UTF-8 byte order mark, even one split across chunks', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('data: x\n\n')]);
    expect(read([body])).toEqual([{ data: 'x' }]);
    expect(read(byteByByte(body))).toEqual([{ data: 'x' }]);
  });

  it('turns invalid UTF-8 into U+FFFD the same way however it is split', () => {
    const body = Buffer.concat([Buffer.from('data: a'), Buffer.from([0xe4, 0xbd]), Buffer.from('b\n\n')]);
    const whole = read([body]);
    expect(whole).toEqual([{ data: 'a\ufffdb' }]);
    expect(splitMismatches(twoWaySplits(body), read, whole)).toEqual([]);
    expect(read(byteByByte(body))).toEqual(whole);
  });

  it('yields the same events however the fixture streams are split', () => {
    for (const name of ['openai-chat-stream.txt', 'anthropic-messages-stream.txt']) {
      const body = readFileSync(new URL(`../fixtures/sse/${name}`, import.meta.url));
      const whole = read([body]);
      expect(whole.length).toBeGreaterThan(10);
      expect(splitMismatches(twoWaySplits(body), read, whole)).toEqual([]);
      expect(splitMismatches(randomSplits(body, 100), read, whole)).toEqual([]);
      expect(read(byteByByte(body))).toEqual(whole);
    }
  });

  it('ignores pushes after end()', () => {
    const events: SseEvent[] = [];
    const reader = createSseReader((event) => events.push(event));
    reader.push(Buffer.from('data: 1\n\n'));
    reader.end();
    reader.push(Buffer.from('data: 2\n\n'));
    reader.end();
    expect(events).toEqual([{ data: '1' }]);
  });
});

describe('isEventStream', () => {
  it.each([
    ['text/event-stream', true],
    ['text/event-stream; charset=utf-8', true],
    ['Text/Event-Stream ;charset=UTF-8', true],
    ['application/json', false],
    ['text/plain', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (contentType, expected) => {
    expect(isEventStream(contentType)).toBe(expected);
  });
});
