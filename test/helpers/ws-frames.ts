/**
 * Frames made by the `ws` package itself (its Sender), for tests that need real
 * frames without a socket. `ws` exports Sender at runtime; @types/ws does not declare it.
 */
import * as ws from 'ws';

interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  maskBuffer?: Buffer;
  readOnly: boolean;
}

const Sender = (ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } }).Sender;

/** One frame as `ws` writes it (masked with `mask` when given, as a client does). */
export function wsFrame(opcode: number, payload: Buffer, options: { fin?: boolean; rsv1?: boolean; mask?: Buffer } = {}): Buffer {
  // A copy: with readOnly false, Sender masks the payload in place.
  return Buffer.concat(Sender.frame(Buffer.from(payload), {
    fin: options.fin ?? true, rsv1: options.rsv1 ?? false, opcode, mask: options.mask !== undefined,
    maskBuffer: options.mask, readOnly: false,
  }));
}
