/**
 * A WebSocket endpoint over TLS that answers like OpenAI's Responses-over-WebSocket
 * (`response.create` in, `response.*` events out), built on the `ws` package as a
 * real server. It keeps the raw bytes each connection received after its upgrade,
 * so tests can compare what the client sent with what arrived.
 */
import { FAIL_MID_STREAM } from './fake-faults.js';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { WebSocketServer, WebSocket, type PerMessageDeflateOptions } from 'ws';
import { loadOrCreateCa, type CertificateAuthority } from '../../src/tls/ca.js';
import { LeafCertificates } from '../../src/tls/leaf.js';

export interface FakeWs {
  port: number;
  caFile: string;
  ca: CertificateAuthority;
  /** Per accepted WebSocket: the request headers, every byte received after the upgrade head, and the text messages it read (inflated). */
  connections: Array<{ url: string; rawHeaders: string[]; received: Buffer[]; texts: string[] }>;
  close(): Promise<void>;
}

export const WS_TEXT = 'Hello over WebSocket — héllo 🌍';

/** `serve`: what answers each accepted WebSocket (default: Responses over WebSocket; fake-gemini-live.ts answers like Gemini Live). */
export async function startFakeWs(options: { perMessageDeflate?: boolean | PerMessageDeflateOptions; ca?: CertificateAuthority; serve?: (ws: WebSocket) => void } = {}): Promise<FakeWs> {
  const ca = options.ca ?? loadOrCreateCa(mkdtempSync(join(tmpdir(), 'llmtap-fakews-'))).ca;
  const leafs = new LeafCertificates(ca);
  const server: Server = createServer({ SNICallback: (name, cb) => cb(null, leafs.secureContextFor(name)), key: leafs.keyPem, cert: leafs.certificatePemFor('api.openai.com') });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: options.perMessageDeflate ?? false });
  const connections: FakeWs['connections'] = [];
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: TLSSocket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const status = /^\/status\/(\d{3})/.exec(req.url ?? '')?.[1];
    if (status) {
      const body = JSON.stringify({ error: { message: `fake refusal ${status}`, type: 'invalid_request_error', code: 'upgrade_refused' } });
      socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nX-Request-Id: req_ws_refused\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    const conn = { url: req.url ?? '', rawHeaders: req.rawHeaders, received: [] as Buffer[], texts: [] as string[] };
    if (head.length > 0) conn.received.push(Buffer.from(head));
    socket.on('data', (chunk: Buffer) => conn.received.push(Buffer.from(chunk)));
    connections.push(conn);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => void (isBinary || conn.texts.push(data.toString())));
      (options.serve ?? serve)(ws);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caFile: ca.certPath,
    ca,
    connections,
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      for (const s of sockets) s.destroy();
      wss.close();
      server.close(() => resolve());
    }),
  };
}

/** Responses-over-WebSocket, as documented: each `response.create` is answered by a stream of events. */
function serve(ws: WebSocket): void {
  let n = 0;
  ws.on('message', (data, isBinary) => {
    if (isBinary) return void ws.send(data, { binary: true }); // echo
    // `fake_usage`: the usage the response reports instead of the default (a Realtime test's audio breakdown, which its price needs).
    const event = JSON.parse(data.toString()) as { type?: string; model?: string; close?: boolean; fake_usage?: Record<string, unknown> };
    if (event.type !== 'response.create') return;
    const id = `resp_fake_${++n}`;
    const model = event.model ?? 'gpt-5-codex';
    const send = (payload: unknown): void => ws.send(JSON.stringify(payload));
    send({ type: 'response.created', sequence_number: 0, response: { id, object: 'response', status: 'in_progress', model } });
    if (data.toString().includes(FAIL_MID_STREAM)) {
      // Failed after it began, as OpenAI ends such a response: response.failed with its error.
      send({ type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Par' });
      return send({ type: 'response.failed', sequence_number: 2, response: { id, object: 'response', status: 'failed', model, error: { code: 'server_error', message: 'The model failed to generate a response.' }, usage: null } });
    }
    let seq = 1;
    for (const piece of WS_TEXT.split(/(?<= )/)) send({ type: 'response.output_text.delta', sequence_number: seq++, item_id: 'msg_1', output_index: 0, content_index: 0, delta: piece });
    send({ type: 'response.completed', sequence_number: seq, response: { id, object: 'response', status: 'completed', model, usage: event.fake_usage ?? { input_tokens: 12, output_tokens: 9, total_tokens: 21, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } } } });
  });
}

/** A TLS socket to `host` through llmtap (CONNECT) or straight to the fake (direct), for ws's createConnection. */
export async function openTls(options: { proxyPort?: number; fakePort: number; ca: string; host?: string }): Promise<TLSSocket> {
  const host = options.host ?? 'api.openai.com';
  let socket: Socket | undefined;
  if (options.proxyPort !== undefined) {
    const { tunnelTo } = await import('../faults/network-helpers.js');
    socket = (await tunnelTo(options.proxyPort, `${host}:443`)).socket;
  }
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({ ...(socket ? { socket } : { host: '127.0.0.1', port: options.fakePort }), servername: host, ca: options.ca, ALPNProtocols: ['http/1.1'] });
    tls.once('secureConnect', () => resolve(tls));
    tls.once('error', reject);
  });
}

/** Every byte a socket receives from now on. */
export function tapReceived(socket: Socket): Buffer[] {
  const got: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => got.push(Buffer.from(chunk)));
  return got;
}
