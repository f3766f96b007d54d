import { constants, createBrotliDecompress, createGunzip, createInflate, createInflateRaw, type BrotliDecompress, type Gunzip, type Inflate, type InflateRaw } from 'node:zlib';

/**
 * Bytes of a body's end kept past the capture limit, decoded here for a compressed answer,
 * as they come for one sent without content-coding (capture.ts TAIL_BYTES is this one):
 * where providers put the usage.
 */
export const DECODED_TAIL_BYTES = 64 * 1024;

/**
 * Decoding stops (no tail, as for a coding it cannot read) past either bound, whichever
 * comes first. The total bounds the work one answer can cost the thread pool (a GiB of
 * gzip or brotli is a few seconds of one thread), whatever its size. The ratio stops a
 * bomb long before that: LLM answers (JSON, SSE, base64 images) compress a few times to a
 * few tens of times, while a gzip bomb expands ~1000 times and a brotli one far more.
 */
export const MAX_DECODED_TOTAL = 1024 * 1024 * 1024;
export const MAX_EXPANSION = 200;
/** The ratio is judged only past this much output: a stream's first block can expand far more than the whole. */
const RATIO_FROM = 4 * 1024 * 1024;
/** Compressed bytes waiting for a decoder that fell behind the network, past the head: beyond this it gives up rather than hold them. */
const MAX_PENDING = 32 * 1024 * 1024;
/** How long the end of the answer waits for the decoder to finish. */
export const FINISH_WAIT_MS = 3000;

type Decoder = Gunzip | Inflate | InflateRaw | BrotliDecompress;

/**
 * The decoded end of a body in one zlib coding (gzip, x-gzip, deflate, br; not zstd, which
 * node:zlib of Node 20 cannot stream, nor a list of several codings), fed the body from its
 * first byte. The decoding runs on the thread pool, off the event loop; only the last
 * DECODED_TAIL_BYTES of its output are kept. undefined when the coding is not one of those.
 */
export function decodedTailFor(contentEncoding: string | undefined, firstBytes: Buffer): DecodedTail | undefined {
  const codings = (contentEncoding ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
  if (codings.length !== 1) return undefined;
  // A truncated body (the answer cut) still yields what it decoded so far: no error at its end.
  const zlibOptions = { finishFlush: constants.Z_SYNC_FLUSH };
  switch (codings[0]) {
    case 'gzip':
    case 'x-gzip':
      return new DecodedTail(createGunzip(zlibOptions));
    case 'deflate':
      // "deflate" is zlib-wrapped by the spec, but some servers send raw deflate (as content-encoding.ts reads it).
      return new DecodedTail(isZlibHeader(firstBytes) ? createInflate(zlibOptions) : createInflateRaw(zlibOptions));
    case 'br':
      return new DecodedTail(createBrotliDecompress({ finishFlush: constants.BROTLI_OPERATION_FLUSH }));
    default:
      return undefined;
  }
}

/** RFC 1950's two-byte header: method 8 (deflate), the pair a multiple of 31. */
function isZlibHeader(b: Buffer): boolean {
  return b.length >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0;
}

export class DecodedTail {
  private out: Buffer[] = [];
  private kept = 0;
  private decodedTotal = 0;
  private fedTotal = 0;
  /** Compressed bytes fed before the first push past the head: allowed to wait on the decoder. */
  private headBytes = 0;
  private failed = false;
  private done: Promise<void>;

  constructor(private readonly decoder: Decoder) {
    this.done = new Promise((resolve) => {
      decoder.on('data', (chunk: Buffer) => this.keep(chunk));
      decoder.once('end', resolve);
      // `on`, not `once`: an error after the first (a write racing destroy) must not go unhandled.
      decoder.on('error', () => {
        this.failed = true;
        resolve();
      });
      decoder.once('close', resolve);
    });
  }

  /** The head kept so far, fed at once when the limit is crossed. */
  feedHead(chunks: readonly Buffer[]): void {
    for (const chunk of chunks) this.push(chunk);
    this.headBytes = this.fedTotal;
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    this.fedTotal += chunk.length;
    if (this.decoder.writableLength > this.headBytes + MAX_PENDING) return this.stop();
    this.decoder.write(chunk);
  }

  private keep(chunk: Buffer): void {
    if (this.failed) return;
    this.decodedTotal += chunk.length;
    if (this.decodedTotal > MAX_DECODED_TOTAL || (this.decodedTotal > RATIO_FROM && this.decodedTotal > MAX_EXPANSION * this.fedTotal)) return this.stop();
    const part = chunk.length <= DECODED_TAIL_BYTES ? chunk : chunk.subarray(chunk.length - DECODED_TAIL_BYTES);
    this.out.push(part);
    this.kept += part.length;
    // A handful of zlib's 16 KiB chunks: shift is cheap.
    while (this.kept - this.out[0]!.length >= DECODED_TAIL_BYTES) this.kept -= this.out.shift()!.length;
  }

  private stop(): void {
    this.failed = true;
    this.out = [];
    this.decoder.destroy();
  }

  /**
   * The last DECODED_TAIL_BYTES of the decoded body once all of it is decoded; undefined when
   * decoding stopped (a bound, damaged bytes) or did not finish within `waitMs`.
   */
  async finish(waitMs = FINISH_WAIT_MS): Promise<Buffer | undefined> {
    if (!this.failed) this.decoder.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), waitMs)));
    const timedOut = await Promise.race([this.done.then(() => false), late]);
    clearTimeout(timer);
    if (timedOut) this.stop();
    if (this.failed) return undefined;
    const joined = Buffer.concat(this.out, this.kept);
    return joined.length <= DECODED_TAIL_BYTES ? joined : joined.subarray(joined.length - DECODED_TAIL_BYTES);
  }
}
