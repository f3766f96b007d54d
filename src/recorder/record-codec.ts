/**
 * Records as bytes, from the moment they are recorded until the writer maps them to
 * rows. Encoding happens once per record, when the exchange ends; a batch is then
 * only these bytes copied into one buffer and transferred to the writer thread, so
 * a hand-off costs about the same for 1 record as for 64 and allocates nothing the
 * garbage collector has to trace (structured clone of 64 exchange objects took the
 * event loop 0.4–4 ms per batch). The Exchange objects themselves die young instead
 * of waiting in the queue long enough to be promoted to the old generation.
 *
 * Frame: three little-endian u32 lengths (metadata, request body, response body),
 * then the metadata as UTF-8 JSON, then the two bodies' bytes as captured.
 */
import type { Captured } from '../exchange.js';
import type { Pending } from './writer.js';

const HEADER_BYTES = 12;
const NO_BYTES = Buffer.alloc(0);

/**
 * One record as a frame. Throws when its metadata cannot be JSON (a BigInt, a cycle):
 * the caller counts that record as lost. Functions and undefined are left out, as
 * JSON does.
 */
export function encodeRecord(item: Pending): Buffer {
  let meta: string;
  let request: Uint8Array = NO_BYTES;
  let response: Uint8Array = NO_BYTES;
  if (item.kind === 'exchange') {
    const ex = item.exchange;
    request = bytesOf(ex.request?.body);
    response = bytesOf(ex.response?.body);
    // Shallow copies without the bytes: they travel raw after the metadata. Of a carried
    // price the writer reads the figure and its source only (row-cost.ts applyCost).
    const exchange = { ...ex, request: withoutBytes(ex.request), response: withoutBytes(ex.response), price: ex.price && { usd: ex.price.usd, source: ex.price.source } };
    meta = JSON.stringify({ kind: 'exchange', exchange });
  } else if (item.kind === 'cache_put') {
    response = item.entry.body;
    meta = JSON.stringify({ kind: 'cache_put', entry: { ...item.entry, body: undefined } });
  } else {
    meta = JSON.stringify(item);
  }
  const metaBytes = Buffer.byteLength(meta);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + metaBytes + request.byteLength + response.byteLength);
  frame.writeUInt32LE(metaBytes, 0);
  frame.writeUInt32LE(request.byteLength, 4);
  frame.writeUInt32LE(response.byteLength, 8);
  let at = HEADER_BYTES + frame.write(meta, HEADER_BYTES, 'utf8');
  frame.set(request, at);
  at += request.byteLength;
  frame.set(response, at);
  return frame;
}

/** The record a frame holds; bodies are views into the frame. Throws on a malformed frame. */
export function decodeRecord(frame: Uint8Array): Pending {
  const view = asBuffer(frame);
  const { metaBytes, requestBytes, responseBytes } = readHeader(view, 0);
  let at = HEADER_BYTES;
  const item = JSON.parse(view.toString('utf8', at, (at += metaBytes))) as Pending;
  const request = view.subarray(at, (at += requestBytes));
  const response = view.subarray(at, (at += responseBytes));
  if (item.kind === 'exchange') {
    // Defensive: a malformed record must fail in mapping (counted as lost), not here.
    const ex = item.exchange as { request?: { body?: Partial<Captured> }; response?: { body?: Partial<Captured> } } | null;
    if (ex?.request?.body) ex.request.body.bytes = request;
    if (ex?.response?.body) ex.response.body.bytes = response;
  } else if (item.kind === 'cache_put') {
    item.entry.body = Buffer.from(response);
  }
  return item;
}

/** Frames copied into one fresh buffer whose ArrayBuffer can be transferred. */
export function joinFrames(frames: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let total = 0;
  for (const frame of frames) total += frame.byteLength;
  const joined = new Uint8Array(total);
  let at = 0;
  for (const frame of frames) {
    joined.set(frame, at);
    at += frame.byteLength;
  }
  return joined;
}

/** The frames of a joined buffer, as views. Throws when a frame runs past the end. */
export function splitFrames(joined: Uint8Array): Uint8Array[] {
  const view = asBuffer(joined);
  const frames: Uint8Array[] = [];
  for (let at = 0; at < view.byteLength; ) {
    const { metaBytes, requestBytes, responseBytes } = readHeader(view, at);
    const end = at + HEADER_BYTES + metaBytes + requestBytes + responseBytes;
    if (end > view.byteLength) throw new Error(`record frame at byte ${at} runs past the end of its batch`);
    frames.push(view.subarray(at, end));
    at = end;
  }
  return frames;
}

function readHeader(view: Buffer, at: number): { metaBytes: number; requestBytes: number; responseBytes: number } {
  if (at + HEADER_BYTES > view.byteLength) throw new Error(`record frame at byte ${at} is cut short`);
  return { metaBytes: view.readUInt32LE(at), requestBytes: view.readUInt32LE(at + 4), responseBytes: view.readUInt32LE(at + 8) };
}

function bytesOf(body: Partial<Captured> | undefined): Uint8Array {
  return body?.bytes instanceof Uint8Array ? body.bytes : NO_BYTES;
}

function withoutBytes<T extends { body?: Captured }>(part: T | undefined): T | undefined {
  if (!part?.body) return part;
  const { bytes: _bytes, ...body } = part.body;
  return { ...part, body: body as Captured };
}

/** Buffer methods on any Uint8Array (transferred bytes arrive as plain Uint8Arrays), without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
