/**
 * Fault list #12 (many SNI names: the leaf cache stays bounded, nothing minted for
 * hosts off the list) and #16 (a 200 MB request body, a 1 MB header, 10,000 headers:
 * refused early with 413/431, the connection closed, memory flat, proxy alive).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { drainOrClose } from '../helpers/backpressure.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { captureClientHello, closedWithin, headerIn, openSocket, readAll, readResponse, tlsOver, tunnelTo } from './network-helpers.js';

const LEAF_CACHE = 50;
const BENCH_HOSTS = 500;

const RANDOM_SNI = 1000;

let fake: FakeProvider;
/** A TCP origin that sends back whatever it gets: tunnelled bytes come back as they were sent. */
let echo: Server;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  tp = await startTestProxy(fake, {
    leafCacheSize: LEAF_CACHE,
    intercept: ['*.bench.test'],
    connectTo: [
      // Port 8443 goes to the echo origin; everything else to the fake provider (it has a certificate for any SNI).
      parseConnectTo(`:8443:127.0.0.1:${(echo.address() as AddressInfo).port}`),
      parseConnectTo(`::127.0.0.1:${fake.port}`),
    ],
  });
});
afterAll(async () => {
  await tp?.close();
  await new Promise((r) => echo?.close(r));
  await fake?.close();
});

/** Runs `task` for 0..n-1 with at most `width` at a time. */
async function pool(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await task(next++);
  }));
}

/** A real ClientHello for `template`, re-labelled for another name of the same length (the lengths inside stay right). */
function helloFor(template: { name: string; bytes: Buffer }, name: string): Buffer {
  if (name.length !== template.name.length) throw new Error(`${name}: not the template's length`);
  const at = template.bytes.indexOf(template.name);
  const out = Buffer.from(template.bytes);
  out.write(name, at, 'latin1');
  return out;
}

async function helloTemplate(name: string): Promise<{ name: string; bytes: Buffer }> {
  return { name, bytes: await captureClientHello({ servername: name, ALPNProtocols: ['http/1.1'] }) };
}

/**
 * CONNECT with a ClientHello in the same packet; resolves with the first bytes that come
 * back after the 200 (the proxy's ServerHello, or what the tunnelled origin sent), then hangs up.
 */
async function helloThrough(authority: string, hello: Buffer): Promise<Buffer> {
  const socket = await openSocket(tp.proxy.address.port);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => reject(new Error(`no answer to the ClientHello via ${authority}`)), 5000);
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0 || buf.length === end + 4) return;
        clearTimeout(timer);
        if (!buf.subarray(0, 12).toString().includes(' 200')) return reject(new Error(`CONNECT ${authority}: ${buf.subarray(0, end).toString()}`));
        resolve(buf.subarray(end + 4));
      });
      socket.once('close', () => reject(new Error(`closed without an answer via ${authority}`)));
      socket.write(Buffer.concat([Buffer.from(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`), hello]));
    });
  } finally {
    socket.destroy();
  }
}

describe('FAULT 12: many SNI names', () => {
  it(`FAULT 12: ${BENCH_HOSTS} distinct intercepted hosts → the leaf cache stays at ${LEAF_CACHE}`, async () => {
    const before = tp.proxy.leafs.stats();
    const template = await helloTemplate('h000.bench.test');
    const name = (i: number): string => `h${String(i).padStart(3, '0')}.bench.test`;
    await pool(BENCH_HOSTS, 8, async (i) => {
      const first = await helloThrough(`${name(i)}:443`, helloFor(template, name(i)));
      expect(first[0]).toBe(0x16); // a TLS handshake record: the proxy answered with its leaf
    });
    const after = tp.proxy.leafs.stats();
    expect(after.mints - before.mints).toBe(BENCH_HOSTS);
    expect(after.size).toBeLessThanOrEqual(LEAF_CACHE);
    // The most recent host is still cached and served; the certificate really names it.
    const last = name(BENCH_HOSTS - 1);
    const { socket } = await tunnelTo(tp.proxy.address.port, `${last}:443`);
    const tls = await tlsOver(socket, { host: last, servername: last, ca: tp.caPem, ALPNProtocols: ['http/1.1'] });
    expect(tls.getPeerX509Certificate()!.subjectAltName).toBe(`DNS:${last}`);
    tls.destroy();
    expect(tp.proxy.leafs.stats().mints).toBe(after.mints);
  });

  it('FAULT 12: CONNECT api.openai.com with SNI evil.example → tunnelled to the origin, no certificate minted', async () => {
    const before = tp.proxy.leafs.stats().mints;
    const tunnels = tp.proxy.server.metrics.tunnelsOpened;
    const { socket } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
    const tls = await tlsOver(socket, { host: 'evil.example', servername: 'evil.example', ca: readFileSync(fake.caFile, 'utf8'), ALPNProtocols: ['http/1.1'] });
    // The origin's own certificate for evil.example: llmtap did not decrypt.
    expect(tls.authorized).toBe(true);
    expect(tls.getPeerX509Certificate()!.subjectAltName).toBe('DNS:evil.example');
    tls.destroy();
    expect(tp.proxy.leafs.stats().mints).toBe(before);
    expect(tp.proxy.server.metrics.tunnelsOpened).toBe(tunnels + 1);
  });

  it(`FAULT 12: ${RANDOM_SNI} random SNI names under listed and unlisted CONNECT hosts → all tunnelled untouched, none minted`, async () => {
    const before = tp.proxy.leafs.stats();
    const tunnels = tp.proxy.server.metrics.tunnelsOpened;
    const template = await helloTemplate('n000000000000.example');
    // SNI ≠ CONNECT host for a listed host and a listed wildcard; any SNI for a host off the list.
    const authorities = ['api.openai.com:8443', 'h001.bench.test:8443', 'unlisted.example:8443'];
    await pool(RANDOM_SNI, 16, async (i) => {
      const hello = helloFor(template, `n${randomBytes(6).toString('hex')}.example`);
      const echoed = await helloThrough(authorities[i % authorities.length]!, hello);
      // The echo origin sent the very ClientHello back: the bytes went through untouched.
      expect(echoed.equals(hello.subarray(0, echoed.length))).toBe(true);
    });
    expect(tp.proxy.leafs.stats().mints).toBe(before.mints);
    expect(tp.proxy.leafs.stats().size).toBe(before.size);
    expect(tp.proxy.server.metrics.tunnelsOpened).toBe(tunnels + RANDOM_SNI);
  });
});

const MB = 1024 * 1024;
const HUGE = 200 * MB;

/** Writes up to `total` bytes in 64 KB chunks (with backpressure) until the peer answers or closes. */
async function streamUntilAnswered(socket: Socket, total: number, chunked: boolean): Promise<{ sent: number; answer: Buffer }> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const chunkFrame = Buffer.from(`${chunk.length.toString(16)}\r\n`);
  let answer = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (d: Buffer) => { answer = Buffer.concat([answer, d]); });
  socket.once('close', () => { closed = true; });
  socket.on('error', () => {});
  let sent = 0;
  while (sent < total && !closed && answer.length === 0 && socket.writable) {
    if (chunked) socket.write(chunkFrame);
    let ok = socket.write(chunk);
    if (chunked) ok = socket.write('\r\n');
    sent += chunk.length;
    if (!ok) await drainOrClose(socket, 2000);
  }
  await closedWithin(socket, 5000);
  return { sent, answer };
}

function head(path: string, host: string, framing: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nX-Test-Id: fault16\r\n${framing}\r\n`;
}

async function interceptedTls(): Promise<{ raw: Socket; tls: TLSSocket }> {
  const { socket } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
  const tls = await tlsOver(socket, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem, ALPNProtocols: ['http/1.1'] });
  return { raw: socket, tls };
}

async function proxyStillWorks(): Promise<void> {
  const { tls } = await interceptedTls();
  const reading = readResponse(tls);
  tls.write('GET /status/404 HTTP/1.1\r\nHost: api.openai.com\r\n\r\n');
  expect((await reading).status).toBe(404);
  tls.destroy();
}

describe('FAULT 16: oversized requests', () => {
  it('FAULT 16: a declared 200 MB body (inside TLS) → 413 at once, connection closed, nothing forwarded', async () => {
    const seen = fake.seen.length;
    const { tls } = await interceptedTls();
    tls.write(head('/v1/chat/completions', 'api.openai.com', `Content-Length: ${HUGE}\r\n`));
    const { sent, answer } = await streamUntilAnswered(tls, HUGE, false);
    const text = answer.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(headerIn(text.slice(0, text.indexOf('\r\n\r\n')), 'x-llmtap-error')).toBe('request_too_large');
    expect(sent).toBeLessThan(4 * MB); // answered before the body was sent, not after
    expect(fake.seen.length).toBe(seen);
    await proxyStillWorks();
  });

  it('FAULT 16: a chunked 200 MB body (inside TLS) → 413 once the limit is passed, connection closed, memory flat, nothing forwarded', async () => {
    const seen = fake.seen.length;
    const rss = process.memoryUsage().rss;
    const { tls } = await interceptedTls();
    tls.write(head('/v1/chat/completions', 'api.openai.com', 'Transfer-Encoding: chunked\r\n'));
    const { sent, answer } = await streamUntilAnswered(tls, HUGE, true);
    expect(answer.toString('latin1')).toMatch(/^HTTP\/1\.1 413 /);
    // Cut off soon after --max-request-body (32 MiB), far short of 200 MB.
    expect(sent).toBeGreaterThanOrEqual(32 * MB);
    expect(sent).toBeLessThan(48 * MB);
    // The proxy buffers at most the limit; this process is also the client.
    expect(process.memoryUsage().rss - rss).toBeLessThan(80 * MB);
    expect(fake.seen.length).toBe(seen);
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.headers['x-test-id'] === 'fault16' && e.status === 413 && e.request.headers['transfer-encoding']);
      if (!r) throw new Error('not yet');
      return r;
    });
    expect(rec.error_code).toBe('request_too_large');
    await proxyStillWorks();
  });

  it('FAULT 16: a declared 200 MB body as a plain-HTTP proxy request → 413 at once, connection closed', async () => {
    const socket = await openSocket(tp.proxy.address.port);
    socket.write(head('http://api.openai.com/v1/chat/completions', 'api.openai.com', `Content-Length: ${HUGE}\r\n`));
    const { sent, answer } = await streamUntilAnswered(socket, HUGE, false);
    expect(answer.toString('latin1')).toMatch(/^HTTP\/1\.1 413 /);
    // Answered from the declared length: well before --max-request-body (32 MiB) could
    // have been read. Loopback socket buffers alone can take a few MiB in that time.
    expect(sent).toBeLessThan(16 * MB);
    await proxyStillWorks();
  });

  const bigHeader = `X-Big: ${'b'.repeat(MB)}\r\n`;
  const manyHeaders = Array.from({ length: 10_000 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
  const oversized: Array<[string, string]> = [['a 1 MB header', bigHeader], ['10,000 headers', manyHeaders]];

  it('FAULT 16: a client still sending the rest of an 8 MB header reads its 431 (the socket lingers), not a reset', async () => {
    for (const requestLine of ['CONNECT api.openai.com:443 HTTP/1.1', 'GET http://api.openai.com/v1/models HTTP/1.1']) {
      const socket = await openSocket(tp.proxy.address.port);
      const got: Buffer[] = [];
      socket.on('data', (d: Buffer) => got.push(d));
      const ended = new Promise<string | undefined>((done) => {
        socket.once('error', (err: NodeJS.ErrnoException) => done(err.code));
        socket.once('close', () => done(undefined));
      });
      socket.write(`${requestLine}\r\nHost: api.openai.com\r\nX-Big: ${'c'.repeat(8 * MB)}\r\n\r\n`);
      const error = await ended;
      expect({ error, answer: Buffer.concat(got).toString('latin1').split('\r\n')[0] }).toEqual({ error: undefined, answer: 'HTTP/1.1 431 Request Header Fields Too Large' });
    }
    await proxyStillWorks();
  });

  for (const [name, extra] of oversized) {
    it(`FAULT 16: ${name} → 431 headers_too_large on the outer server (CONNECT and plain request) and inside TLS`, async () => {
      const before = tp.proxy.server.metrics.errors.headers_too_large ?? 0;
      const answers: string[] = [];
      // Outer server: a CONNECT head and a plain absolute-URI request.
      for (const requestLine of ['CONNECT api.openai.com:443 HTTP/1.1', 'GET http://api.openai.com/v1/models HTTP/1.1']) {
        const socket = await openSocket(tp.proxy.address.port);
        socket.write(`${requestLine}\r\nHost: api.openai.com\r\n${extra}\r\n`);
        answers.push((await readAll(socket, 5000)).toString('latin1'));
      }
      // Inner server: the same inside an intercepted TLS connection.
      const { tls } = await interceptedTls();
      tls.on('error', () => {});
      tls.write(`GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\n${extra}\r\n`);
      answers.push((await readAll(tls, 5000)).toString('latin1'));
      for (const answer of answers) {
        expect(answer).toMatch(/^HTTP\/1\.1 431 /);
        expect(headerIn(answer.slice(0, answer.indexOf('\r\n\r\n')), 'x-llmtap-error')).toBe('headers_too_large');
      }
      expect(tp.proxy.server.metrics.errors.headers_too_large).toBe(before + 3);
      await proxyStillWorks();
    });
  }
});
