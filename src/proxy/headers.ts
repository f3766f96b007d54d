import { LlmtapError } from '../errors.js';
import type { RawHeaders } from '../exchange.js';

/**
 * RFC 9110 §7.6.1 connection-specific headers, plus the proxy ones clients send us, and
 * `Trailer`. `Trailer` is end-to-end (RFC 9110 §6.6.2), but a request's trailer fields are
 * refused (request-body.ts), so on a request it would announce fields that never come; an
 * answer keeps it when it goes out chunked (see `keepTrailer`).
 */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

/**
 * Drops hop-by-hop headers (and any named in Connection) from a raw header list;
 * everything else keeps its case, order and repetition. `keepTrailer`: an answer whose
 * trailer fields are forwarded (relay.ts) keeps the `Trailer` header announcing them.
 */
export function stripHopByHop(raw: RawHeaders, keepTrailer = false): RawHeaders {
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
    if ((HOP_BY_HOP.has(lower) && !(keepTrailer && lower === 'trailer')) || named?.has(lower)) continue;
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

/** An RFC 9110 field name (a token): nothing that could end the line or the name early. */
export function isSafeHeaderName(name: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name);
}

/**
 * Sets one header in a raw list (what policy rewriting uses): the first entry with
 * that name (any case) takes the value, later repeats go, and a new name is appended.
 * Returns a new list. A name or value that could inject a line (CR, LF, NUL) or is
 * not a valid field name is refused with `bad_request`; nothing reaches the wire.
 */
export function setHeader(raw: RawHeaders, name: string, value: string): RawHeaders {
  if (!isSafeHeaderName(name) || !isSafeHeaderValue(value)) {
    throw new LlmtapError('bad_request', { cause: new Error(`refused to write header ${JSON.stringify(name)}: CR, LF, NUL or an invalid name`) });
  }
  const lower = name.toLowerCase();
  const out: RawHeaders = [];
  let done = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== lower) {
      out.push(raw[i]!, raw[i + 1]!);
    } else if (!done) {
      out.push(raw[i]!, value);
      done = true;
    }
  }
  if (!done) out.push(name, value);
  return out;
}

/**
 * The headers an absolute-form request (plain-HTTP proxying) goes upstream with: RFC
 * 9112 §3.2.2 has a proxy ignore the Host it received and send one made from the
 * target, so that the server cannot pick another virtual host than the one llmtap
 * checked and records. A Host already naming the target (any case, the default port
 * written out or not) is kept as sent; without one, the upstream client writes it.
 */
export function withTargetHost(raw: RawHeaders, authority: string): RawHeaders {
  const at = raw.findIndex((name, i) => i % 2 === 0 && name.toLowerCase() === 'host');
  if (at < 0 || sameAuthority(raw[at + 1]!, authority)) return raw;
  return setHeader(raw, raw[at]!, authority);
}

function sameAuthority(host: string, authority: string): boolean {
  try {
    return new URL(`http://${host.trim()}`).host === authority;
  } catch {
    return false;
  }
}
