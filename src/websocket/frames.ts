/**
 * An incremental reader of RFC 6455 frames (§5.2), fed a COPY of the bytes one side
 * sent, in whatever pieces the network delivered. It never touches the bytes it is
 * given (masked payloads are unmasked into new buffers), so the relayed stream stays
 * byte-exact; it only reports what it saw. Pure: no sockets, no zlib.
 *
 * Why not `ws`'s exported Receiver: it unmasks payloads in place (which would corrupt
 * the chunk still queued for the other socket), enforces its own limits by failing
 * the connection, and its permessage-deflate support is not exported.
 */

export interface FrameHeader {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  /** Payload length in bytes as the header declares it. */
  length: number;
}

/** Receives what the reader finds, in wire order. */
export interface FrameSink {
  frameStart(header: FrameHeader): void;
  /** A piece of the (unmasked) payload of the current frame; pieces add up to header.length. */
  payload(chunk: Buffer): void;
  frameEnd(): void;
}

/** Payload lengths past 2^53 cannot be counted exactly; no real peer sends them. */
const MAX_SAFE_LENGTH = Number.MAX_SAFE_INTEGER;

type State = { kind: 'head' } | { kind: 'payload'; remaining: number; mask: Buffer | undefined; offset: number };

export class FrameReader {
  private state: State = { kind: 'head' };
  /** Bytes of a frame head not complete yet (at most 14). */
  private pending: Buffer = Buffer.alloc(0);
  /** Set when the stream stopped making sense; the reader then ignores further input. */
  error: string | undefined;

  constructor(private readonly sink: FrameSink) {}

  /** True between frames: every byte read so far belonged to a whole frame (a frame of our own may follow them). */
  get atBoundary(): boolean {
    return this.state.kind === 'head' && this.pending.length === 0 && !this.error;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.error) {
      if (this.state.kind === 'head') {
        const needed = this.headNeeds(chunk, at);
        if (needed === 0) return; // everything left is an incomplete head, kept in `pending`
        at = needed;
      } else {
        at = this.readPayload(chunk, at);
      }
    }
  }

  /** Parses a head starting at `pending` + chunk[at..]; returns the next offset, or 0 when it needs more bytes. */
  private headNeeds(chunk: Buffer, at: number): number {
    const head = this.pending.length > 0 ? Buffer.concat([this.pending, chunk.subarray(at, at + 14)]) : chunk.subarray(at, at + 14);
    const parsed = parseHead(head);
    if (parsed === 'short') {
      this.pending = Buffer.from(head); // a copy: never keep a view on the caller's buffer
      return 0;
    }
    if (typeof parsed === 'string') {
      this.error = parsed;
      return chunk.length;
    }
    const fromChunk = parsed.headBytes - this.pending.length;
    this.pending = Buffer.alloc(0);
    this.sink.frameStart(parsed.header);
    this.state = { kind: 'payload', remaining: parsed.header.length, mask: parsed.mask, offset: 0 };
    if (parsed.header.length === 0) this.endFrame();
    return at + fromChunk;
  }

  private readPayload(chunk: Buffer, at: number): number {
    const state = this.state as Extract<State, { kind: 'payload' }>;
    const take = Math.min(state.remaining, chunk.length - at);
    const part = chunk.subarray(at, at + take);
    this.sink.payload(state.mask ? unmask(part, state.mask, state.offset) : part);
    state.remaining -= take;
    state.offset += take;
    if (state.remaining === 0) this.endFrame();
    return at + take;
  }

  private endFrame(): void {
    this.state = { kind: 'head' };
    this.sink.frameEnd();
  }
}

interface ParsedHead {
  header: FrameHeader;
  mask: Buffer | undefined;
  headBytes: number;
}

/** 'short' when more bytes are needed; a string naming the problem for a head no peer may send. */
export function parseHead(b: Buffer): ParsedHead | 'short' | string {
  if (b.length < 2) return 'short';
  const b0 = b[0]!;
  const b1 = b[1]!;
  const opcode = b0 & 0x0f;
  const masked = (b1 & 0x80) !== 0;
  let length = b1 & 0x7f;
  let at = 2;
  if (length === 126) {
    if (b.length < 4) return 'short';
    length = b.readUInt16BE(2);
    at = 4;
  } else if (length === 127) {
    if (b.length < 10) return 'short';
    const high = b.readUInt32BE(2);
    if (high > 0x1fffff) return 'payload length over 2^53';
    length = high * 2 ** 32 + b.readUInt32BE(6);
    at = 10;
  }
  if (length > MAX_SAFE_LENGTH) return 'payload length over 2^53';
  if ((opcode >= 3 && opcode <= 7) || opcode >= 11) return `reserved opcode ${opcode}`;
  if (opcode >= 8 && (length > 125 || (b0 & 0x80) === 0)) return 'control frame too long or fragmented';
  let mask: Buffer | undefined;
  if (masked) {
    if (b.length < at + 4) return 'short';
    mask = Buffer.from(b.subarray(at, at + 4));
    at += 4;
  }
  const header: FrameHeader = { fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, rsv2: (b0 & 0x20) !== 0, rsv3: (b0 & 0x10) !== 0, opcode, masked, length };
  return { header, mask, headBytes: at };
}

/** XORs a copy of `part` with the mask, `offset` bytes into the payload. */
export function unmask(part: Buffer, mask: Buffer, offset: number): Buffer {
  const out = Buffer.allocUnsafe(part.length);
  for (let i = 0; i < part.length; i++) out[i] = part[i]! ^ mask[(offset + i) & 3]!;
  return out;
}
