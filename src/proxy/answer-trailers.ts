import type { ServerResponse } from 'node:http';
import { headerValue, type RawHeaders } from '../exchange.js';

// Trailer fields an upstream sends after a chunked body, passed on to the client after its last chunk.

/**
 * Whether Node will send this answer chunked, the only framing that carries trailer
 * fields: it has a body (not a HEAD's, a 204 or a 304), no Content-Length, and a client
 * that takes chunked (HTTP/1.1; an HTTP/1.0 client's body runs to the close). Node
 * throws on a `Trailer` header on any other answer, so only this one keeps it.
 */
export function goesOutChunked(method: string, status: number, headers: RawHeaders, clientTakesChunked: boolean): boolean {
  if (!clientTakesChunked || method === 'HEAD' || status < 200 || status === 204 || status === 304) return false;
  return headerValue(headers, 'content-length') === undefined;
}

/** The trailer section's fields as Node's addTrailers takes them: [name, value] pairs, case, order and repeats kept. */
export function trailerPairs(raw: RawHeaders): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

/**
 * Queues the upstream's trailer fields to follow the client's last chunk (res.end writes
 * them). False when Node refuses one (a name or value it will not write): the caller cuts
 * the answer rather than end it without them. An answer that is not chunked (to an
 * HTTP/1.0 client) has no way to carry them; RFC 9112 §7.1.2 lets a recipient that
 * removes the chunked coding discard them, and that is the one case they do not go on.
 */
export function addUpstreamTrailers(res: ServerResponse, raw: RawHeaders): boolean {
  if (raw.length === 0 || !res.chunkedEncoding) return true;
  try {
    res.addTrailers(trailerPairs(raw));
    return true;
  } catch {
    return false;
  }
}
