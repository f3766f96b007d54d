import { crc32 } from 'node:zlib';
import { isEventStreamFraming } from './bedrock.js';
import { isNdjson } from './ndjson.js';
import { mediaType } from './media-type.js';

/**
 * Where a stream in its own framing can be read again from the tail of its body (its last
 * bytes, which start anywhere): Bedrock's binary eventstream at its first whole frame,
 * a stream of JSON lines (Ollama's NDJSON, Cohere's legacy Chat) at its first whole line. -1 when the tail holds none;
 * undefined for any other content type.
 */
export function framedTailStart(contentType: string | undefined, tail: Buffer): number | undefined {
  if (isEventStreamFraming(contentType)) return eventstreamFrameStart(tail);
  if (isNdjson(contentType) || isStreamJson(contentType)) return lineStart(tail);
  return undefined;
}

/** Cohere's legacy Chat stream (cohere-v1.ts): one JSON event a line, labelled `application/stream+json`. */
function isStreamJson(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'application/stream+json';
}

/** A prelude (total length, headers length, prelude CRC) and the message CRC, with no headers or payload. */
const MIN_FRAME_BYTES = 16;

/**
 * The first offset where a whole eventstream frame begins. A frame's prelude (total
 * length, headers length) is followed by the CRC32 of those 8 bytes, and the frame ends with
 * the CRC32 of all before it: both must hold, so bytes of a payload or header that merely
 * look like a length (a guess) are never taken for a frame's start — the codec would stop
 * at the first CRC mismatch and read nothing.
 */
export function eventstreamFrameStart(tail: Buffer): number {
  for (let at = 0; at + MIN_FRAME_BYTES <= tail.length; at++) {
    const length = tail.readUInt32BE(at);
    // A frame begun in the tail ends in it (the tail is the body's end).
    if (length < MIN_FRAME_BYTES || length > tail.length - at) continue;
    if (tail.readUInt32BE(at + 4) > length - MIN_FRAME_BYTES) continue;
    if (crc32(tail.subarray(at, at + 8)) !== tail.readUInt32BE(at + 8)) continue;
    if (crc32(tail.subarray(at, at + length - 4)) !== tail.readUInt32BE(at + length - 4)) continue;
    return at;
  }
  return -1;
}

/**
 * The start of the first whole line: after the tail's first newline (a tail may start
 * mid-line or mid-character; a UTF-8 newline byte is never part of another character).
 */
function lineStart(tail: Buffer): number {
  const newline = tail.indexOf(0x0a);
  return newline < 0 ? -1 : newline + 1;
}
