import type { ServerResponse } from 'node:http';
import type { RawHeaders } from '../exchange.js';
import { isSafeHeaderName, isSafeHeaderValue, stripHopByHop } from './headers.js';

// 1xx interim answers (103 Early Hints, 102 Processing, …) passed on to the client ahead of the final one.

/**
 * The head of an interim answer to pass on, as the upstream wrote it (status, reason
 * phrase, header case, order and repeats; hop-by-hop headers dropped), or undefined
 * when it is not one to pass on: 100 (the client's Expect is answered by llmtap's own
 * server) and 101 (an upgrade, upgrade.ts) are not, nor a head with a line break or
 * NUL in it, which would write more than one head.
 */
export function interimHead(status: number, reason: string, raw: RawHeaders): string | undefined {
  if (!Number.isInteger(status) || status < 102 || status > 199 || !isSafeHeaderValue(reason)) return undefined;
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  const kept = stripHopByHop(raw);
  for (let i = 0; i + 1 < kept.length; i += 2) {
    if (!isSafeHeaderName(kept[i]!) || !isSafeHeaderValue(kept[i + 1]!)) return undefined;
    head += `${kept[i]}: ${kept[i + 1]}\r\n`;
  }
  return `${head}\r\n`;
}

/**
 * Node's writer of interim heads, the one its own writeContinue, writeProcessing and
 * writeEarlyHints use: it writes at once when the socket is this answer's, or queues the
 * bytes in order ahead of the final head while an earlier answer on the connection is
 * still going out. Not documented; the public writeEarlyHints only writes a 103, drops
 * one without Link, throws on a Link value it does not parse and merges Link lines.
 */
interface InterimWriter {
  _writeRaw?: (data: string, encoding: BufferEncoding) => boolean;
}

/**
 * Passes one interim answer on to the client. Never to an HTTP/1.0 client (RFC 9110
 * §15.2), never after the final head. On a Node without the raw writer it is left out:
 * an interim answer is advisory, and the final one still follows.
 */
export function forwardInterim(res: ServerResponse, status: number, reason: string, raw: RawHeaders): void {
  if (res.headersSent || res.req.httpVersionMajor !== 1 || res.req.httpVersionMinor < 1) return;
  const head = interimHead(status, reason, raw);
  const write = (res as InterimWriter)._writeRaw;
  if (head !== undefined && typeof write === 'function') write.call(res, head, 'latin1');
}
