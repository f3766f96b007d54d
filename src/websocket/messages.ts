/**
 * Turns the frames one side of a WebSocket sent into messages (RFC 6455 §5.4:
 * fragments joined, control frames interleaved as messages of their own), keeping
 * at most `cap` bytes of each. Compressed messages (permessage-deflate, RSV1 on the
 * first frame) are inflated in order by the direction's Inflater. Pure apart from
 * the injected clock and inflater.
 */
import type { FrameHeader, FrameSink } from './frames.js';

/** Who sent a message. */
export type Direction = 'client' | 'server';

export const OPCODES = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** One message as seen on the wire; `data` fills in once inflated (see `ready`). */
export interface WsMessage {
  direction: Direction;
  /** Epoch ms when the message's last byte passed the proxy. */
  at: number;
  opcode: number;
  /** Payload bytes on the wire (compressed size for a compressed message). */
  size: number;
  compressed: boolean;
  /** The payload (inflated), at most `cap` bytes. */
  data: Buffer;
  truncated: boolean;
  /** Why the payload could not be read (inflate failed, unknown extension bits). */
  error?: string;
  ready: boolean;
}

/** Inflates one direction's messages, in order, with that direction's deflate context. */
export interface Inflater {
  inflate(compressed: Buffer, cap: number): Promise<{ data: Buffer; truncated: boolean }>;
  close(): void;
}

interface Building {
  message: WsMessage;
  parts: Buffer[];
  kept: number;
  /** A compressed message must be inflated whole; past this many bytes it is not kept. */
  tooBig: boolean;
}

export class MessageAssembler implements FrameSink {
  private data: Building | undefined;
  private control: Building | undefined;
  private inFrame: 'data' | 'control' | undefined;
  private fin = false;
  private chain: Promise<void> = Promise.resolve();
  /** Once a compressed message could not be fed to the inflater, later ones cannot be inflated either (shared context). */
  private inflateBroken: string | undefined;
  /** Close frames seen from this side. */
  closeSeen = false;

  constructor(
    private readonly direction: Direction,
    private readonly options: { cap: number; now: () => number; inflater?: Inflater; onMessage: (m: WsMessage) => void; onReady: () => void },
  ) {}

  frameStart(h: FrameHeader): void {
    this.fin = h.fin;
    if (h.opcode >= 8) {
      this.inFrame = 'control';
      this.control = this.begin(h.opcode, false);
      if (h.opcode === OPCODES.close) this.closeSeen = true;
      return;
    }
    this.inFrame = 'data';
    if (h.opcode !== OPCODES.continuation || !this.data) {
      const compressed = h.rsv1 && this.options.inflater !== undefined;
      this.data = this.begin(h.opcode, compressed);
      // RSV bits no negotiated extension explains: the bytes still pass, their meaning is unknown.
      if ((h.rsv1 && !compressed) || h.rsv2 || h.rsv3) this.data.message.error = 'unknown extension bits';
    }
  }

  payload(chunk: Buffer): void {
    const b = this.inFrame === 'control' ? this.control : this.data;
    if (!b) return;
    b.message.size += chunk.length;
    // Compressed bytes are all needed to inflate (bounded by a larger limit); plain ones only up to the cap.
    const limit = b.message.compressed ? this.options.cap * 4 : this.options.cap;
    const room = limit - b.kept;
    if (room <= 0) {
      if (b.message.compressed) b.tooBig = true;
      else b.message.truncated = true;
      return;
    }
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    if (part.length < chunk.length) {
      if (b.message.compressed) b.tooBig = true;
      else b.message.truncated = true;
    }
    b.parts.push(Buffer.from(part)); // a copy: the chunk belongs to the relay
    b.kept += part.length;
  }

  frameEnd(): void {
    if (this.inFrame === 'control' && this.control) {
      this.finish(this.control);
      this.control = undefined;
    } else if (this.inFrame === 'data' && this.fin && this.data) {
      this.finish(this.data);
      this.data = undefined;
    }
    this.inFrame = undefined;
  }

  /** Resolves when every message handed out so far has its data. */
  settled(): Promise<void> {
    return this.chain;
  }

  private begin(opcode: number, compressed: boolean): Building {
    const message: WsMessage = { direction: this.direction, at: 0, opcode, size: 0, compressed, data: EMPTY, truncated: false, ready: !compressed };
    return { message, parts: [], kept: 0, tooBig: false };
  }

  private finish(b: Building): void {
    const m = b.message;
    m.at = this.options.now();
    const joined = b.parts.length === 1 ? b.parts[0]! : Buffer.concat(b.parts, b.kept);
    const inflater = this.options.inflater;
    if (!m.compressed || !inflater) {
      m.data = joined;
      this.options.onMessage(m);
      return;
    }
    if (b.tooBig) this.inflateBroken ??= 'compressed message over the capture limit: not inflated (nor any after it)';
    this.options.onMessage(m);
    const broken = this.inflateBroken;
    this.chain = this.chain.then(async () => {
      if (broken) {
        m.error = broken;
      } else {
        try {
          const out = await inflater.inflate(joined, this.options.cap);
          m.data = out.data;
          m.truncated = out.truncated;
        } catch (err) {
          m.error = `inflate failed: ${(err as Error).message}`;
          this.inflateBroken ??= 'an earlier message failed to inflate';
        }
      }
      m.ready = true;
      this.options.onReady();
    });
  }
}

const EMPTY = Buffer.alloc(0);
