import type { IncomingMessage } from 'node:http';
import type { ErrorCode } from '../errors.js';

/**
 * Limits on a request head that llmtap checks itself, because Node's parser does not
 * refuse past them: past its header count it silently drops headers (in batches, at
 * ~1,023 by default), and its size limit is only checked per parser batch, so a
 * 24 KB head of small headers passes. The servers run with no count limit
 * (maxHeadersCount 0) so that nothing is dropped, and every head is measured here:
 * over a limit is 431, never a shortened request forwarded.
 */
export const MAX_HEADER_COUNT = 500;
export const MAX_HEAD_BYTES = 16 * 1024;

/** Why a request head is refused: the error code answered, and a cause for the log line. */
export interface HeadRefusal {
  code: ErrorCode;
  /** Which check refused it (stable, logged as the cause). */
  cause: Error & { code: string };
}

/** Why this request must be refused before anything is forwarded, or undefined. */
export function headRefusal(req: IncomingMessage): HeadRefusal | undefined {
  const raw = req.rawHeaders;
  if (raw.length / 2 > MAX_HEADER_COUNT) return refusal('headers_too_large', 'header_count', 'more than 500 header fields');
  // Request line plus "name: value\r\n" per header, as sent.
  let bytes = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 12;
  let hosts = 0;
  let host = '';
  for (let i = 0; i < raw.length; i++) {
    bytes += raw[i]!.length + 2;
    if (i % 2 === 0 && raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') {
      hosts++;
      host = raw[i + 1]!;
    }
  }
  if (bytes > MAX_HEAD_BYTES) return refusal('headers_too_large', 'head_size', 'request head over 16 KiB');
  // RFC 9112 §3.2: more than one Host field must get 400. Node keeps the first in
  // req.headers but both in rawHeaders, which go upstream as sent: llmtap and the provider
  // (or a cache between) could each act on a different host.
  if (hosts > 1) return refusal('bad_request', 'duplicate_host', 'more than one Host header field');
  // And an HTTP/1.1 request without one (HTTP/1.0 needs none; a CONNECT names its target in its line).
  if (hosts === 0 && req.httpVersion === '1.1' && req.method !== 'CONNECT') return refusal('bad_request', 'missing_host', 'no Host header field');
  // And one whose value is no uri-host[:port]: a space, slash or @ in it could name another
  // host or path to the provider (or a cache between) than llmtap reads. Empty is allowed.
  // Not on a CONNECT: its Host is never forwarded (the request line names the target), and
  // CPython 3.13.0's http.client writes an IPv6 target's without brackets (`::1:443`).
  if (hosts === 1 && req.method !== 'CONNECT' && !HOST_VALUE.test(host)) return refusal('bad_request', 'invalid_host', 'a Host header field that is no host[:port]');
  // Only chunked is a transfer coding llmtap undoes; a list such as "gzip, chunked" (which the
  // parser accepts: chunked comes last) would lose its gzip when the hop-by-hop
  // Transfer-Encoding is rewritten upstream. A single unknown coding the parser refuses itself.
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && te.split(',').filter((c) => c.trim() !== '').length > 1) return refusal('bad_request', 'transfer_coding_list', 'a list of transfer codings');
  return undefined;
}

/** RFC 3986 uri-host (IP literal or reg-name, percent-encoding and sub-delims included) and an optional port. */
const HOST_VALUE = /^(?:\[[0-9A-Za-z:._~%!$&'()*+,;=-]+\]|[0-9A-Za-z._~%!$&'()*+,;=-]*)(?::\d*)?$/;

/** A refusal with `code` answered, `cause` the stable name of the check logged, `message` what it found. */
export function refusal(code: ErrorCode, cause: string, message: string): HeadRefusal {
  return { code, cause: Object.assign(new Error(message), { code: cause }) };
}
