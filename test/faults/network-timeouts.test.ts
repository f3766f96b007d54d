/**
 * Fault list #11: slow or silent clients. Headers dripped a byte at a time (outer
 * CONNECT head and a request head inside an intercepted TLS connection), a CONNECT
 * that never sends a ClientHello, a handshake that stops after the ClientHello, and
 * idle keep-alive connections: every one is closed by a timeout, and the proxy's
 * open sockets return to where they were. Timeouts are set to 1 s for the test.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { captureClientHello, closedWithin, openSocket, readAll, readResponse, sleep, tlsOver, tunnelTo, waitFor } from './network-helpers.js';

const TIMEOUT_MS = 1000;
// Node checks header timeouts every min(1000, headersTimeout / 2) ms and adds 1 s to the keep-alive timeout.
const CLOSE_LIMIT_MS = 3500;

let fake: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { headersTimeoutMs: TIMEOUT_MS, handshakeTimeoutMs: TIMEOUT_MS, keepAliveTimeoutMs: TIMEOUT_MS });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const openSockets = (): number => (tp.proxy.server as unknown as { sockets: Set<Socket> }).sockets.size;
const errors = (code: string): number => tp.proxy.server.metrics.errors[code] ?? 0;

/** Writes `text` one byte per `gapMs` until the socket closes; never finishes on its own when the text is a partial head. */
function drip(socket: Socket, text: string, gapMs: number): { sent: () => number } {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]!);
  }, gapMs);
  socket.once('close', () => clearInterval(timer));
  return { sent: () => i };
}

const SLOW_CONNECT_HEAD = 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nUser-Agent: slowloris\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaa\r\n';
const SLOW_REQUEST_HEAD = 'GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\nUser-Agent: slowloris\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaa\r\n';

async function interceptedTls(): Promise<{ raw: Socket; tls: import('node:tls').TLSSocket }> {
  const { socket } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
  const tls = await tlsOver(socket, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem, ALPNProtocols: ['http/1.1'] });
  return { raw: socket, tls };
}

describe.concurrent('FAULT 11: each slow or silent client is closed by a timeout', () => {
  it('FAULT 11: a CONNECT head dripped one byte at a time gets 408 and is closed (outer server headers timeout)', async () => {
    const socket = await openSocket(tp.proxy.address.port);
    const dripping = drip(socket, SLOW_CONNECT_HEAD, 200);
    const started = Date.now();
    const received = (await readAll(socket, CLOSE_LIMIT_MS + 1000)).toString('latin1');
    const ms = Date.now() - started;
    expect(dripping.sent()).toBeLessThan(SLOW_CONNECT_HEAD.length); // cut off mid-head
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(CLOSE_LIMIT_MS);
  });

  it('FAULT 11: a connection that never says anything is closed (outer server)', async () => {
    const socket = await openSocket(tp.proxy.address.port);
    const ms = await closedWithin(socket, CLOSE_LIMIT_MS);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
  });

  it('FAULT 11: a request head dripped inside an intercepted TLS connection gets 408 and is closed (inner server)', async () => {
    const { raw, tls } = await interceptedTls();
    // Let the header timer start from the request, not from the handshake: first a complete exchange.
    const reading = readResponse(tls);
    tls.write('GET /status/404 HTTP/1.1\r\nHost: api.openai.com\r\n\r\n');
    expect((await reading).status).toBe(404);
    const started = Date.now();
    const chunks: Buffer[] = [];
    tls.on('data', (c: Buffer) => chunks.push(c));
    let i = 0;
    const timer = setInterval(() => {
      if (tls.destroyed || !tls.writable || i >= SLOW_REQUEST_HEAD.length) return clearInterval(timer);
      tls.write(SLOW_REQUEST_HEAD[i++]!);
    }, 200);
    try {
      await closedWithin(raw, CLOSE_LIMIT_MS);
      const ms = Date.now() - started;
      expect(i).toBeLessThan(SLOW_REQUEST_HEAD.length); // cut off mid-head
      expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(CLOSE_LIMIT_MS);
    } finally {
      clearInterval(timer);
    }
  });

  it('FAULT 11: a CONNECT that never sends a ClientHello is closed after the handshake timeout', async () => {
    const before = errors('handshake_timeout');
    const { socket } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
    const ms = await closedWithin(socket, CLOSE_LIMIT_MS);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(errors('handshake_timeout')).toBeGreaterThan(before);
  });

  it('FAULT 11: a handshake that stops after the ClientHello (half-open) is closed after the handshake timeout', async () => {
    const before = errors('handshake_timeout');
    const hello = await captureClientHello({ servername: 'api.openai.com', ALPNProtocols: ['http/1.1'] });
    const { socket } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
    let serverFlight = 0;
    socket.on('data', (d: Buffer) => { serverFlight += d.length; });
    socket.write(hello);
    const ms = await closedWithin(socket, CLOSE_LIMIT_MS);
    expect(serverFlight).toBeGreaterThan(0); // the proxy did answer the hello (ServerHello…) before giving up
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(errors('handshake_timeout')).toBeGreaterThan(before);
  });

  it('FAULT 11: an idle keep-alive connection inside intercepted TLS is closed', async () => {
    const { raw, tls } = await interceptedTls();
    const reading = readResponse(tls);
    tls.write('GET /status/404 HTTP/1.1\r\nHost: api.openai.com\r\n\r\n');
    expect((await reading).status).toBe(404);
    const ms = await closedWithin(tls, CLOSE_LIMIT_MS);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(await waitFor(() => raw.destroyed, 1000)).toBe(true);
  });

  it('FAULT 11: an idle keep-alive plain-HTTP connection to the outer server is closed', async () => {
    const socket = await openSocket(tp.proxy.address.port);
    const reading = readResponse(socket);
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'); // the proxy's own status page, kept alive
    expect((await reading).status).toBe(200);
    const ms = await closedWithin(socket, CLOSE_LIMIT_MS);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
  });
});

describe('FAULT 11: open sockets stay bounded', () => {
  it('FAULT 11: 60 slow clients of every kind at once are all closed and the socket count returns to baseline', async () => {
    await waitFor(() => openSockets() === 0, 3000);
    const baseline = openSockets();
    const hello = await captureClientHello({ servername: 'api.openai.com', ALPNProtocols: ['http/1.1'] });
    const clients: Socket[] = [];
    for (let i = 0; i < 12; i++) {
      const silent = await openSocket(tp.proxy.address.port);
      const slowHead = await openSocket(tp.proxy.address.port);
      drip(slowHead, SLOW_CONNECT_HEAD, 250);
      const noHello = (await tunnelTo(tp.proxy.address.port, 'api.openai.com:443')).socket;
      const halfOpen = (await tunnelTo(tp.proxy.address.port, 'api.openai.com:443')).socket;
      halfOpen.write(hello);
      const idle = await interceptedTls();
      // A TLS client only notices the close when it reads: wait on the TLS socket itself.
      clients.push(silent, slowHead, noHello, halfOpen, idle.tls);
    }
    expect(openSockets()).toBe(baseline + clients.length);
    const started = Date.now();
    const kinds = ['silent', 'slow CONNECT head', 'no ClientHello', 'half-open handshake', 'idle TLS'];
    const results = await Promise.all(clients.map((s, i) => closedWithin(s, CLOSE_LIMIT_MS + 1000).then(() => 'closed', () => kinds[i % kinds.length])));
    expect(results.filter((r) => r !== 'closed')).toEqual([]);
    expect(Date.now() - started).toBeLessThan(CLOSE_LIMIT_MS + 1000);
    expect(await waitFor(() => openSockets() === baseline, 1000)).toBe(true);
    // And the proxy still works.
    const { tls } = await interceptedTls();
    const reading = readResponse(tls);
    tls.write('GET /status/404 HTTP/1.1\r\nHost: api.openai.com\r\n\r\n');
    expect((await reading).status).toBe(404);
    tls.destroy();
    await sleep(50);
  });
});
