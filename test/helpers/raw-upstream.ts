import { mkdtempSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { loadOrCreateCa } from '../../src/tls/ca.js';
import { LeafCertificates } from '../../src/tls/leaf.js';

/** One request as a raw upstream read it (Content-Length bodies only). */
export interface RawRequest {
  method: string;
  path: string;
  head: string;
  body: Buffer;
}

export interface RawUpstream {
  port: number;
  /** PEM file of the CA that signed its certificate (for --upstream-ca); undefined for plain TCP. */
  caFile?: string;
  seen: RawRequest[];
  close(): Promise<void>;
}

/** Answer bytes, written in order; a number is a pause (ms) between two parts. */
export type RawAnswer = Array<string | number>;

/**
 * An upstream that answers each request with the exact bytes `answer` returns: framing,
 * interim heads and trailers as a test writes them, which Node's own server would
 * reshape. Connections are kept alive; requests on one are answered in turn.
 */
export async function startRawUpstream(answer: (req: RawRequest) => RawAnswer, options: { tls: boolean; host?: string }): Promise<RawUpstream> {
  const seen: RawRequest[] = [];
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    let writing = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const [method = '', path = ''] = head.split(' ');
        const req = { method, path, head, body: buf.subarray(end + 4, end + 4 + length) };
        buf = buf.subarray(end + 4 + length);
        seen.push(req);
        const parts = answer(req);
        writing = writing.then(() => writeParts(socket, parts));
      }
    });
  };
  let server: Server;
  let caFile: string | undefined;
  if (options.tls) {
    const { ca } = loadOrCreateCa(mkdtempSync(join(tmpdir(), 'llmtap-raw-upstream-')));
    const leafs = new LeafCertificates(ca);
    caFile = ca.certPath;
    server = createTlsServer({ key: leafs.keyPem, cert: leafs.certificatePemFor(options.host ?? 'api.openai.com'), ALPNProtocols: ['http/1.1'] }, onSocket);
  } else {
    server = createNetServer(onSocket);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caFile,
    seen,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

async function writeParts(socket: Socket, parts: RawAnswer): Promise<void> {
  for (const part of parts) {
    if (typeof part === 'number') await new Promise((r) => setTimeout(r, part));
    else if (!socket.destroyed) socket.write(part, 'latin1');
  }
}
