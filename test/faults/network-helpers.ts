/**
 * Raw-socket helpers shared by the test/faults/network-*.test.ts files: CONNECT by
 * hand, captured ClientHellos, and waiting (bounded) for a socket to be closed.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A plain TCP connection to the proxy. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {}); // resets are expected in these tests; close is what they check
      resolve(socket);
    });
  });
}

export interface ConnectReply {
  socket: Socket;
  /** Status line, e.g. "HTTP/1.1 200 Connection Established". */
  status: string;
  /** The whole reply head (and body, for refusals, when the proxy closed). */
  head: string;
  /** Bytes written by the client for the CONNECT request. */
  requestBytes: number;
  /** Bytes of the reply head (what precedes the tunnelled bytes). */
  replyBytes: number;
}

/** Sends a CONNECT and reads the reply head; tunnelled bytes after it are pushed back onto the socket. */
export async function sendConnect(port: number, authority: string, extraHeaders = ''): Promise<ConnectReply> {
  const socket = await openSocket(port);
  const request = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extraHeaders}\r\n`;
  socket.write(request);
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`no CONNECT reply for ${authority}`)), 5000);
    const finish = (end: number): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      const head = buf.subarray(0, end).toString('latin1');
      if (buf.length > end) socket.unshift(buf.subarray(end));
      resolve({ socket, status: head.slice(0, head.indexOf('\r\n')), head, requestBytes: Buffer.byteLength(request), replyBytes: end });
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0 && buf.subarray(0, 12).toString().includes(' 200')) finish(end + 4);
    };
    // Refusals close the connection after their body: take everything.
    const onEnd = (): void => finish(buf.length);
    socket.on('data', onData);
    socket.once('end', onEnd);
  });
}

/** A CONNECT that must be answered 200. */
export async function tunnelTo(port: number, authority: string): Promise<ConnectReply> {
  const reply = await sendConnect(port, authority);
  if (!/^HTTP\/1\.1 200/.test(reply.status)) throw new Error(`CONNECT ${authority} answered: ${reply.status}`);
  return reply;
}

/** TLS over an existing socket; rejects on any TLS error (or after 5 s). */
export function tlsOver(socket: Socket, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({ socket, ...options });
    const timer = setTimeout(() => {
      tls.destroy();
      reject(new Error('TLS handshake hung'));
    }, 5000);
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(tls);
    });
    tls.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** The exact first flight a Node TLS client sends for these options (a real ClientHello), without any server. */
export async function captureClientHello(options: ConnectionOptions = {}): Promise<Buffer> {
  let hello: Buffer | undefined;
  const wire = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      hello ??= Buffer.from(chunk);
      cb();
    },
  });
  const tls = tlsConnect({ socket: wire as unknown as Socket, ...options });
  tls.on('error', () => {});
  for (let i = 0; i < 100 && !hello; i++) await sleep(5);
  tls.destroy();
  wire.destroy();
  if (!hello) throw new Error('no ClientHello captured');
  return hello;
}

/** Resolves with the ms until the peer closed the socket (end or reset); rejects after `limitMs`. */
export function closedWithin(socket: Socket, limitMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed || socket.readableEnded) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`socket still open after ${limitMs} ms`)), limitMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    };
    socket.resume(); // a paused socket would never see the FIN
    socket.once('end', done);
    socket.once('close', done);
  });
}

/** Everything a socket receives until it closes (bounded in time). */
export function readAll(socket: Socket, limitMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`socket still open after ${limitMs} ms`)), limitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    const done = (): void => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    };
    socket.once('end', done);
    socket.once('close', done);
    socket.resume();
  });
}

/** Reads one HTTP/1.1 response with a Content-Length (or none, for empty answers) from a kept-alive socket. */
export function readResponse(socket: Socket, limitMs = 5000): Promise<{ status: number; head: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error('no complete response in time')), limitMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    const fail = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      let body: Buffer;
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        const dechunked = dechunk(buf.subarray(end + 4));
        if (!dechunked) return;
        body = dechunked;
      } else {
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        body = buf.subarray(end + 4, end + 4 + length);
      }
      cleanup();
      resolve({ status: Number(head.slice(9, 12)), head, body });
    };
    const onClose = (): void => fail(new Error(`closed before a complete response: ${buf.subarray(0, 200).toString('latin1')}`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** A complete chunked body, or undefined while the last chunk has not arrived. */
function dechunk(data: Buffer): Buffer | undefined {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', pos);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(pos, lineEnd).toString(), 16);
    if (size === 0) return data.length >= lineEnd + 4 ? Buffer.concat(out) : undefined;
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    pos = lineEnd + 2 + size + 2;
  }
}

/** The value of one header in a response head (case-insensitive), or undefined. */
export function headerIn(head: string, name: string): string | undefined {
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0 && line.slice(0, i).trim().toLowerCase() === name.toLowerCase()) return line.slice(i + 1).trim();
  }
  return undefined;
}

/** Polls until `check` is true or the time is up; returns whether it became true. */
export async function waitFor(check: () => boolean, limitMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(stepMs);
  }
  return check();
}
