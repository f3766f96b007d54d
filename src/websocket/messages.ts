/**
 * Turns the frames one side of a WebSocket sent into messages (RFC 6455 §5.4:
 * fragments joined, control frames interleaved as messages of their own), keeping
 * at most `cap` bytes of each. Compressed messages (permessage-deflate, RSV1 on the
 * first frame) are inflated in order by the direction's Inflater, fed as their frames
 * arrive: however large a compressed message, the messages after it stay readable.
 * Pure apart from the injected clock and inflater.
 */
import { ByteFeed } from './byte-feed.js';
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

/** Inflates one direction's messages, in order, with that direction's deflate context; each message's bytes come as they arrive. */
export interface Inflater {
  inflate(compressed: AsyncIterable<Buffer>, cap: number): Promise<{ data: Buffer; truncated: boolean }>;
  close(): void;
}

interface Building {
  message: WsMessage;
  parts: Buffer[];
  kept: number;
  /** A compressed message's bytes on their way to the inflater. */
  feed?: ByteFeed;
}

/**
 * Compressed bytes waiting for an inflater that runs behind the network are bounded by
 * this (or 4x the cap when larger); past it the direction gives up inflating, as it
 * must once a message's bytes are lost (shared context). zlib outpaces any real peer.
 */
const BACKLOG_FLOOR = 16 * 1024 * 1024;

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
    if (b.feed) return this.feed(b.feed, chunk);
    const room = this.options.cap - b.kept;
    if (room <= 0) {
      b.message.truncated = true;
      return;
    }
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    if (part.length < chunk.length) b.message.truncated = true;
    b.parts.push(Buffer.from(part)); // a copy: the chunk belongs to the relay
    b.kept += part.length;
  }

  /** Every compressed byte goes to the inflater (a copy: the chunk belongs to the relay), unless it fell too far behind. */
  private feed(feed: ByteFeed, chunk: Buffer): void {
    if (feed.backlog + chunk.length > Math.max(BACKLOG_FLOOR, this.options.cap * 4)) {
      this.inflateBroken ??= 'the inflater fell too far behind: not inflated (nor any message after it)';
      feed.end(true);
      return;
    }
    feed.push(Buffer.from(chunk));
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

  /** Once the stream is over: resolves when every message handed out has its data (one left unfinished is dropped). */
  settled(): Promise<void> {
    // An unfinished compressed message's inflation would wait for frames that never come.
    this.data?.feed?.end(true);
    return this.chain;
  }

  private begin(opcode: number, compressed: boolean): Building {
    const message: WsMessage = { direction: this.direction, at: 0, opcode, size: 0, compressed, data: EMPTY, truncated: false, ready: !compressed };
    const b: Building = { message, parts: [], kept: 0 };
    if (compressed) this.startInflating(b);
    return b;
  }

  /** Queues the message's inflation behind the direction's earlier ones; it reads the feed while the frames come. */
  private startInflating(b: Building): void {
    const inflater = this.options.inflater!;
    const feed = (b.feed = new ByteFeed());
    const m = b.message;
    this.chain = this.chain.then(async () => {
      // Checked when its turn comes: an earlier message may have broken the shared context meanwhile.
      const broken = this.inflateBroken;
      if (broken) {
        m.error = broken;
      } else {
        try {
          const out = await inflater.inflate(feed, this.options.cap);
          // Its bytes fell too far behind while it ran: what was inflated is not the whole message.
          if (this.inflateBroken && feed.dropped) throw new Error('fell too far behind');
          m.data = out.data;
          m.truncated = out.truncated;
        } catch (err) {
          m.error = `inflate failed: ${(err as Error).message}`;
          this.inflateBroken ??= 'an earlier message failed to inflate';
        }
      }
      feed.end(true);
      m.ready = true;
      this.options.onReady();
    });
  }

  private finish(b: Building): void {
    const m = b.message;
    m.at = this.options.now();
    if (b.feed) {
      b.feed.end();
      this.options.onMessage(m);
      return;
    }
    m.data = b.parts.length === 1 ? b.parts[0]! : Buffer.concat(b.parts, b.kept);
    this.options.onMessage(m);
  }
}

const EMPTY = Buffer.alloc(0);
