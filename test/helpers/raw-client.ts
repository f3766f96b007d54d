import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** Opens a CONNECT tunnel through the proxy and returns the raw socket after "200"; `extraHead`: more header lines (each ending in CRLF). */
export function connectThrough(proxyPort: number, authority: string, extraHead = ''): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(proxyPort, '127.0.0.1');
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extraHead}\r\n`));
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const status = head.subarray(0, head.indexOf('\r\n')).toString();
      if (!/^HTTP\/1\.1 200/.test(status)) return reject(new Error(`CONNECT answered: ${status}`));
      socket.off('error', reject);
      if (head.length > end + 4) socket.unshift(head.subarray(end + 4));
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

/** TLS on top of a socket (a CONNECT tunnel or a direct connection). */
export function startTls(socket: Socket | undefined, options: { host: string; port?: number; servername: string; ca: string | string[] }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({ socket, host: options.host, port: options.port, servername: options.servername, ca: options.ca, ALPNProtocols: ['http/1.1'] });
    tls.once('secureConnect', () => resolve(tls));
    tls.once('error', reject);
  });
}

/** Sends bytes and reads until the server closes: the exact response bytes. */
export function exchangeRaw(socket: Socket, request: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
    socket.write(request);
  });
}

export interface ParsedResponse {
  status: string;
  /** Raw header lines as [name, value] with original case and order. */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** Parses an HTTP/1.1 response (Content-Length, chunked, or close-delimited). */
export function parseResponse(raw: Buffer): ParsedResponse {
  const end = raw.indexOf('\r\n\r\n');
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = lines.shift() ?? '';
  const headers = lines.map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string];
  });
  let body = raw.subarray(end + 4);
  if (headers.some(([n, v]) => n.toLowerCase() === 'transfer-encoding' && /chunked/i.test(v))) body = dechunk(body);
  return { status, headers, body };
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', pos);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(pos, lineEnd).toString(), 16);
    if (!size) break;
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    pos = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** Writes bytes, reads until the other side closes (or the time runs out): what came back, and whether it closed. */
export function exchangeUntilClose(socket: Socket, bytes: string, timeoutMs = 3000): Promise<{ raw: string; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ raw: Buffer.concat(chunks).toString('latin1'), closed: false });
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ raw: Buffer.concat(chunks).toString('latin1'), closed: true });
    });
    socket.write(bytes);
  });
}

/** A plain TCP connection to the proxy's port (absolute-URI requests). */
export function plainSocketTo(proxyPort: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect(proxyPort, '127.0.0.1');
    s.once('error', reject);
    s.once('connect', () => resolve(s));
  });
}

/** A TLS connection to api.openai.com inside a CONNECT tunnel through the proxy, trusting its CA. */
export async function interceptedSocket(proxyPort: number, caPem: string, extraConnectHead = ''): Promise<TLSSocket> {
  const tunnel = await connectThrough(proxyPort, 'api.openai.com:443', extraConnectHead);
  return startTls(tunnel, { host: 'api.openai.com', servername: 'api.openai.com', ca: caPem });
}
