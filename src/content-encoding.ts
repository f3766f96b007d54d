import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';

/** A few hundred compressed bytes can inflate to gigabytes: decoding stops here (then the raw bytes are kept). */
export const MAX_DECODED_BYTES = 64 * 1024 * 1024;

/**
 * Undoes Content-Encoding for storage and parsing (never for the wire: the client
 * always gets the bytes the provider sent). Returns undefined when the encoding is
 * unknown or the bytes do not decode, so callers can keep the raw bytes instead.
 */
export function decodeBody(bytes: Buffer, contentEncoding: string | undefined): Buffer | undefined {
  if (!contentEncoding) return bytes;
  // Codings are listed in the order they were applied; undo them last to first.
  const codings = contentEncoding.split(',').map((c) => c.trim().toLowerCase()).filter(Boolean).reverse();
  let out = bytes;
  try {
    for (const coding of codings) {
      switch (coding) {
        case 'identity': break;
        case 'gzip': case 'x-gzip': out = gunzipSync(out, { finishFlush: 2 /* Z_SYNC_FLUSH: accept a truncated capture */, maxOutputLength: MAX_DECODED_BYTES }); break;
        case 'br': out = brotliDecompressSync(out, { maxOutputLength: MAX_DECODED_BYTES }); break;
        case 'deflate': out = inflateDeflate(out); break;
        default: return undefined;
      }
    }
  } catch {
    return undefined;
  }
  return out;
}

/** "deflate" is zlib-wrapped by the spec, but some servers send raw deflate. */
function inflateDeflate(bytes: Buffer): Buffer {
  try {
    return inflateSync(bytes, { maxOutputLength: MAX_DECODED_BYTES });
  } catch {
    return inflateRawSync(bytes, { maxOutputLength: MAX_DECODED_BYTES });
  }
}
