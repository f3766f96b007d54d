import type { Captured } from '../exchange.js';

/** A body already held whole, kept up to the capture limit. */
export function captureWhole(bytes: Buffer, limit: number): Captured {
  return { bytes: bytes.length <= limit ? bytes : bytes.subarray(0, limit), size: bytes.length, truncated: bytes.length > limit };
}

/**
 * Keeps a copy of a body as it streams past, up to a limit. Chunks are kept as
 * they came (no string work; copied only when a view would pin a far larger buffer)
 * and joined once at the end.
 */
export class BodyCapture {
  private chunks: Buffer[] = [];
  private stored = 0;
  private seen = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.seen += chunk.length;
    const room = this.limit - this.stored;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    // A small view of a much larger buffer (what undici hands over: a slice of everything it
    // read from the socket at once) would keep the whole of it alive for as long as the
    // exchange: copied out instead.
    this.chunks.push(part.buffer.byteLength > 4 * part.length + 8192 ? Buffer.from(part) : part);
    this.stored += part.length;
  }

  get size(): number {
    return this.seen;
  }

  result(): Captured {
    const bytes = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.stored);
    this.chunks = [bytes];
    return { bytes, size: this.seen, truncated: this.seen > this.stored };
  }
}
