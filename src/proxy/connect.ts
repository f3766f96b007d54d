import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { resolveConnectTo, type ProxyConfig } from '../config.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Recorder } from '../recorder/recorder.js';
import type { Redactor } from '../redact/redactor.js';
import { admit, type AdmissionContext } from './admission.js';
import { isDoctorHost } from './doctor-echo.js';
import { intercept, type InterceptContext } from './intercept.js';
import type { Metrics } from './metrics.js';
import { peekHello } from './mitm.js';
import { closeAfterAnswer } from './refusals.js';
import { headRefusal } from './request-limits.js';
import { decideRoute, formatAuthority, parseAuthority, type InterceptList } from './route.js';
import { guardedLookup, type TargetPolicy } from './target-guard.js';
import type { Login } from './login-recheck.js';
import type { OpenLogins } from './open-logins.js';
import { openTunnel } from './tunnel.js';
import type { UpstreamPools } from './upstream.js';

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

/** What a CONNECT needs of the running proxy (server.ts); functions where a reload replaces the value. */
export interface ConnectContext {
  config: () => Pick<ProxyConfig, 'connectTo' | 'handshakeTimeoutMs'>;
  draining: () => boolean;
  interceptList: () => InterceptList;
  targetPolicy: () => TargetPolicy;
  redactor: () => Redactor;
  admission: AdmissionContext;
  interception: InterceptContext;
  pools: UpstreamPools;
  metrics: Metrics;
  recorder: Recorder;
  logger: Logger;
  /** Raw tunnels still open: shutdown waits for them. */
  tunnelsDone: Set<Promise<unknown>>;
  /** Tunnels open under a gateway login: a reload that revokes it closes them. */
  logins: OpenLogins;
  refuse: (socket: Socket, code: ErrorCode) => void;
}

/**
 * One CONNECT: refused, tunnelled untouched (not an intercepted host, or a ClientHello
 * naming another host), or handed to interception once the client's hello is seen.
 */
export async function onConnect(req: IncomingMessage, socket: Socket, head: Buffer, ctx: ConnectContext): Promise<void> {
  socket.on('error', () => {}); // a client reset must never crash the proxy; close handling is elsewhere
  const authority = parseAuthority(req.url ?? '');
  if (!authority) return ctx.refuse(socket, 'bad_request');
  const refusal = headRefusal(req);
  if (refusal) {
    ctx.logger.warn({ connect: ctx.redactor().text(authority.host), code: refusal.code, cause: refusal.cause.code }, 'CONNECT refused');
    return ctx.refuse(socket, refusal.code);
  }
  if (ctx.draining()) {
    socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    return closeAfterAnswer(socket);
  }
  const admitted = await admit(ctx.admission, req, socket, authority.host, authority.port);
  if (!admitted) return;
  const clientAddress = socket.remoteAddress ?? '';
  const doctor = isDoctorHost(authority.host); // answered by the proxy itself, see doctor-echo.ts
  if (!doctor && decideRoute(ctx.interceptList(), authority.host, authority.port) === 'tunnel') {
    openRecordedTunnel(ctx, socket, head, authority.host, authority.port, clientAddress, admitted.user, admitted.login, ESTABLISHED);
    return;
  }
  // The upstream handshake runs while the client's does (and the leaf is minted).
  if (!doctor) ctx.pools.warm(authority.host, authority.port);
  socket.write(ESTABLISHED);
  const peek = await peekHello(socket, head, ctx.config().handshakeTimeoutMs);
  if (peek.kind !== 'hello') {
    if (peek.kind === 'not-tls') ctx.metrics.notTls++;
    if (peek.kind === 'timeout') ctx.metrics.count('handshake_timeout');
    socket.destroy();
    return;
  }
  const sni = peek.sni?.toLowerCase();
  if (sni && sni !== authority.host) {
    // The client names another host inside TLS than in CONNECT: don't guess, don't decrypt.
    ctx.logger.warn({ connect: authority.host, sni }, 'SNI differs from CONNECT host; tunnelling');
    // The peeked ClientHello sits unshifted on the paused socket; the tunnel's pipe() reads it once
    // upstream is connected. Resuming here would emit it to no listener and lose it (a hung handshake).
    openRecordedTunnel(ctx, socket, Buffer.alloc(0), authority.host, authority.port, clientAddress, admitted.user, admitted.login);
    return;
  }
  intercept(socket, { host: authority.host, port: authority.port, sni }, clientAddress, admitted, ctx.interception);
}

/** A raw tunnel, counted, logged and recorded when it closes; `established` is written once upstream answers. */
function openRecordedTunnel(ctx: ConnectContext, socket: Socket, head: Buffer, host: string, port: number, clientAddress: string, clientUser: string | undefined, login: Login | undefined, established?: string): void {
  ctx.metrics.tunnelsOpened++;
  const address = resolveConnectTo(ctx.config().connectTo, host, port);
  const mapped = address.host !== host || address.port !== port;
  const lookup = mapped ? undefined : guardedLookup(ctx.targetPolicy, host, port);
  const dial = ctx.pools.tunnelDial(host, port, address);
  let revoked = false;
  // On a gateway: held until it ends, so a reload that revokes its login closes it (open-logins.ts).
  const release = login && ctx.logins.hold({
    kind: 'tunnel', clientUser, clientAddress, host: formatAuthority(host, port), login,
    close: () => {
      revoked = true;
      socket.destroy();
    },
  });
  const done = openTunnel(socket, head, { host, port, address, lookup, dial }, { clientAddress, clientUser, established }).then((record) => {
    release?.();
    if (revoked) record.outcome = 'proxy_auth_required';
    ctx.metrics.tunnelsClosed++;
    ctx.tunnelsDone.delete(done);
    ctx.recorder.recordTunnel(record);
    ctx.logger.info({ host: formatAuthority(host, port), up: record.bytesUp, down: record.bytesDown, ms: Math.round(record.end - record.start), outcome: record.outcome }, 'tunnel');
  });
  ctx.tunnelsDone.add(done);
}
