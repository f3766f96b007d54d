import type { RawHeaders } from '../exchange.js';

/** RFC 9110 §7.6.1 connection-specific headers, plus the proxy ones clients send us. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

/**
 * Drops hop-by-hop headers (and any named in Connection) from a raw header list;
 * everything else keeps its case, order and repetition.
 */
export function stripHopByHop(raw: RawHeaders): RawHeaders {
  let named: Set<string> | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') {
      named ??= new Set();
      for (const token of raw[i + 1]!.split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const out: RawHeaders = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named?.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/** Undici hands raw response headers over as Buffers (latin1 on the wire). */
export function rawFromBuffers(raw: ReadonlyArray<Buffer | string>): RawHeaders {
  const out: RawHeaders = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    out[i] = typeof v === 'string' ? v : v.toString('latin1');
  }
  return out;
}

/** A header value llmtap itself writes must not smuggle a line break or NUL onto the wire. */
export function isSafeHeaderValue(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}
