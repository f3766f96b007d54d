import { brotliDecompressSync, constants, gunzipSync, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { decodeZstd } from './zstd-decode.js';

/** A few hundred compressed bytes can inflate to gigabytes: decoding stops here. */
export const MAX_DECODED_BYTES = 64 * 1024 * 1024;

/**
 * How much of a body is decoded for storage when all of it cannot be (over
 * MAX_DECODED_BYTES, or damaged part-way): enough to see what it was, small enough
 * that finding the prefix stays cheap for zlib codings (see prefixOf).
 */
export const STORED_PREFIX_BYTES = 1024 * 1024;

export interface DecodedContent {
  bytes: Buffer;
  /** False when `bytes` is only a prefix of the decoded body (over the cap, cut short or damaged). */
  complete: boolean;
}

type Coding = 'gzip' | 'br' | 'deflate' | 'zstd';
/**
 * A Map, not an object literal: the names come from the client's Content-Encoding, and
 * `__proto__` or `constructor` would find Object.prototype's members (the body was then
 * "decoded" to undefined and its archive row had no body value at all).
 */
const CODINGS: ReadonlyMap<string, Coding | 'identity'> = new Map<string, Coding | 'identity'>([['identity', 'identity'], ['gzip', 'gzip'], ['x-gzip', 'gzip'], ['br', 'br'], ['deflate', 'deflate'], ['zstd', 'zstd']]);

/**
 * Undoes Content-Encoding for storage and parsing (never for the wire: the client
 * always gets the bytes the provider sent). Tolerates a truncated capture (the
 * decodable prefix). Returns undefined when a coding is unknown, the bytes do not
 * decode at all, or the body decodes past MAX_DECODED_BYTES: parsers then skip it.
 */
export function decodeBody(bytes: Buffer, contentEncoding: string | undefined): Buffer | undefined {
  const out = decodeContent(bytes, contentEncoding, { prefixOnFailure: false });
  return out && (out.complete || !out.overCap) ? out.bytes : undefined;
}

/**
 * decodeBody for storage: when all of the body cannot be decoded (over the cap,
 * damaged part-way) the decodable prefix comes back with complete: false, so the
 * archive keeps readable, redacted text instead of encoded bytes. Undefined when
 * nothing can be decoded (an unknown coding, bytes that are not the coding at all).
 */
export function decodeForStorage(bytes: Buffer, contentEncoding: string | undefined): DecodedContent | undefined {
  const out = decodeContent(bytes, contentEncoding, { prefixOnFailure: true });
  // An empty "prefix" of a non-empty body says nothing: keep only the digest.
  if (!out || (!out.complete && out.bytes.length === 0)) return undefined;
  return { bytes: out.bytes, complete: out.complete };
}

/** True when a body under this Content-Encoding is its own bytes (none, or only `identity`): a part of it can be read alone. */
export function isIdentityCoded(contentEncoding: string | undefined): boolean {
  return (contentEncoding ?? '').split(',').every((c) => ['', 'identity'].includes(c.trim().toLowerCase()));
}

function decodeContent(bytes: Buffer, contentEncoding: string | undefined, options: { prefixOnFailure: boolean }): (DecodedContent & { overCap: boolean }) | undefined {
  if (!contentEncoding) return { bytes, complete: true, overCap: false };
  // Codings are listed in the order they were applied; undo them last to first.
  const codings = contentEncoding.split(',').map((c) => c.trim().toLowerCase()).filter(Boolean).reverse();
  let out = bytes;
  let complete = true;
  let overCap = false;
  for (const name of codings) {
    const coding = CODINGS.get(name);
    if (coding === undefined) return undefined;
    if (coding === 'identity') continue;
    const layer = decodeLayer(out, coding, options.prefixOnFailure);
    if (!layer) return undefined;
    out = layer.bytes;
    complete &&= layer.complete;
    overCap ||= layer.overCap;
  }
  return { bytes: out, complete, overCap };
}

interface Layer extends DecodedContent {
  overCap: boolean;
}

function decodeLayer(input: Buffer, coding: Coding, prefixOnFailure: boolean): Layer | undefined {
  if (coding === 'zstd') {
    const out = decodeZstd(input, MAX_DECODED_BYTES);
    if (!out) return undefined;
    const overCap = out.bytes.length >= MAX_DECODED_BYTES && !out.complete;
    return overCap && prefixOnFailure ? { bytes: out.bytes.subarray(0, STORED_PREFIX_BYTES), complete: false, overCap } : { ...out, overCap };
  }
  try {
    return { bytes: zlibDecode(input, coding, MAX_DECODED_BYTES, false), complete: true, overCap: false };
  } catch (err) {
    const overCap = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    // A capture cut short: undo what arrived (gzip/deflate Z_SYNC_FLUSH, brotli FLUSH).
    if (!overCap) {
      try {
        return { bytes: zlibDecode(input, coding, MAX_DECODED_BYTES, true), complete: false, overCap: false };
      } catch {
        // damaged, not just cut short
      }
    }
    if (!prefixOnFailure) return overCap ? { bytes: Buffer.alloc(0), complete: false, overCap } : undefined;
    const prefix = prefixOf(input, coding);
    return prefix ? { bytes: prefix, complete: false, overCap } : undefined;
  }
}

function zlibDecode(input: Buffer, coding: Exclude<Coding, 'zstd'>, maxOutputLength: number, tolerateEnd: boolean): Buffer {
  const options: ZlibOptions = { maxOutputLength, ...(tolerateEnd ? { finishFlush: constants.Z_SYNC_FLUSH } : {}) };
  switch (coding) {
    case 'gzip': return gunzipSync(input, options);
    case 'br': return brotliDecompressSync(input, { maxOutputLength, ...(tolerateEnd ? { finishFlush: constants.BROTLI_OPERATION_FLUSH } : {}) });
    case 'deflate':
      // "deflate" is zlib-wrapped by the spec, but some servers send raw deflate.
      try {
        return inflateSync(input, options);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw err;
        return inflateRawSync(input, options);
      }
  }
}

/**
 * The longest decodable output of at most STORED_PREFIX_BYTES, found by bisecting
 * the input length: Node's synchronous zlib keeps nothing when it stops at
 * maxOutputLength or at damage, but a shorter input decodes (with a tolerated end)
 * to a prefix of the output. About log2(input) tries of ≤ 1 MiB each.
 */
function prefixOf(input: Buffer, coding: Exclude<Coding, 'zstd'>): Buffer | undefined {
  let best: Buffer | undefined;
  let lo = 1;
  let hi = input.length;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    let out: Buffer | undefined;
    try {
      out = zlibDecode(input.subarray(0, mid), coding, STORED_PREFIX_BYTES, true);
    } catch {
      out = undefined;
    }
    if (out) {
      if (!best || out.length >= best.length) best = out;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best && best.length > 0 ? best : undefined;
}
