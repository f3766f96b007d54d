/**
 * Peeks at the first bytes a client sends after CONNECT to learn whether it
 * is starting TLS, and if so which host (SNI) and protocols (ALPN) it wants,
 * without consuming anything: the caller still decides whether to intercept
 * or tunnel the untouched bytes.
 */

export type HelloPeek =
  | { kind: 'incomplete' }
  | { kind: 'not-tls' }
  | { kind: 'hello'; sni?: string; alpn: string[] };

/** Callers stop buffering past this; a real ClientHello is a few hundred bytes to a few KB. */
export const MAX_HELLO_BYTES = 64 * 1024;

const CONTENT_TYPE_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const RECORD_HEADER_LENGTH = 5;
const HANDSHAKE_HEADER_LENGTH = 4;
// RFC 8446 5.1: plaintext records carry at most 2^14 bytes.
const MAX_RECORD_PAYLOAD = 1 << 14;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const SNI_HOST_NAME = 0;

const INCOMPLETE: HelloPeek = { kind: 'incomplete' };
const NOT_TLS: HelloPeek = { kind: 'not-tls' };

export function peekClientHello(buf: Buffer): HelloPeek {
  // The handshake message may be split across records; gather the payloads.
  const fragments: Buffer[] = [];
  let gathered = 0;
  let needed: number | undefined;
  let offset = 0;

  while (needed === undefined || gathered < needed) {
    if (offset >= buf.length) return INCOMPLETE;
    if (buf[offset] !== CONTENT_TYPE_HANDSHAKE) return NOT_TLS;
    if (offset + 1 < buf.length && buf[offset + 1] !== 0x03) return NOT_TLS;
    if (offset + RECORD_HEADER_LENGTH > buf.length) return INCOMPLETE;
    const recordLength = buf.readUInt16BE(offset + 3);
    // Empty handshake records are forbidden (RFC 8446 5.1), oversized ones impossible.
    if (recordLength === 0 || recordLength > MAX_RECORD_PAYLOAD) return NOT_TLS;
    const start = offset + RECORD_HEADER_LENGTH;
    const end = Math.min(start + recordLength, buf.length);
    fragments.push(buf.subarray(start, end));
    gathered += end - start;
    offset = start + recordLength;

    if (needed === undefined && gathered >= HANDSHAKE_HEADER_LENGTH) {
      const head = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return NOT_TLS;
      const bodyLength = head.readUIntBE(1, 3);
      // Something this large would never fit in the caller's peek buffer.
      if (bodyLength > MAX_HELLO_BYTES) return NOT_TLS;
      needed = HANDSHAKE_HEADER_LENGTH + bodyLength;
    }
    // A record cut short by the end of the buffer: wait for the rest.
    if (end < start + recordLength && (needed === undefined || gathered < needed)) return INCOMPLETE;
  }

  const handshake = Buffer.concat(fragments).subarray(HANDSHAKE_HEADER_LENGTH, needed);
  return parseClientHelloBody(handshake) ?? NOT_TLS;
}

/** Returns undefined when the body is malformed. */
function parseClientHelloBody(body: Buffer): HelloPeek | undefined {
  const r = new Reader(body);
  r.skip(2 + 32); // legacy_version, random
  r.skip(r.u8()); // legacy_session_id
  r.skip(r.u16()); // cipher_suites
  r.skip(r.u8()); // legacy_compression_methods
  if (!r.ok) return undefined;
  // Pre-TLS 1.2 clients may omit extensions entirely.
  if (r.remaining === 0) return { kind: 'hello', alpn: [] };

  const extensionsLength = r.u16();
  if (!r.ok || extensionsLength !== r.remaining) return undefined;

  let sni: string | undefined;
  let alpn: string[] = [];
  while (r.ok && r.remaining > 0) {
    const type = r.u16();
    const data = r.bytes(r.u16());
    if (!r.ok) return undefined;
    if (type === EXT_SERVER_NAME && sni === undefined) {
      const parsed = parseServerName(data);
      if (parsed === null) return undefined;
      sni = parsed;
    } else if (type === EXT_ALPN) {
      const parsed = parseAlpn(data);
      if (parsed === null) return undefined;
      alpn = parsed;
    }
  }
  if (!r.ok) return undefined;
  return sni === undefined ? { kind: 'hello', alpn } : { kind: 'hello', sni, alpn };
}

/** RFC 6066 3: the first host_name entry; null when malformed. */
function parseServerName(data: Buffer): string | undefined | null {
  const r = new Reader(data);
  const list = new Reader(r.bytes(r.u16()));
  if (!r.ok || r.remaining !== 0) return null;
  let host: string | undefined;
  while (list.ok && list.remaining > 0) {
    const nameType = list.u8();
    const name = list.bytes(list.u16());
    // latin1 keeps every byte distinct, so a non-ASCII name fails host validation later instead of aliasing.
    if (list.ok && nameType === SNI_HOST_NAME && host === undefined && name.length > 0) host = name.toString('latin1');
  }
  return list.ok ? host : null;
}

/** RFC 7301 3.1: the protocol_name_list; null when malformed. */
function parseAlpn(data: Buffer): string[] | null {
  const r = new Reader(data);
  const list = new Reader(r.bytes(r.u16()));
  if (!r.ok || r.remaining !== 0) return null;
  const protocols: string[] = [];
  while (list.ok && list.remaining > 0) {
    const name = list.bytes(list.u8());
    if (list.ok) protocols.push(name.toString('latin1'));
  }
  return list.ok ? protocols : null;
}

/**
 * Bounds-checked big-endian reader. Reading past the end sets ok=false and
 * yields zeros/empty buffers, so parsers check ok once per step instead of
 * guarding every read.
 */
class Reader {
  ok = true;
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number {
    return this.take(1)?.readUInt8(0) ?? 0;
  }

  u16(): number {
    return this.take(2)?.readUInt16BE(0) ?? 0;
  }

  bytes(length: number): Buffer {
    return this.take(length) ?? Buffer.alloc(0);
  }

  skip(length: number): void {
    this.take(length);
  }

  private take(length: number): Buffer | undefined {
    if (!this.ok || length > this.remaining) {
      this.ok = false;
      return undefined;
    }
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
}
