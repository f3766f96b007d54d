import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeLines } from '../../src/archive/export.js';

/** A reader that takes `delayMs` per chunk, like a pipe into a slow consumer. */
function slowReader(highWaterMark: number, delayMs: number, fail?: { after: number; code: string }) {
  const received: string[] = [];
  let maxBuffered = 0;
  const out = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, done) {
      if (fail && received.length >= fail.after) return done(Object.assign(new Error(`write ${fail.code}`), { code: fail.code }));
      received.push(chunk.toString());
      setTimeout(done, delayMs);
    },
  });
  return { out, received, maxBuffered: () => maxBuffered, track: () => (maxBuffered = Math.max(maxBuffered, out.writableLength)) };
}

describe('writeLines', () => {
  it('waits for a slow reader instead of buffering: never more than the high-water mark plus one line queued', async () => {
    const reader = slowReader(256, 1);
    let pulled = 0;
    function* lines(): Generator<string> {
      for (let i = 0; i < 300; i++) {
        reader.track();
        pulled++;
        yield `line ${String(i).padStart(4, '0')} ${'x'.repeat(40)}`;
      }
    }
    const result = await writeLines(lines(), reader.out);
    expect(result).toEqual({ lines: 300, readerGone: false });
    expect(pulled).toBe(300);
    expect(reader.maxBuffered()).toBeLessThanOrEqual(256 + 60);
    await new Promise<void>((r) => reader.out.end(r));
    expect(reader.received.join('').split('\n').slice(0, -1)).toEqual(Array.from({ length: 300 }, (_, i) => `line ${String(i).padStart(4, '0')} ${'x'.repeat(40)}`));
  });

  it('a reader that goes away (EPIPE) ends the export quietly and stops reading rows', async () => {
    const reader = slowReader(64, 0, { after: 5, code: 'EPIPE' });
    let pulled = 0;
    function* lines(): Generator<string> {
      for (let i = 0; i < 10_000; i++) {
        pulled++;
        yield `row ${i} ${'y'.repeat(30)}`;
      }
    }
    const result = await writeLines(lines(), reader.out);
    expect(result.readerGone).toBe(true);
    expect(pulled).toBeLessThan(50);
    expect(reader.received).toHaveLength(5);
  });

  it('any other write error is thrown', async () => {
    const reader = slowReader(64, 0, { after: 2, code: 'ENOSPC' });
    function* lines(): Generator<string> {
      for (let i = 0; i < 1000; i++) yield `row ${i} ${'z'.repeat(30)}`;
    }
    await expect(writeLines(lines(), reader.out)).rejects.toMatchObject({ code: 'ENOSPC' });
  });
});

describe('writeLines to a reader that closes without an error', () => {
  it('(a download cancelled) stops waiting for a drain that never comes, and stops reading rows', async () => {
    // Never calls back: the buffer fills, then the stream is destroyed as a cancelled response is.
    const out = new Writable({ highWaterMark: 64, write() {} });
    let pulled = 0;
    function* lines(): Generator<string> {
      for (let i = 0; i < 10_000; i++) {
        pulled++;
        yield `row ${i} ${'w'.repeat(30)}`;
      }
    }
    setTimeout(() => out.destroy(), 20);
    const result = await writeLines(lines(), out);
    expect(result.readerGone).toBe(true);
    expect(pulled).toBeLessThan(50);
  });
});
