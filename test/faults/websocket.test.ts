import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { parseConnectTo } from '../../src/config.js';
import { exported, eventually } from '../helpers/archive.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { wsFrame } from '../helpers/ws-frames.js';
import { sleep } from './network-helpers.js';

/** A ws client over a TLS socket through llmtap; resolves once open. */
async function openWs(tp: TestProxy, fake: FakeWs, path = '/v1/responses'): Promise<WebSocket> {
  const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
  const ws = new WebSocket(`wss://api.openai.com${path}`, { createConnection: () => tls });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
  });
  return ws;
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(d.toString())));
}

describe('WebSocket faults', () => {
  let fake: FakeWs;
  let tp: TestProxy;

  beforeAll(async () => {
    fake = await startFakeWs({ perMessageDeflate: true });
    // Short HTTP timeouts: an idle WebSocket must outlive all of them.
    tp = await startTestProxy(undefined, {
      connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile],
      headersTimeoutMs: 300, keepAliveTimeoutMs: 300,
    });
  });
  afterAll(async () => {
    await tp.close();
    await fake.close();
  });

  it('FAULT 33: a WebSocket upgrade to an intercepted host is relayed as an upgrade (101 and frames), never turned into a plain GET', async () => {
    const ws = await openWs(tp, fake);
    const seen = fake.connections.at(-1)!;
    const headers = seen.rawHeaders.map((v, i) => (i % 2 === 0 ? v.toLowerCase() : v));
    expect(headers[headers.indexOf('upgrade') + 1]).toBe('websocket');
    expect(headers).toContain('sec-websocket-key');
    ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex' }));
    expect(JSON.parse(await nextMessage(ws))).toMatchObject({ type: 'response.created' });
    ws.close(1000);
    await new Promise((r) => ws.once('close', r));
  });

  it('FAULT 33: a failed upgrade (non-101) is passed through as is and recorded like a normal exchange', async () => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const ws = new WebSocket('wss://api.openai.com/status/401', { createConnection: () => tls });
    const res = await new Promise<import('node:http').IncomingMessage>((resolve) => ws.once('unexpected-response', (_req, r) => resolve(r)));
    let body = '';
    for await (const chunk of res) body += String(chunk);
    expect(res.statusCode).toBe(401);
    expect(res.headers['x-request-id']).toBe('req_ws_refused');
    expect(res.headers['x-llmtap-error']).toBeUndefined();
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'upgrade_refused' } });
    tls.destroy();
    const ex = await eventually(() => {
      const found = exported(tp).find((e) => e.path === '/status/401');
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect(ex.status).toBe(401);
    expect(ex.outcome).toBe('completed');
    expect(ex.response!.body).toBe(body);
    expect(ex.websocket).toBeUndefined();
  });

  it('FAULT 33: an idle WebSocket outlives the HTTP header and keep-alive timeouts', async () => {
    const ws = await openWs(tp, fake);
    await sleep(1200); // four times the 300 ms timeouts
    ws.send(JSON.stringify({ type: 'response.create' }));
    expect(JSON.parse(await nextMessage(ws))).toMatchObject({ type: 'response.created' });
    ws.close(1000);
    await new Promise((r) => ws.once('close', r));
  });

  it('FAULT 33: a client that vanishes without a close handshake is recorded client_aborted', async () => {
    const ws = await openWs(tp, fake, '/v1/realtime?model=gpt-realtime');
    ws.send(JSON.stringify({ type: 'response.create' }));
    await nextMessage(ws);
    ws.terminate();
    const ex = await eventually(() => {
      const found = exported(tp).find((e) => e.api === 'realtime');
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect(ex.outcome).toBe('client_aborted');
    expect(ex.websocket!.messages.length).toBeGreaterThan(1);
  });
});

describe('WebSocket at shutdown, and over plain HTTP', () => {
  it('FAULT 33: the drain closes WebSockets still open at its deadline and records them', async () => {
    const fake = await startFakeWs();
    const tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile] });
    const ws = await openWs(tp, fake);
    const closed = new Promise((r) => ws.once('close', r));
    const started = Date.now();
    await tp.proxy.close(300);
    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await tp.agent.close();
    const { openArchive } = await import('../../src/recorder/db.js');
    const { paths } = await import('../../src/config.js');
    const archive = openArchive(paths(tp.home).archive);
    const row = archive.db.prepare('SELECT status, outcome, error_code FROM exchanges').get();
    archive.close();
    expect(row).toEqual({ status: 101, outcome: 'proxy_error', error_code: 'shutdown' });
    await fake.close();
  });

  it('FAULT 33: a plain-HTTP absolute-URI upgrade to a listed host is relayed and recorded', async () => {
    const server: Server = createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (s) => s.on('message', (d) => s.send(`echo ${d.toString()}`)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const tp = await startTestProxy(undefined, { intercept: [`localhost:${port}`], allowTargets: ['localhost'] });
    try {
      // What a client configured with HTTP_PROXY sends for ws://: an absolute-URI upgrade to the proxy.
      const upgraded = await new Promise<{ socket: Socket; head: Buffer; status: number }>((resolve, reject) => {
        const req = httpRequest({
          host: '127.0.0.1', port: tp.proxy.address.port, path: `http://localhost:${port}/v1/realtime`,
          headers: { host: `localhost:${port}`, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
        });
        req.once('upgrade', (res, socket, head) => resolve({ socket, head, status: res.statusCode ?? 0 }));
        req.once('response', (res) => reject(new Error(`status ${res.statusCode}`)));
        req.once('error', reject);
        req.end();
      });
      expect(upgraded.status).toBe(101);
      const got: Buffer[] = [upgraded.head];
      upgraded.socket.on('data', (c: Buffer) => got.push(c));
      const frame = (opcode: number, payload: Buffer): Buffer => wsFrame(opcode, payload, { mask: Buffer.from([1, 2, 3, 4]) });
      upgraded.socket.write(frame(1, Buffer.from('hi')));
      await eventually(() => expect(Buffer.concat(got).includes('echo hi')).toBe(true));
      const closeCode = Buffer.from([0x03, 0xe8]);
      upgraded.socket.write(frame(8, closeCode));
      await new Promise((r) => upgraded.socket.once('close', r));
      const ex = await eventually(() => {
        const found = exported(tp).find((e) => e.websocket && e.outcome);
        if (!found) throw new Error('not recorded yet');
        return found;
      });
      expect(ex.host).toBe('localhost');
      expect(ex.outcome).toBe('completed');
      expect(ex.websocket!.messages.filter((m) => m.opcode === 1).map((m) => m.text)).toEqual(['hi', 'echo hi']);
    } finally {
      await tp.close();
      wss.close();
      server.close();
    }
  });
});

describe('a refused upgrade with more bytes behind it', () => {
  it('FAULT 34: the proxy lets go of the client once it closes, even after it pipelined more bytes behind the upgrade', async () => {
    // Found by the live fuzz: after a non-101 answer Node's server has handed the socket
    // over and nobody reads it; the pipelined request stays unread, the client's FIN is
    // never seen, and the proxy holds the socket for good.
    const server: Server = createServer((req, res) => res.end('no upgrade here'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const tp = await startTestProxy(undefined, { intercept: [`localhost:${port}`], allowTargets: ['localhost'] });
    try {
      const { connect } = await import('node:net');
      const { proxySockets } = await import('../fuzz/support.js');
      const sockets = proxySockets(tp.proxy.server);
      const socket = connect({ port: tp.proxy.address.port, host: '127.0.0.1' });
      await new Promise((r) => socket.once('connect', r));
      const answer = new Promise<string>((r) => socket.once('data', (d: Buffer) => r(d.toString('latin1'))));
      const closed = new Promise((r) => socket.once('close', r));
      socket.write(`GET http://localhost:${port}/v1/realtime HTTP/1.1\r\nHost: localhost:${port}\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n`);
      await sleep(50); // the rest arrives after the server handed the socket over
      socket.write(`GET http://localhost:${port}/again HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`);
      expect(await answer).toMatch(/^HTTP\/1\.1 200 /);
      socket.end();
      await closed;
      const released = await eventually(() => {
        expect(sockets.size).toBe(0);
        return true;
      }, 3_000).catch(() => false);
      const held = sockets.size;
      for (const s of sockets) (s as Socket).destroy();
      expect(released, `proxy still holds ${held} client socket(s)`).toBe(true);
    } finally {
      await tp.close();
      server.close();
    }
  });
});
