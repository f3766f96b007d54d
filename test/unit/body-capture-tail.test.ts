import { describe, expect, it } from 'vitest';
import { BodyCapture, TAIL_BYTES } from '../../src/proxy/capture.js';

/** A body of `n` bytes whose every byte says where it is (mod 251, a prime: no period lines up with the chunk sizes). */
const body = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));

function captured(whole: Buffer, limit: number, chunkSizes: number[]) {
  const capture = new BodyCapture(limit, true);
  let at = 0;
  for (let i = 0; at < whole.length; i++) {
    const size = chunkSizes[i % chunkSizes.length]!;
    capture.push(whole.subarray(at, at + size));
    at += size;
  }
  return { result: capture.result(), tail: capture.tail() };
}

describe('BodyCapture: the last bytes of a body past the capture limit', () => {
  it('keeps no tail unless asked (an upgrade\'s raw bytes)', () => {
    const capture = new BodyCapture(10);
    capture.push(body(100));
    expect(capture.result().truncated).toBe(true);
    expect(capture.tail()).toBeUndefined();
  });

  it('keeps nothing extra for a body within the limit', () => {
    const { result, tail } = captured(body(5000), 5000, [700]);
    expect(result.truncated).toBe(false);
    expect(tail).toBeUndefined();
  });

  it('keeps the body\'s last TAIL_BYTES, however it was split', () => {
    const whole = body(TAIL_BYTES * 3 + 123);
    for (const sizes of [[1], [1000], [4096, 17, 65_536], [TAIL_BYTES * 2], [whole.length]]) {
      const { result, tail } = captured(whole, 1000, sizes);
      expect(result.truncated).toBe(true);
      expect(result.bytes.equals(whole.subarray(0, 1000))).toBe(true);
      expect(tail?.equals(whole.subarray(whole.length - TAIL_BYTES))).toBe(true);
    }
  });

  it('one byte at a time (small chunks, many of them)', () => {
    const whole = body(TAIL_BYTES + 5000);
    const { tail } = captured(whole, 2000, [1]);
    expect(tail?.equals(whole.subarray(whole.length - TAIL_BYTES))).toBe(true);
  });

  it('a body just past the limit: the tail reaches back into the captured head, from the body\'s start when it is shorter than a tail', () => {
    const short = body(3000);
    expect(captured(short, 2000, [512]).tail?.equals(short)).toBe(true);
    const longer = body(TAIL_BYTES + 10);
    expect(captured(longer, TAIL_BYTES, [4000]).tail?.equals(longer.subarray(10))).toBe(true);
  });

  it('does not pin a large buffer a small view of it came from', () => {
    const big = Buffer.alloc(1024 * 1024, 7);
    const capture = new BodyCapture(10, true);
    capture.push(big.subarray(0, 20));
    capture.push(big.subarray(100, 300));
    capture.result();
    expect(capture.tail()!.buffer).not.toBe(big.buffer);
    expect(capture.tail()!.equals(Buffer.alloc(220, 7))).toBe(true);
  });
});
