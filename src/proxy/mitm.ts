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
    const onClose = (): void => done({ kind: 'closed' });
    const timer = setTimeout(() => done({ kind: 'timeout' }), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    if (buffered.length > 0) check();
  });
}

/**
 * Terminates the client's TLS on the CONNECT socket itself (no per-host server, no
 * loopback hop) with the leaf for `host`; HTTP/1.1 is the only protocol offered.
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
