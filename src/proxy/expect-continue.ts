import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1): the client asks whether to send its body
 * at all. Node answers 100 as soon as the head is parsed, before llmtap has decided
 * anything, so a request refused from its head (a proxy login, a destination, the rate
 * limit, a declared size) was uploaded whole and then thrown away. Here the 100 goes out
 * only when llmtap starts reading the body (as Go's net/http does): a request refused
 * before that gets its refusal instead, and that refusal closes the connection, since
 * the body the client holds back would otherwise be read as its next request.
 */
const awaitingContinue = new WeakMap<IncomingMessage, ServerResponse>();

/** Takes over Node's 100 Continue on `server` (its checkContinue): sent by `inviteBody`, not at once. */
export function deferContinue(server: Server): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    awaitingContinue.set(req, res);
    server.emit('request', req, res);
  });
}

/** The body is about to be read: a client waiting for 100 Continue gets it now (once). */
export function inviteBody(req: IncomingMessage): void {
  const res = awaitingContinue.get(req);
  if (!res) return;
  awaitingContinue.delete(req);
  if (!res.headersSent && !res.writableEnded) res.writeContinue();
}

/**
 * Whether an answer given now leaves request body bytes the client has not finished
 * sending (or, waiting for a 100 it never got, never sent): the connection must close
 * after it, or those bytes (or what the client sends instead) would be parsed as the
 * next request, and the client kept waiting for a read that never comes.
 */
export function bodyLeftUnread(req: IncomingMessage): boolean {
  if (awaitingContinue.has(req)) return true;
  if (req.complete) return false;
  // Node marks even a bodiless request incomplete until its end is read: it has nothing left.
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
