import { Decompress } from 'fzstd';

/**
 * RFC 9659 (zstd as an HTTP content coding): decoders may refuse windows over 8 MB,
 * and encoders must not need more. fzstd allocates the window a frame header
 * declares (up to 2 GiB) before decoding anything, so every frame header is checked
 * against this first: a 20-byte body must not make us allocate gigabytes.
 */
export const MAX_ZSTD_WINDOW = 8 * 1024 * 1024;

const ZSTD_MAGIC = 0xfd2fb528;
/** The longest frame header: magic 4, descriptor 1, window 1, dictionary id 4, content size 8. */
const MAX_FRAME_HEADER = 18;

export interface ZstdResult {
  bytes: Buffer;
  /** False when decoding stopped early: over the limit, data cut short, or corrupt past this point. */
  complete: boolean;
}

/**
 * Decodes zstd (one or more frames, skippable frames allowed), stopping once the
 * output passes `limit` bytes (the prefix is returned, complete: false). A capture
 * cut short or damaged part-way gives what decoded before that point, like gzip's
 * Z_SYNC_FLUSH does. Undefined when nothing decodes or a frame needs too big a window.
 */
export function decodeZstd(input: Buffer, limit: number): ZstdResult | undefined {
  const safe = checkedLength(input);
  if (safe === undefined || safe === 0) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  let overLimit = false;
  const decoder = new Decompress((data) => {
    if (overLimit) return;
    const room = limit - size;
    const piece = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, Math.max(0, room)));
    // fzstd reuses nothing it hands out, but copy anyway: the window it slides is its own.
    if (piece.length > 0) chunks.push(Buffer.from(piece));
    size += piece.length;
    if (data.length > room) {
      overLimit = true;
      throw new LimitReached();
    }
  });
  let complete = safe === input.length;
  try {
    decoder.push(input.subarray(0, safe), false);
    // An empty final push throws unless the last frame ended (checksum included).
    if (complete) decoder.push(new Uint8Array(0), true);
  } catch {
    complete = false;
  }
  if (size === 0 && !complete) return undefined;
  return { bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), complete: complete && !overLimit };
}

class LimitReached extends Error {}

/**
 * Walks the frames (headers and block headers only, no decoding) and returns how
 * many leading bytes may be handed to the decoder: all of them normally, fewer when
 * the data ends inside a frame header (a header the walk could not check is never
 * parsed). Undefined when a frame declares a window over MAX_ZSTD_WINDOW.
 */
function checkedLength(b: Buffer): number | undefined {
  let at = 0;
  while (at < b.length) {
    if (b.length - at < 8) return at;
    const magic = b.readUInt32LE(at);
    if ((magic & 0xfffffff0) === 0x184d2a50) { // skippable frame
      at += 8 + b.readUInt32LE(at + 4);
      continue;
    }
    if (magic !== ZSTD_MAGIC) return at === 0 ? b.length : at; // let the decoder reject it (or stop there)
    if (b.length - at < MAX_FRAME_HEADER && !headerFits(b, at)) return at;
    const descriptor = b[at + 4]!;
    const singleSegment = (descriptor >> 5) & 1;
    const checksum = (descriptor >> 2) & 1;
    const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
    const fcsFlag = descriptor >> 6;
    const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
    let pos = at + 5;
    let window: number;
    if (singleSegment) {
      pos += dictBytes;
      window = readLE(b, pos, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
      pos += fcsBytes;
    } else {
      const wd = b[pos]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
      pos += 1 + dictBytes + fcsBytes;
    }
    if (window > MAX_ZSTD_WINDOW) return undefined;
    // Blocks: 3-byte header (last flag, type, size), then size bytes (1 for RLE).
    for (;;) {
      if (pos + 3 > b.length) return b.length;
      const header = b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16);
      const type = (header >> 1) & 3;
      pos += 3 + (type === 1 ? 1 : header >>> 3);
      if (header & 1) break;
    }
    at = pos + (checksum ? 4 : 0);
  }
  return b.length;
}

function headerFits(b: Buffer, at: number): boolean {
  const descriptor = b[at + 4]!;
  const singleSegment = (descriptor >> 5) & 1;
  const fcsFlag = descriptor >> 6;
  const length = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]! + (fcsFlag === 0 ? singleSegment : 1 << fcsFlag);
  return b.length - at >= length;
}

function readLE(b: Buffer, at: number, bytes: number): number {
  let n = 0;
  for (let i = bytes - 1; i >= 0; i--) n = n * 256 + b[at + i]!;
  return n;
}
