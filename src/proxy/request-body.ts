import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { LlmtapError } from '../errors.js';
import { inviteBody } from './expect-continue.js';

// The client's request body: held whole (bounded) before anything goes upstream, and sent up framed as it came.

/**
 * Reads the whole request body (bounded): policy and parsing need it before forwarding.
 * A body that stalls (no byte for `stallMs`) is cut with 408, so a client trickling
 * bytes cannot hold a connection for the whole request timeout. Trailer fields are
 * refused (400): the upstream client cannot send them, and dropping them would
 * forward another request than the one made.
 */
export function readBody(req: IncomingMessage, limit: number, stallMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new LlmtapError('request_too_large'));
  // Everything decided from the head is decided: a client waiting to send its body may now.
  inviteBody(req);
  // Complete with nothing left to read: no body. A body that arrived while the request
  // waited (its turn behind a pipelined one, a login's scrypt) is complete too, and still
  // buffered: it is read below, not dropped.
  if (req.complete && req.readableLength === 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: LlmtapError): void => {
      clearTimeout(stall);
      req.removeAllListeners('data');
      req.resume();
      reject(err);
    };
    const stall = setTimeout(() => stop(new LlmtapError('request_timeout')), stallMs);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return stop(new LlmtapError('request_too_large'));
      stall.refresh();
      chunks.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(stall);
      if (req.rawTrailers.length > 0) return reject(new LlmtapError('bad_request'));
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      clearTimeout(stall);
      reject(new LlmtapError('bad_request', { cause: err }));
    });
  });
}

/**
 * Keeps the client's framing: a body sent with Content-Length goes up as one buffer
 * (same length header), a chunked one goes up chunked again.
 */
export function requestBody(req: IncomingMessage, body: Buffer): Buffer | Readable | null {
  if (req.headers['content-length'] !== undefined) return body;
  if (req.headers['transfer-encoding'] !== undefined) return Readable.from([body]);
  return body.length > 0 ? body : null;
}
