import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { MAX_HELLO_BYTES, peekClientHello, type HelloPeek } from '../tls/client-hello.js';
import type { LeafCertificates } from '../tls/leaf.js';

export type PeekResult = { kind: 'hello'; sni?: string; alpn: string[]; buffered: Buffer } | { kind: 'not-tls' | 'timeout' | 'closed'; buffered: Buffer };

/**
 * Reads the client's first bytes after the CONNECT reply until a whole ClientHello
 * is there, without consuming them: the bytes are pushed back onto the socket, so
 * whoever takes it next (TLS terminator or raw tunnel) sees the stream from byte 0.
 */
export function peekHello(socket: Socket, head: Buffer, timeoutMs: number): Promise<PeekResult> {
  return new Promise((resolve) => {
    let buffered = head;
    const done = (result: HelloPeek | { kind: 'timeout' | 'closed' }): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('end', onClose);
      socket.pause();
      if (buffered.length > 0 && !socket.destroyed) socket.unshift(buffered);
      resolve(result.kind === 'hello' ? { ...result, buffered } : { kind: result.kind === 'incomplete' ? 'not-tls' : result.kind, buffered });
    };
    const check = (): void => {
      const peek = peekClientHello(buffered);
      if (peek.kind !== 'incomplete') done(peek);
      else if (buffered.length > MAX_HELLO_BYTES) done({ kind: 'not-tls' });
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      check();
    };
    // A FIN before a whole ClientHello ends the peek too: the outer server allows
    // half-open sockets, so 'close' alone would wait for the timeout.
    const onClose = (): void => done({ kind: 'closed' });
    const timer = setTimeout(() => done({ kind: 'timeout' }), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('end', onClose);
    if (buffered.length > 0) check();
  });
}

/**
 * Terminates the client's TLS on the CONNECT socket itself (no per-host server, no
 * loopback hop) with the leaf for `host`; HTTP/1.1 is the only protocol offered.
 *
 * ALPN: an offer that includes http/1.1 (alone or next to h2 or anything else) agrees
 * on http/1.1; no ALPN extension at all means HTTP/1.1 without negotiation. An offer
 * without http/1.1 (only h2, only an unknown protocol) gets OpenSSL's fatal
 * no_application_protocol alert during the handshake, as RFC 7301 3.2 requires: the
 * client fails at once with a clear error instead of hanging or sending a protocol we
 * would misparse. Deliberately no ALPNCallback: it could only pick one of the client's
 * own protocols (none of which we speak) or refuse the same way, and silently
 * tunnelling such a client would bypass recording for a host the operator listed.
 */
export function terminateTls(socket: Socket, host: string, leafs: LeafCertificates): TLSSocket {
  const tlsSocket = new TLSSocket(socket, {
    isServer: true,
    secureContext: leafs.secureContextFor(host),
    ALPNProtocols: ['http/1.1'],
  });
  tlsSocket.setNoDelay(true);
  return tlsSocket;
}
