import { createHash } from 'node:crypto';
import { decodeForStorage } from '../content-encoding.js';
import { headerValue, type Captured, type RawHeaders } from '../exchange.js';
import type { Redactor } from '../redact/redactor.js';

/**
 * What the archive holds of a body (column `*_body_stored`):
 * - `as_sent`: no content coding; the bytes as sent, redacted.
 * - `decoded`: content coding undone (gzip, br, deflate, zstd), then redacted.
 * - `decoded_prefix`: only a prefix could be decoded (over the 64 MiB cap, cut short,
 *   damaged part-way); that prefix, redacted, marked truncated.
 * - `digest`: nothing could be decoded (an unknown coding, bytes that are not the
 *   coding they claim): no bytes at all, only size and SHA-256 of what was captured.
 * Encoded bytes that redaction never saw are never stored.
 */
export type BodyStored = 'as_sent' | 'decoded' | 'decoded_prefix' | 'digest';

export interface StoredBody {
  bytes: Buffer | null;
  stored: BodyStored;
  /** True when `bytes` is not the whole body (capture limit or decoded prefix). */
  truncated: boolean;
  /** Hex SHA-256 of the captured (still encoded) bytes, for `digest` and `decoded_prefix`. */
  sha256: string | null;
}

/**
 * The body as stored: content-decoded, then redacted. Text is redacted as UTF-8;
 * anything else byte-wise through latin1, which maps bytes 1:1 to code units, so an
 * ASCII key inside a binary body (a multipart upload, say) is still caught while
 * every other byte stays.
 */
export function storedBody(body: Captured, headers: RawHeaders, redactor: Redactor): StoredBody {
  const coding = headerValue(headers, 'content-encoding');
  const hasCoding = coding !== undefined && coding.split(',').some((c) => c.trim() !== '' && c.trim().toLowerCase() !== 'identity');
  const decoded = decodeForStorage(body.bytes, coding);
  if (!decoded) return { bytes: null, stored: 'digest', truncated: body.truncated, sha256: sha256(body.bytes) };
  const truncated = body.truncated || !decoded.complete;
  const stored: BodyStored = !decoded.complete ? 'decoded_prefix' : hasCoding ? 'decoded' : 'as_sent';
  return { bytes: redactBytes(decoded.bytes, truncated, headers, redactor), stored, truncated, sha256: stored === 'decoded_prefix' ? sha256(body.bytes) : null };
}

function redactBytes(decoded: Buffer, truncated: boolean, headers: RawHeaders, redactor: Redactor): Buffer {
  const form = /^\s*application\/x-www-form-urlencoded/i.test(headerValue(headers, 'content-type') ?? '');
  const hints = { truncated, form };
  const text = decodeUtf8(decoded, truncated);
  if (text !== undefined) {
    const redacted = redactor.body(text, hints);
    // Re-encode only when something changed (or a cut-off character was dropped).
    return redacted === text && !truncated ? decoded : Buffer.from(redacted, 'utf8');
  }
  const latin1 = decoded.toString('latin1');
  const redacted = redactor.body(latin1, hints);
  return redacted === latin1 ? decoded : Buffer.from(redacted, 'latin1');
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Strict UTF-8 decoding. A truncated body may end inside a character, so there a
 * trailing incomplete sequence is tolerated (stream mode holds it back and we drop it).
 */
function decodeUtf8(bytes: Buffer, truncated: boolean): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: truncated });
  } catch {
    return undefined;
  }
}
