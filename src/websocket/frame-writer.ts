/**
 * What a WebSocket server writes itself (RFC 6455), for `llmtap mock`, which answers
 * upgrades with no server behind it, and for the close llmtap sends when a policy ends a
 * session: the Sec-WebSocket-Accept of a key (§4.2.2) and unmasked, unfragmented,
 * uncompressed frames (§5.2). Pure.
 */
import { createHash } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function websocketAccept(key: string): string {
  return createHash('sha1').update(`${key.trim()}${GUID}`).digest('base64');
}

/** A key is 16 random bytes, base64 (§4.1): anything else gets no 101. */
export function isValidWebSocketKey(key: string | undefined): key is string {
  return key !== undefined && /^[A-Za-z0-9+/]{22}==$/.test(key.trim());
}

/** One final frame as a server sends it (never masked). */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.alloc(2) : n < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | (opcode & 0x0f);
  if (n < 126) head[1] = n;
  else if (n < 65_536) {
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 127;
    head.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    head.writeUInt32BE(n >>> 0, 6);
  }
  return Buffer.concat([head, payload]);
}

/** A close frame's payload: the status code (RFC 6455 §7.4), then an ASCII reason (a control frame holds at most 125 bytes). */
export function closePayload(code: number, reason: string): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, Buffer.from(reason.slice(0, 123), 'latin1')]);
}

/**
 * The payload of the close answering a client's close: its status code echoed (§5.5.1)
 * with its reason, as the providers' servers (and the `ws` library) answer; none when it had no code.
 */
export function closeReplyPayload(clientPayload: Buffer): Buffer {
  return clientPayload.length >= 2 ? Buffer.from(clientPayload) : Buffer.alloc(0);
}
