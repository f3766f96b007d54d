import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { resolveConnectTo, type ProxyConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Recorder } from '../recorder/recorder.js';
import type { LeafCertificates } from '../tls/leaf.js';
import { handleExchange, type ConnectionContext, type ExchangeDeps } from './handle-exchange.js';
import { Metrics } from './metrics.js';
import { peekHello, terminateTls } from './mitm.js';
import { decideRoute, formatAuthority, makeInterceptList, parseAuthority, type InterceptList } from './route.js';
import { openTunnel } from './tunnel.js';
import { UpstreamPools } from './upstream.js';

export interface ProxyDeps {
  leafs: LeafCertificates;
  recorder: Recorder;
  logger: Logger;
}

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';
const HELLO_TIMEOUT_MS = 30_000;

/**
 * The listening proxy. The outer HTTP server sees CONNECTs and plain absolute-URI
 * requests; intercepted CONNECTs get TLS terminated on their own socket and are
 * handed to one inner HTTP server (never listening) that parses the decrypted
 * requests. Everything else is a raw tunnel.
 */
export class ProxyServer {
  readonly metrics = new Metrics();
  private readonly outer: Server;
  private readonly inner: Server;
  private readonly pools: UpstreamPools;
  private readonly interceptList: InterceptList;
  private readonly connections = new WeakMap<Socket, ConnectionContext>();
  private readonly sockets = new Set<Socket>();
  private readonly exchangeDeps: ExchangeDeps;
  private readonly tunnelsDone = new Set<Promise<unknown>>();
  private draining = false;

  constructor(private readonly config: ProxyConfig, private readonly deps: ProxyDeps) {
    this.interceptList = makeInterceptList(config.intercept, config.passthrough);
    this.pools = new UpstreamPools({
      connectTo: config.connectTo,
      extraCaFiles: config.upstreamCa,
      headersTimeoutMs: config.upstreamHeadersTimeoutMs,
      idleTimeoutMs: config.upstreamIdleTimeoutMs,
    });
    this.exchangeDeps = {
      pools: this.pools, recorder: deps.recorder, logger: deps.logger, metrics: this.metrics,
      maxRequestBody: config.maxRequestBody, captureLimit: config.captureLimit, failClosed: config.failClosed,
    };
    this.outer = createServer({ keepAliveTimeout: 30_000 });
    this.outer.on('connection', (socket: Socket) => this.track(socket));
    this.outer.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onConnect(req, socket, head));
    this.outer.on('request', (req: IncomingMessage, res: ServerResponse) => this.onPlainRequest(req, res));
    this.outer.on('clientError', (_err, socket: Socket) => this.rejectMalformed(socket));

    this.inner = createServer({ keepAliveTimeout: 30_000 });
    this.inner.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const conn = this.connections.get(req.socket);
      if (!conn) return void res.destroy();
      void handleExchange(req, res, req.url ?? '/', conn, this.exchangeDeps);
    });
    this.inner.on('clientError', (_err, socket: Socket) => this.rejectMalformed(socket));
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.outer.once('error', reject);
      this.outer.listen(this.config.port, this.config.host, () => {
        this.outer.off('error', reject);
        resolve(this.outer.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo {
    return this.outer.address() as AddressInfo;
  }

  /**
   * Stops accepting, lets in-flight exchanges finish until the deadline, then
   * closes whatever is left (tunnels included). Resolves when every socket is gone.
   */
  async close(drainTimeoutMs = this.config.drainTimeoutMs): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.outer.close(() => resolve()));
    this.outer.closeIdleConnections();
    this.inner.closeIdleConnections();
    const deadline = Date.now() + drainTimeoutMs;
    while (this.metrics.inFlight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      this.inner.closeIdleConnections();
    }
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([...this.tunnelsDone]);
    await closed;
    await this.pools.close();
  }

  private track(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private rejectMalformed(socket: Socket): void {
    this.metrics.count('bad_request');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-llmtap-error: bad_request\r\nconnection: close\r\n\r\n');
    socket.destroySoon?.();
  }

  private onConnect(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {}); // a client reset must never crash the proxy; close handling is elsewhere
    const authority = parseAuthority(req.url ?? '');
    if (!authority || this.draining) {
      const status = authority ? '503 Service Unavailable' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return;
    }
    const clientAddress = socket.remoteAddress ?? '';
    if (decideRoute(this.interceptList, authority.host, authority.port) === 'tunnel') {
      this.tunnel(socket, head, authority.host, authority.port, clientAddress, ESTABLISHED);
      return;
    }
    socket.write(ESTABLISHED);
    void peekHello(socket, head, HELLO_TIMEOUT_MS).then((peek) => {
      if (peek.kind !== 'hello') {
        if (peek.kind === 'not-tls') this.metrics.notTls++;
        socket.destroy();
        return;
      }
      const sni = peek.sni?.toLowerCase();
      if (sni && sni !== authority.host) {
        // The client names another host inside TLS than in CONNECT: don't guess, don't decrypt.
        this.deps.logger.warn({ connect: authority.host, sni }, 'SNI differs from CONNECT host; tunnelling');
        socket.resume();
        this.tunnel(socket, Buffer.alloc(0), authority.host, authority.port, clientAddress);
        return;
      }
      this.intercept(socket, authority.host, authority.port, clientAddress, sni);
    });
  }

  private intercept(socket: Socket, host: string, port: number, clientAddress: string, sni: string | undefined): void {
    let tlsSocket: TLSSocket;
    try {
      tlsSocket = terminateTls(socket, host, this.deps.leafs);
    } catch (err) {
      this.deps.logger.error({ host, err: (err as Error).message }, 'could not prepare TLS for host');
      socket.destroy();
      return;
    }
    tlsSocket.on('error', (err: NodeJS.ErrnoException) => {
      if (!tlsSocket.encrypted || !tlsSocket.authorized) this.metrics.tlsHandshakeFailures++;
      this.deps.logger.debug({ host, code: err.code }, 'client TLS error');
    });
    this.connections.set(tlsSocket, {
      connectionId: randomUUID(), clientAddress, target: { host, port, tls: true, sni }, record: true,
    });
    this.inner.emit('connection', tlsSocket);
  }

  private tunnel(socket: Socket, head: Buffer, host: string, port: number, clientAddress: string, established?: string): void {
    this.metrics.tunnelsOpened++;
    const address = resolveConnectTo(this.config.connectTo, host, port);
    const done = openTunnel(socket, head, { host, port, address }, { clientAddress, established }).then((record) => {
      this.metrics.tunnelsClosed++;
      this.tunnelsDone.delete(done);
      this.deps.recorder.recordTunnel(record);
      this.deps.logger.info({ host: formatAuthority(host, port), up: record.bytesUp, down: record.bytesDown, ms: Math.round(record.end - record.start), outcome: record.outcome }, 'tunnel');
    });
    this.tunnelsDone.add(done);
  }

  /** Plain-HTTP proxying (absolute-URI requests): forwarded always, recorded for listed hosts. */
  private onPlainRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    if (url.startsWith('/')) {
      // Someone asked the proxy itself, not through it.
      res.writeHead(url === '/' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'llmtap', hint: 'use me as HTTPS_PROXY / HTTP_PROXY', inFlight: this.metrics.inFlight }));
      return;
    }
    let target: URL;
    try {
      target = new URL(url);
      if (target.protocol !== 'http:') throw new Error('not http');
    } catch {
      res.writeHead(400, { 'content-type': 'application/json', 'x-llmtap-error': 'bad_request', connection: 'close' });
      res.end(JSON.stringify({ error: { message: 'llmtap accepts absolute http:// URLs or CONNECT', code: 'bad_request' } }));
      return;
    }
    const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = Number(target.port || 80);
    const conn: ConnectionContext = {
      connectionId: randomUUID(),
      clientAddress: req.socket.remoteAddress ?? '',
      target: { host, port, tls: false },
      record: decideRoute(this.interceptList, host, port) === 'intercept',
    };
    void handleExchange(req, res, `${target.pathname}${target.search}`, conn, this.exchangeDeps);
  }
}
