import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

/**
 * Answers llmtap gives on the raw socket, outside any exchange: a CONNECT or
 * plain request it refuses, and requests Node's parser rejected. Always
 * `connection: close`: after a refusal the rest of the stream cannot be trusted.
 */
export function refuse(socket: Socket, code: ErrorCode, extraHeaders = ''): void {
  const { status, message } = ERROR_CODES[code];
  const body = JSON.stringify({ error: { message: `${message} (${code})`, type: 'llmtap_error', code } });
  socket.end(`HTTP/1.1 ${status} ${statusText(status)}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-llmtap-error: ${code}\r\n${extraHeaders}connection: close\r\n\r\n${body}`);
  closeAfterAnswer(socket);
}

/**
 * After a last answer on a socket the HTTP server has let go of (CONNECT): nobody
 * reads it any more, and half-open is allowed, so the client's FIN would never be
 * seen. Drain what it still sends, and destroy it if it lingers.
 */
export function closeAfterAnswer(socket: Socket): void {
  socket.resume();
  setTimeout(() => socket.destroy(), 5000).unref();
}

/** Answers a request Node's HTTP parser refused (clientError) and closes; returns the code used. */
export function answerMalformed(err: NodeJS.ErrnoException, socket: Socket): ErrorCode {
  const code: ErrorCode = err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : 'bad_request';
  const status = ERROR_CODES[code].status;
  // llhttp refuses some framing (an unknown Transfer-Encoding such as "xchunked") only after it has
  // handed the request head over; that request's answer is still ours to give. An answer already
  // under way for an earlier request is never interrupted by a 400 in the middle.
  const pending = (socket as { _httpMessage?: ServerResponse })._httpMessage;
  const parsing = (socket as { parser?: { incoming?: IncomingMessage | null } }).parser?.incoming;
  const unanswered = !pending || (!pending.headersSent && !!parsing && !parsing.complete && pending.req === parsing);
  const closeSoon = (): void => {
    socket.destroySoon?.();
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  if (socket.writable && unanswered) {
    socket.end(`HTTP/1.1 ${status} ${statusText(status)}\r\ncontent-length: 0\r\nx-llmtap-error: ${code}\r\nconnection: close\r\n\r\n`);
    lingerThenClose(socket);
    return code;
  } else if (socket.writable && pending && !pending.writableFinished) {
    // A pipelined earlier request is still being answered: let that answer finish (it is
    // bounded by the exchange's own timeouts), then close. Further bytes only meet the
    // failed parser; a client FIN or reset still closes the socket.
    pending.once('finish', closeSoon);
    pending.once('close', closeSoon);
    return code;
  }
  closeSoon();
  return code;
}

/** How long a refused client may go on sending (the rest of a 1 MB header) before its socket is destroyed. */
const LINGER_MS = 2000;

/**
 * After answering a request refused mid-head: a client still sending (the rest of an
 * oversized header) would meet a socket destroyed under it, and the reset it then gets
 * discards the answer unread (EPIPE, no 431). So the socket lingers, the parser
 * still reading and dropping what arrives, until the client closes or LINGER_MS pass
 * (the lingering close of web servers); our side has already sent its FIN.
 */
function lingerThenClose(socket: Socket): void {
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('end', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 403: 'Forbidden', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  413: 'Payload Too Large', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 503: 'Service Unavailable',
};

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}
