import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { classifyUpstreamError, type ErrorCode } from '../errors.js';
import { now, type Exchange, type RawHeaders } from '../exchange.js';
import type { BodyCapture } from './capture.js';
import { addUpstreamTrailers, goesOutChunked } from './answer-trailers.js';
import { rawFromBuffers, stripHopByHop } from './headers.js';
import { forwardInterim } from './interim.js';

export interface RelayRequest {
  method: string;
  path: string;
  /** Headers to send upstream, hop-by-hop ones already removed. */
  headers: RawHeaders;
  body: Buffer | Readable | null;
}

export type RelayResult =
  | { outcome: 'completed' }
  | { outcome: 'client_aborted' }
  /** Failed before any response byte reached the client: the caller still owes it an answer. */
  | { outcome: 'upstream_failed'; code: ErrorCode; error: Error }
  /** Failed mid-body: the client connection has been cut, as the upstream's was. */
  | { outcome: 'upstream_error'; code: ErrorCode; error: Error }
  /** The upstream answered a status `retryOn` accepts: nothing was sent to the client, the answer was read and dropped. */
  | { outcome: 'retry'; status: number };

export interface RelayOptions {
  /** A status for which the answer is held back (read and dropped) so another upstream can be tried. */
  retryOn?: (status: number) => boolean;
  /**
   * Headers llmtap adds to the client's answer (the cache's miss header). Appended to the
   * raw array handed to writeHead: a header set with res.setHeader first sends Node down its
   * slower merging path, which cost every cached request ~2 KB of garbage.
   */
  extraHeaders?: RawHeaders;
}

/**
 * Sends one request upstream and streams the answer to the client as it arrives.
 * Each chunk is written first and copied into the capture second; when the client
 * cannot keep up, the upstream read is paused until the client drains.
 */
export function relay(dispatcher: Pick<Dispatcher, 'dispatch'>, request: RelayRequest, res: ServerResponse, ex: Exchange, capture: BodyCapture, options: RelayOptions = {}): Promise<RelayResult> {
  return new Promise((resolve) => {
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    const settle = (result: RelayResult): void => {
      if (settled) return;
      settled = true;
      res.off('close', onClientClose);
      resolve(result);
    };
    const onClientClose = (): void => {
      if (res.writableFinished) return;
      controller?.abort(new Error('client aborted'));
      settle({ outcome: 'client_aborted' });
    };
    res.on('close', onClientClose);
    // The upstream is paused once the client has PAUSE_AT bytes unsent, until it drains: one
    // 'drain' listener and one resume per pause. Pausing at the first write that fills the
    // socket's buffer (16 KB) paused a chunked stream at every event, and each undici resume
    // reads (copies) the upstream socket's whole buffer again: a large stream to a client
    // slower than the provider was quadratic in time and garbage.
    let paused = false;
    const onDrain = (): void => {
      paused = false;
      controller?.resume();
    };
    /** Set when the answer is one to retry elsewhere: its body is read to the end (keeping the connection) and dropped. */
    let retryStatus: number | undefined;
    /** The final answer's status, and whether any of its body arrived. */
    let status = 0;
    let bodyBytes = false;

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (res.destroyed) c.abort(new Error('client aborted'));
      },
      onResponseStart(c, statusCode, _headers, statusMessage) {
        // 1xx interim answers (103 Early Hints) go on ahead of the final one. On a fallback
        // try that is then retried they have gone too: hints are advisory (RFC 8297).
        if (statusCode < 200) return forwardInterim(res, statusCode, statusMessage ?? '', rawFromBuffers((c.rawHeaders as Buffer[] | null) ?? []));
        if (options.retryOn?.(statusCode)) {
          retryStatus = statusCode;
          return;
        }
        status = statusCode;
        ex.timings.upstreamHeaders = now();
        const raw = rawFromBuffers((c.rawHeaders as Buffer[] | null) ?? []);
        ex.response = { status: statusCode, headers: raw, body: { bytes: Buffer.alloc(0), size: 0, truncated: false } };
        // `Trailer` stays on an answer that can carry the trailer fields it announces.
        const out = stripHopByHop(raw, goesOutChunked(request.method, statusCode, raw, res.useChunkedEncodingByDefault));
        if (options.extraHeaders) out.push(...options.extraHeaders);
        res.writeHead(statusCode, statusMessage || undefined, out);
        // Event streams must reach the client now; other bodies ride with the first chunk.
        if (isEventStream(raw)) res.flushHeaders();
      },
      onResponseData(c, chunk) {
        if (retryStatus !== undefined) return;
        bodyBytes = true;
        if (ex.timings.firstByte === undefined) ex.timings.firstByte = now();
        if (!res.write(chunk) && !paused && res.writableLength >= PAUSE_AT) {
          paused = true;
          c.pause();
          res.once('drain', onDrain);
        }
        capture.push(chunk);
      },
      onResponseEnd(c) {
        if (retryStatus !== undefined) return settle({ outcome: 'retry', status: retryStatus });
        const trailers = c.rawTrailers as Buffer[] | null | undefined;
        if (trailers && trailers.length > 0 && ex.response) {
          ex.response.hadTrailers = true;
          if (!addUpstreamTrailers(res, rawFromBuffers(trailers))) {
            // Cut, not ended without them: the client's chunked body stays visibly unfinished.
            res.destroy();
            return settle({ outcome: 'upstream_error', code: 'upstream_error', error: new Error('the upstream sent a trailer field that cannot be forwarded') });
          }
        }
        res.end();
        settle({ outcome: 'completed' });
      },
      onResponseError(_c, error) {
        if (settled) return;
        if (retryStatus !== undefined && !res.destroyed) return settle({ outcome: 'retry', status: retryStatus });
        // The client went away first and our write failure surfaced here: that is an abort.
        if (res.destroyed && !res.writableFinished) return onClientClose();
        if (isBodylessEnd(status, bodyBytes, error)) {
          res.end();
          return settle({ outcome: 'completed' });
        }
        const code = classifyUpstreamError(error);
        if (!res.headersSent) {
          settle({ outcome: 'upstream_failed', code, error });
        } else {
          // Mid-body failure: end the client's connection abruptly too, so it can tell.
          res.destroy();
          settle({ outcome: 'upstream_error', code, error });
        }
      },
    };

    try {
      dispatcher.dispatch({ method: request.method as Dispatcher.HttpMethod, path: request.path, headers: request.headers, body: request.body }, handler);
    } catch (error) {
      settle({ outcome: 'upstream_failed', code: classifyUpstreamError(error), error: error as Error });
    }
  });
}

/**
 * A 204 or 304 ends at its blank line whatever its headers say (RFC 9112 §6.3), and a 304
 * may carry the Content-Length a 200 would have had (RFC 9110 §8.6). undici (7.x) reads
 * such an answer whole, then reports its missing body as a length mismatch and drops the
 * connection: the answer is complete, and is passed on as such (the client's connection
 * stays open; only the upstream one is lost).
 */
function isBodylessEnd(status: number, bodyBytes: boolean, error: Error): boolean {
  return (status === 204 || status === 304) && !bodyBytes && (error as { code?: string }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
}

/** Bytes a client may have unsent before the upstream read is paused (per exchange). */
const PAUSE_AT = 64 * 1024;

function isEventStream(raw: RawHeaders): boolean {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === 12 && raw[i]!.toLowerCase() === 'content-type') return raw[i + 1]!.toLowerCase().startsWith('text/event-stream');
  }
  return false;
}
