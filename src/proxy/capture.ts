import { isIdentityCoded } from '../content-encoding.js';
import type { Captured } from '../exchange.js';
import { DECODED_TAIL_BYTES, decodedTailFor, type DecodedTail } from './decoded-tail.js';

/**
 * Bytes of a body's end kept past the capture limit: where providers put the usage of an
 * answer (a JSON answer's `usage` after megabytes of base64 images, a stream's last event),
 * so a body cut for the archive is still priced.
 */
export const TAIL_BYTES = DECODED_TAIL_BYTES;

/** A body already held whole, kept up to the capture limit. */
export function captureWhole(bytes: Buffer, limit: number): Captured {
  return { bytes: bytes.length <= limit ? bytes : bytes.subarray(0, limit), size: bytes.length, truncated: bytes.length > limit };
}

/**
 * Keeps a copy of a body as it streams past, up to a limit. Chunks are kept as
 * they came (no string work; copied only when a view would pin a far larger buffer)
 * and joined once at the end. Past the limit it keeps a rolling tail of the body's last
 * TAIL_BYTES instead (nothing before: a body within the limit pays no more than a comparison).
 */
export class BodyCapture {
  private chunks: Buffer[] = [];
  private stored = 0;
  private seen = 0;
  /** The bytes past the limit still within the last TAIL_BYTES (the first may start earlier: trimmed in tail()). */
  private tailChunks: Buffer[] = [];
  /** Index of the first chunk still kept: dropped ones are skipped, not shifted out (an O(n) move per chunk). */
  private tailFirst = 0;
  private tailStored = 0;
  /** Set once the body first runs past the limit (never for one within it). */
  private crossed = false;
  private identity = true;
  /** A compressed body's decoder, fed all of it from the crossing on. */
  private decoded: DecodedTail | undefined;

  /**
   * `codingOf`: the answer's Content-Encoding, asked only when the body first runs past the
   * limit (the headers have come by then): a compressed body's tail is then kept decoded.
   */
  constructor(private readonly limit: number, private readonly keepsTail = false, private readonly codingOf?: () => string | undefined) {}

  push(chunk: Buffer): void {
    this.seen += chunk.length;
    const room = this.limit - this.stored;
    if (room <= 0) return this.keepTail(chunk);
    if (chunk.length <= room) {
      this.chunks.push(unpinned(chunk));
      this.stored += chunk.length;
      return;
    }
    this.chunks.push(unpinned(chunk.subarray(0, room)));
    this.stored += room;
    this.keepTail(chunk.subarray(room));
  }

  private keepTail(chunk: Buffer): void {
    if (!this.keepsTail) return;
    if (!this.crossed) this.cross();
    this.decoded?.push(chunk);
    // Only the last TAIL_BYTES of a large chunk can matter.
    const part = chunk.length <= TAIL_BYTES ? chunk : chunk.subarray(chunk.length - TAIL_BYTES);
    this.tailChunks.push(unpinned(part));
    this.tailStored += part.length;
    // Drop whole chunks the later ones already cover (the rest is trimmed once, in tail()).
    while (this.tailStored - this.tailChunks[this.tailFirst]!.length >= TAIL_BYTES) this.tailStored -= this.tailChunks[this.tailFirst++]!.length;
    if (this.tailFirst > 1024 && this.tailFirst * 2 > this.tailChunks.length) {
      this.tailChunks = this.tailChunks.slice(this.tailFirst);
      this.tailFirst = 0;
    }
  }

  /** The body's bytes mean nothing alone under a content-coding: they are decoded from the first one, off the event loop. */
  private cross(): void {
    this.crossed = true;
    const coding = this.codingOf?.();
    this.identity = isIdentityCoded(coding);
    if (this.identity) return;
    this.decoded = decodedTailFor(coding, this.chunks[0] ?? Buffer.alloc(0));
    this.decoded?.feedHead(this.chunks);
  }

  get size(): number {
    return this.seen;
  }

  result(): Captured {
    const bytes = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.stored);
    this.chunks = [bytes];
    return { bytes, size: this.seen, truncated: this.seen > this.stored };
  }

  /**
   * The body's last TAIL_BYTES (all of it when shorter), for a body cut at the limit;
   * undefined for one kept whole. It reaches back into the kept head when fewer bytes
   * than that came past the limit: an event straddling the cut is whole in it. Call after result().
   */
  tail(): Buffer | undefined {
    if (!this.keepsTail || this.seen <= this.stored) return undefined;
    const head = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.stored);
    const fromHead = Math.max(0, TAIL_BYTES - this.tailStored);
    const joined = Buffer.concat([head.subarray(Math.max(0, head.length - fromHead)), ...this.tailChunks.slice(this.tailFirst)]);
    return joined.length <= TAIL_BYTES ? joined : joined.subarray(joined.length - TAIL_BYTES);
  }

  /**
   * The tail as a parser can read it, for a body cut at the limit: tail() for one sent without
   * content-coding, the decoded tail for a compressed one (waited for, briefly), undefined
   * when there is none (within the limit, a coding it cannot decode, decoding stopped).
   */
  readableTail(): Buffer | undefined | Promise<Buffer | undefined> {
    // Synchronous unless a decoder is to be waited for (a body within the limit: no promise, no tick).
    if (!this.crossed) return undefined;
    if (this.identity) return this.tail();
    return this.decoded?.finish();
  }
}

/**
 * A small view of a much larger buffer (what undici hands over: a slice of everything it
 * read from the socket at once) would keep the whole of it alive for as long as the
 * exchange: copied out instead.
 */
function unpinned(part: Buffer): Buffer {
  return part.buffer.byteLength > 4 * part.length + 8192 ? Buffer.from(part) : part;
}
