import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';
import type { LeafCertificates } from '../tls/leaf.js';
import type { Admitted } from './admission.js';
import type { ConnectionContext } from './handle-exchange.js';
import type { Metrics } from './metrics.js';
import { terminateTls } from './mitm.js';
import { recordScope, type InterceptList } from './route.js';
import { watchClientTrust, type TrustReporter } from './trust-watch.js';

export interface InterceptContext {
  leafs: LeafCertificates;
  logger: Logger;
  metrics: Metrics;
  trust: TrustReporter;
  handshakeTimeoutMs: number;
  interceptList(): InterceptList;
  /** A close right after the handshake is no sign of distrust when the socket carried a request or the proxy is draining. */
  closeExplained(socket: TLSSocket): boolean;
  /** Hands the decrypted socket and what is known of its client and target to the inner HTTP server. */
  serve(tlsSocket: TLSSocket, conn: ConnectionContext): void;
}

/** What the CONNECT said and the ClientHello agreed with. */
export interface InterceptTarget {
  host: string;
  port: number;
  sni: string | undefined;
}

/**
 * Terminates TLS on a CONNECT socket whose ClientHello was peeked and agreed with the
 * CONNECT host: a leaf for the host, a bounded handshake, the client's trust watched
 * (trust-watch.ts), then the decrypted socket goes to the inner HTTP server.
 */
export function intercept(socket: Socket, target: InterceptTarget, clientAddress: string, client: Admitted, ctx: InterceptContext): void {
  const { host, port, sni } = target;
  let tlsSocket: TLSSocket;
  try {
    tlsSocket = terminateTls(socket, host, ctx.leafs);
  } catch (err) {
    ctx.logger.error({ host, err: (err as Error).message }, 'could not prepare TLS for host');
    socket.destroy();
    return;
  }
  const dismissTrustWatch = watchClientTrust(tlsSocket, host, clientAddress, ctx.trust, ctx.closeExplained);
  // A handshake that starts and never finishes must not hold the socket.
  const handshakeTimer = setTimeout(() => {
    ctx.metrics.count('handshake_timeout');
    dismissTrustWatch();
    tlsSocket.destroy();
  }, ctx.handshakeTimeoutMs);
  tlsSocket.once('secure', () => clearTimeout(handshakeTimer));
  tlsSocket.once('close', () => clearTimeout(handshakeTimer));
  tlsSocket.on('error', (err: NodeJS.ErrnoException) => {
    if (!tlsSocket.encrypted || !(tlsSocket as { _secureEstablished?: boolean })._secureEstablished) ctx.metrics.tlsHandshakeFailures++;
    ctx.logger.debug({ host, code: err.code }, 'client TLS error');
  });
  ctx.serve(tlsSocket, {
    connectionId: randomUUID(), clientAddress, clientUser: client.user, clientLabel: client.label, target: { host, port, tls: true, sni }, record: true,
    recordPaths: recordScope(ctx.interceptList(), host, port), ...(client.login ? { login: client.login } : {}),
  });
}
