import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';

/**
 * A minimal corporate-style parent proxy: answers CONNECT only, requires Basic auth
 * when `credentials` is given (407 otherwise), and counts the CONNECTs it relayed by
 * authority. It is what `llmtap start --upstream-proxy` is pointed at in tests.
 */
export interface ConnectProxy {
  port: number;
  url: string;
  /** Authorities relayed (status 200), in order. */
  connects: string[];
  /** CONNECTs refused with 407. */
  refused: number;
  close(): Promise<void>;
}

/** With `tls`, the parent itself speaks HTTPS (an https:// upstream proxy). */
export async function startConnectProxy(credentials?: { user: string; pass: string }, tls?: { key: string; cert: string }): Promise<ConnectProxy> {
  const expected = credentials ? `Basic ${Buffer.from(`${credentials.user}:${credentials.pass}`).toString('base64')}` : undefined;
  const sockets = new Set<Socket>();
  const state = { connects: [] as string[], refused: 0 };
  const notAProxyRequest = (_req: IncomingMessage, res: import('node:http').ServerResponse): void => {
    res.writeHead(405, { connection: 'close' });
    res.end();
  };
  const server: Server = tls ? createHttpsServer(tls, notAProxyRequest) : createServer(notAProxyRequest);
  server.on(tls ? 'secureConnection' : 'connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    client.on('error', () => {});
    if (expected && req.headers['proxy-authorization'] !== expected) {
      state.refused++;
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '');
    if (!m) return void client.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
    const upstream = connect({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) });
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    // What squid and most corporate proxies answer when the destination cannot be reached.
    upstream.on('error', () => (client.writable && !established ? client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n') : client.destroy()));
    let established = false;
    upstream.once('connect', () => {
      established = true;
      state.connects.push(req.url!);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    client.once('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    get connects() {
      return state.connects;
    },
    get refused() {
      return state.refused;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
