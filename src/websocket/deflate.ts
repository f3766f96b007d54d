/**
 * permessage-deflate (RFC 7692) as far as reading a copy needs: the parameters the
 * server accepted in its 101, and a per-direction inflater that keeps the sender's
 * LZ77 window between messages (context takeover) unless the sender promised not to.
 */
import { constants, createInflateRaw, type InflateRaw } from 'node:zlib';
import type { Inflater } from './messages.js';

export interface DeflateSide {
  /** The sender resets its window after every message. */
  noContextTakeover: boolean;
  /** The sender's LZ77 window is at most 2^bits bytes (8–15). */
  maxWindowBits: number;
}

export interface DeflateParams {
  client: DeflateSide;
  server: DeflateSide;
}

/**
 * The permessage-deflate parameters of a Sec-WebSocket-Extensions answer, or
 * undefined when the server did not accept the extension.
 */
export function parseDeflateParams(header: string | undefined): DeflateParams | undefined {
  if (!header) return undefined;
  for (const offer of header.split(',')) {
    const [name, ...params] = offer.split(';').map((s) => s.trim());
    if (name?.toLowerCase() !== 'permessage-deflate') continue;
    const out: DeflateParams = { client: { noContextTakeover: false, maxWindowBits: 15 }, server: { noContextTakeover: false, maxWindowBits: 15 } };
    for (const param of params) {
      const [key, raw] = param.split('=').map((s) => s.trim());
      const value = raw === undefined ? undefined : Number(raw.replace(/^"|"$/g, ''));
      const bits = value !== undefined && Number.isInteger(value) && value >= 8 && value <= 15 ? value : undefined;
      switch (key?.toLowerCase()) {
        case 'client_no_context_takeover': out.client.noContextTakeover = true; break;
        case 'server_no_context_takeover': out.server.noContextTakeover = true; break;
        case 'client_max_window_bits': if (bits) out.client.maxWindowBits = bits; break;
        case 'server_max_window_bits': if (bits) out.server.maxWindowBits = bits; break;
      }
    }
    return out;
  }
  return undefined;
}

/** RFC 7692 §7.2.2: the sender strips this empty stored block's tail; the reader puts it back. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * One direction's inflater. Messages go through one at a time (the MessageAssembler
 * chains them), each read from its feed as its frames arrive, so the output collected
 * until its flush belongs to that message and its compressed bytes are never kept whole.
 * Output past `cap` is dropped as it comes: a small message that inflates to gigabytes
 * costs CPU, never memory.
 */
export class ZlibInflater implements Inflater {
  private stream: InflateRaw | undefined;

  constructor(private readonly side: DeflateSide) {}

  async inflate(compressed: AsyncIterable<Buffer>, cap: number): Promise<{ data: Buffer; truncated: boolean }> {
    const z = (this.stream ??= this.open());
    const parts: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    const onData = (chunk: Buffer): void => {
      const room = cap - kept;
      if (chunk.length > room) truncated = true;
      if (room <= 0) return;
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      parts.push(part);
      kept += part.length;
    };
    let onError!: (err: Error) => void;
    // A zlib error may leave a write's or the flush's callback uncalled: every step races it.
    const failed = new Promise<never>((_, reject) => (onError = reject));
    failed.catch(() => {});
    const step = (op: (done: () => void) => void): Promise<void> => Promise.race([new Promise<void>((resolve) => op(resolve)), failed]);
    z.on('data', onData);
    z.once('error', onError);
    try {
      // One chunk in zlib at a time: what waits is in the feed, where the assembler bounds it.
      for await (const chunk of compressed) await step((done) => z.write(chunk, () => done()));
      await step((done) => z.write(TAIL, () => done()));
      await step((done) => z.flush(constants.Z_SYNC_FLUSH, () => done()));
    } catch (err) {
      this.close();
      throw err;
    } finally {
      z.off('data', onData);
      z.off('error', onError);
    }
    if (this.side.noContextTakeover) this.close();
    return { data: parts.length === 1 ? parts[0]! : Buffer.concat(parts, kept), truncated };
  }

  private open(): InflateRaw {
    // zlib refuses a raw window of 8 bits; 9 reads anything an 8-bit sender wrote.
    const z = createInflateRaw({ windowBits: Math.max(9, this.side.maxWindowBits) });
    // Errors are each message's (inflate() listens while it runs); one between messages must not go unhandled.
    z.on('error', () => {});
    return z;
  }

  close(): void {
    this.stream?.close();
    this.stream = undefined;
  }
}
