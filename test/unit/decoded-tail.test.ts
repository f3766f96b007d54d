import { brotliCompressSync, constants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BodyCapture } from '../../src/proxy/capture.js';
import { DECODED_TAIL_BYTES, decodedTailFor } from '../../src/proxy/decoded-tail.js';

/** A JSON-like body of about `n` bytes whose usage comes at its very end. */
const answer = (n: number): Buffer => {
  const lines: string[] = [];
  for (let i = 0, size = 0; size < n; i++) {
    const line = `{"i":${i},"text":"${(i * 7919).toString(36).repeat(8)}"}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(`${lines.join('')}{"usage":{"prompt_tokens":11,"completion_tokens":17}}`);
};

/** Pushes `wire` through a capture in chunks of `size` bytes, as the relay does. */
async function readable(wire: Buffer, limit: number, coding: string, size = 1000): Promise<{ truncated: boolean; tail: Buffer | undefined }> {
  const capture = new BodyCapture(limit, true, () => coding);
  for (let at = 0; at < wire.length; at += size) capture.push(wire.subarray(at, at + size));
  const truncated = capture.result().truncated;
  return { truncated, tail: await capture.readableTail() };
}

describe('BodyCapture.readableTail: the decoded end of a compressed answer past the capture limit', () => {
  const plain = answer(300_000);
  const lastBytes = plain.subarray(plain.length - DECODED_TAIL_BYTES);

  for (const [coding, wire] of [
    ['gzip', gzipSync(plain)],
    ['x-gzip', gzipSync(plain)],
    ['br', brotliCompressSync(plain)],
    ['deflate', deflateSync(plain)],
    ['deflate', deflateRawSync(plain)],
  ] as const) {
    it(`${coding} (${wire[0]!.toString(16)}…), fed in chunks: the decoded body's last ${DECODED_TAIL_BYTES} bytes`, async () => {
      expect(wire.length).toBeGreaterThan(4000);
      const { truncated, tail } = await readable(wire, 2048, coding, 997);
      expect(truncated).toBe(true);
      expect(tail?.equals(lastBytes)).toBe(true);
    });
  }

  it('an answer cut short gives what of it decoded (no error at its end)', async () => {
    const wire = gzipSync(plain);
    const { tail } = await readable(wire.subarray(0, wire.length - 5000), 2048, 'gzip');
    expect(tail?.length).toBe(DECODED_TAIL_BYTES);
    expect(plain.includes(tail!)).toBe(true);
  });

  it('a body within the limit, or sent without coding, is as before', async () => {
    expect((await readable(gzipSync(plain), 10_000_000, 'gzip')).tail).toBeUndefined();
    const raw = await readable(plain, 2048, 'identity');
    expect(raw.tail?.equals(lastBytes)).toBe(true);
  });

  it('no tail for bytes that are not the coding, a coding list, or zstd', async () => {
    expect((await readable(plain, 2048, 'gzip')).tail).toBeUndefined();
    expect((await readable(gzipSync(brotliCompressSync(plain)), 2048, 'br, gzip')).tail).toBeUndefined();
    expect(decodedTailFor('zstd', plain)).toBeUndefined();
  });

  it('stops at a bomb\'s expansion ratio: no tail', async () => {
    // 64 MiB of zeros: ~65 KB of gzip (~1000:1), ~50 bytes of brotli.
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    expect((await readable(gzipSync(zeros), 1024, 'gzip', 4096)).tail).toBeUndefined();
    expect((await readable(brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }), 16, 'br', 8)).tail).toBeUndefined();
  });

  it('a decoder that does not finish in time gives no tail', async () => {
    const tail = decodedTailFor('gzip', Buffer.alloc(0))!;
    tail.feedHead([gzipSync(answer(8_000_000))]);
    expect(await tail.finish(0)).toBeUndefined();
  });
});
