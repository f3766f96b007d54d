/**
 * FAULT 31 (header limits never cut silently; trailers and transfer codings never
 * dropped) and FAULT 32 (a request body that stalls is cut by a body-progress timeout).
 */
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { MAX_HEADER_COUNT } from '../../src/proxy/request-limits.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { closedWithin, headerIn, openSocket, readAll, readResponse, sleep, tlsOver, tunnelTo } from './network-helpers.js';

const HEADERS_TIMEOUT_MS = 600;
let fake: FakeProvider;
let plain: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  plain = await startFakeProvider({ tls: false });
  tp = await startTestProxy(fake, {
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    intercept: ['plain.test:80'],
    connectTo: [...FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)), parseConnectTo(`plain.test:80:127.0.0.1:${plain.port}`)],
  });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
  await plain?.close();
});

async function intercepted(): Promise<TLSSocket> {
  const { socket } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
  const tls = await tlsOver(socket, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem, ALPNProtocols: ['http/1.1'] });
  tls.on('error', () => {});
  return tls;
}

const headers = (n: number): string => Array.from({ length: n }, (_, i) => `X-H${i}: ${i % 10}\r\n`).join('');
const seenUpstream = (): number => fake.seen.length + plain.seen.length;

describe('FAULT 31: request heads over the limits, trailers, transfer codings', () => {
  it.each([
    ['2,500 small headers (a 24 KB head)', 2500],
    [`${MAX_HEADER_COUNT + 1} headers (over the count, under the size)`, MAX_HEADER_COUNT + 1],
  ])('FAULT 31: %s → 431 inside TLS, as a plain-HTTP request and on CONNECT; nothing forwarded', async (_name, n) => {
    const before = seenUpstream();
    const tls = await intercepted();
    tls.write(`POST /echo HTTP/1.1\r\nHost: api.openai.com\r\n${headers(n)}Content-Length: 2\r\n\r\n{}`);
    const inner = (await readAll(tls)).toString('latin1');
    const outer: string[] = [];
    for (const line of ['GET http://plain.test/echo HTTP/1.1\r\nHost: plain.test', 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443']) {
      const socket = await openSocket(tp.proxy.address.port);
      socket.write(`${line}\r\n${headers(n)}\r\n`);
      outer.push((await readAll(socket)).toString('latin1'));
    }
    for (const answer of [inner, ...outer]) {
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(headerIn(answer.slice(0, answer.indexOf('\r\n\r\n')), 'x-llmtap-error')).toBe('headers_too_large');
    }
    expect(seenUpstream()).toBe(before);
  });

  it(`FAULT 31: ${MAX_HEADER_COUNT - 10} headers reach the provider all of them, in order (control)`, async () => {
    const tls = await intercepted();
    const reading = readResponse(tls);
    tls.write(`GET /echo HTTP/1.1\r\nHost: api.openai.com\r\n${headers(MAX_HEADER_COUNT - 10)}\r\n`);
    const answer = await reading;
    expect(answer.status).toBe(200);
    const raw = (JSON.parse(answer.body.toString()) as { rawHeaders: string[] }).rawHeaders;
    const names = raw.filter((_, i) => i % 2 === 0).filter((n) => n.startsWith('X-H'));
    expect(names).toEqual(Array.from({ length: MAX_HEADER_COUNT - 10 }, (_, i) => `X-H${i}`));
    tls.destroy();
  });

  it('FAULT 31: a chunked body with trailer fields → 400, never forwarded without them', async () => {
    const before = seenUpstream();
    const tls = await intercepted();
    tls.write('POST /echo HTTP/1.1\r\nHost: api.openai.com\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n2\r\n{}\r\n0\r\nX-Checksum: abc\r\n\r\n');
    const answer = (await readAll(tls)).toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(headerIn(answer.slice(0, answer.indexOf('\r\n\r\n')), 'x-llmtap-error')).toBe('bad_request');
    expect(seenUpstream()).toBe(before);
  });

  it('FAULT 31: Transfer-Encoding: gzip, chunked → 400 (a coding llmtap does not apply), nothing forwarded', async () => {
    const before = seenUpstream();
    const tls = await intercepted();
    tls.write('POST /echo HTTP/1.1\r\nHost: api.openai.com\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n');
    expect((await readAll(tls)).toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);
    expect(seenUpstream()).toBe(before);
  });
});

describe('FAULT 32: a request body that stops arriving', () => {
  it.each(['intercepted TLS', 'plain HTTP'])('FAULT 32: %s — no body byte for --headers-timeout → 408, connection closed, nothing forwarded', async (where) => {
    const before = seenUpstream();
    const socket = where === 'plain HTTP' ? await openSocket(tp.proxy.address.port) : await intercepted();
    const target = where === 'plain HTTP' ? 'http://plain.test/echo' : '/echo';
    const host = where === 'plain HTTP' ? 'plain.test' : 'api.openai.com';
    const started = Date.now();
    socket.write(`POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100\r\n\r\n{"a":`);
    await sleep(HEADERS_TIMEOUT_MS / 3);
    socket.write('1'); // progress resets the timer …
    const answer = (await readAll(socket, 10_000)).toString('latin1'); // … then nothing more
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(headerIn(answer.slice(0, answer.indexOf('\r\n\r\n')), 'x-llmtap-error')).toBe('request_timeout');
    expect(Date.now() - started).toBeLessThan(HEADERS_TIMEOUT_MS * 4);
    expect(await closedWithin(socket, 2000)).toBeLessThan(2000);
    expect(seenUpstream()).toBe(before);
  });
});
