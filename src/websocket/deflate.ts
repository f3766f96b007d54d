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
 * chains them), so the output collected between a write and its flush belongs to that
 * message. Output past `cap` is dropped as it comes: a small message that inflates to
 * gigabytes costs CPU, never memory.
 */
export class ZlibInflater implements Inflater {
  private stream: InflateRaw | undefined;

  constructor(private readonly side: DeflateSide) {}

  inflate(compressed: Buffer, cap: number): Promise<{ data: Buffer; truncated: boolean }> {
    // zlib refuses a raw window of 8 bits; 9 reads anything an 8-bit sender wrote.
    const z = (this.stream ??= createInflateRaw({ windowBits: Math.max(9, this.side.maxWindowBits) }));
    return new Promise((resolve, reject) => {
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
      const onError = (err: Error): void => {
        z.off('data', onData);
        this.close();
        reject(err);
      };
      z.on('data', onData);
      z.once('error', onError);
      z.write(compressed);
      z.write(TAIL);
      z.flush(constants.Z_SYNC_FLUSH, () => {
        z.off('data', onData);
        z.off('error', onError);
        if (this.side.noContextTakeover) this.close();
        resolve({ data: parts.length === 1 ? parts[0]! : Buffer.concat(parts, kept), truncated });
      });
    });
  }

  close(): void {
    this.stream?.close();
    this.stream = undefined;
  }
}
