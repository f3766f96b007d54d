/**
 * RFC 9112 §3.2: a server must answer 400 to a request with more than one Host
 * header field. Two Hosts are a smuggling and cache-poisoning shape: the proxy, the
 * provider and anything between may each believe a different one. llmtap refuses
 * such a request on every path (inside an intercepted TLS connection, plain-HTTP
 * absolute-URI requests, WebSocket upgrades, CONNECT) with 400 `bad_request`,
 * logs it, records the intercepted and plain ones as it records other refusals,
 * and forwards nothing.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { exchangeUntilClose, interceptedSocket, plainSocketTo } from '../helpers/raw-client.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

let tlsFake: FakeProvider;
let plainFake: FakeProvider;
let tp: TestProxy;
/** A TCP server the IPv6 literal 2001:db8::1 reaches through --connect-to: it answers a tunnel with one word. */
let origin: Server;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  tlsFake = await startFakeProvider();
  plainFake = await startFakeProvider({ tls: false });
  origin = createServer((socket) => socket.end('tunnelled'));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const destination = new PassThrough();
  let pending = '';
  destination.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
  tp = await startTestProxy(tlsFake, {
    intercept: ['plain.test:80'],
    connectTo: [...FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${tlsFake.port}`)), parseConnectTo(`plain.test:80:127.0.0.1:${plainFake.port}`), parseConnectTo(`unlisted.test:80:127.0.0.1:${plainFake.port}`),
      parseConnectTo(`[2001:db8::1]:443:127.0.0.1:${(origin.address() as AddressInfo).port}`)],
  }, { logger: createLogger({ level: 'info', destination }) });
});
beforeEach(() => {
  tlsFake.seen.length = 0;
  plainFake.seen.length = 0;
});
afterAll(async () => {
  await tp?.close();
  await tlsFake?.close();
  await plainFake?.close();
  origin?.close();
});

const exchange = exchangeUntilClose;
const plainSocket = (): Promise<Socket> => plainSocketTo(tp.proxy.address.port);
const tlsSocket = (): Promise<Socket> => interceptedSocket(tp.proxy.address.port, tp.caPem);

const BODY = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"two hosts"}]}';

function post(target: string, hostLines: string): string {
  return `POST ${target} HTTP/1.1\r\n${hostLines}Content-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`;
}

function expectRefused(answer: { raw: string; closed: boolean }, name: string): void {
  expect(answer.raw, name).toMatch(/^HTTP\/1\.1 400 /);
  expect(answer.raw.toLowerCase(), name).toContain('x-llmtap-error: bad_request');
  expect(answer.raw.match(/HTTP\/1\.1 /g), `${name}: exactly one answer`).toHaveLength(1);
  expect(answer.closed, `${name}: connection closed`).toBe(true);
}

const TWO_HOSTS: Array<[string, (host: string) => string]> = [
  ['two different Hosts', (host) => `Host: ${host}\r\nHost: evil.test\r\n`],
  ['the same Host twice', (host) => `Host: ${host}\r\nHost: ${host}\r\n`],
  ['Host and host (names differ in case only)', (host) => `Host: ${host}\r\nX-Between: 1\r\nhost: evil.test\r\n`],
];

describe('a request with more than one Host header', () => {
  it('inside an intercepted TLS connection: 400 bad_request in the provider\'s shape, logged, recorded, nothing forwarded', async () => {
    for (const [name, hosts] of TWO_HOSTS) {
      const answer = await exchange(await tlsSocket(), post('/v1/chat/completions', hosts('api.openai.com')));
      expectRefused(answer, name);
      // The provider's error shape, as every error llmtap makes itself.
      const body = JSON.parse(answer.raw.slice(answer.raw.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
      expect(body.error.code, name).toBe('bad_request');
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(tlsFake.seen).toEqual([]);
    const rows = await eventually(() => {
      const r = exported(tp).filter((x) => x.path === '/v1/chat/completions' && x.host === 'api.openai.com');
      expect(r).toHaveLength(TWO_HOSTS.length);
      return r;
    });
    for (const row of rows) {
      expect(row.outcome).toBe('proxy_error');
      expect(row.error_code).toBe('bad_request');
      expect(row.status).toBe(400);
    }
    await eventually(() => {
      const logged = logLines.filter((l) => l.msg === 'exchange failed' && l.code === 'bad_request' && l.host === 'api.openai.com');
      expect(logged).toHaveLength(TWO_HOSTS.length);
      for (const l of logged) expect(l.cause).toBe('duplicate_host');
    });
  });

  it('plain-HTTP absolute-URI request to a listed host: 400, recorded, nothing forwarded', async () => {
    for (const [name, hosts] of TWO_HOSTS) {
      expectRefused(await exchange(await plainSocket(), post('http://plain.test/v1/chat/completions', hosts('plain.test'))), name);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(plainFake.seen).toEqual([]);
    await eventually(() => {
      const rows = exported(tp).filter((x) => x.host === 'plain.test');
      expect(rows).toHaveLength(TWO_HOSTS.length);
      for (const row of rows) expect(row.error_code).toBe('bad_request');
    });
  });

  it('plain-HTTP request to an unlisted host (forwarded, not recorded): 400 too', async () => {
    const answer = await exchange(await plainSocket(), post('http://unlisted.test/v1/chat/completions', 'Host: unlisted.test\r\nHost: evil.test\r\n'));
    expectRefused(answer, 'unlisted');
    await new Promise((r) => setTimeout(r, 50));
    expect(plainFake.seen).toEqual([]);
  });

  it('a WebSocket upgrade inside an intercepted connection: 400, never dialled upstream', async () => {
    const upgrade = 'GET /v1/responses HTTP/1.1\r\nHost: api.openai.com\r\nHost: evil.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n'
      + 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    expectRefused(await exchange(await tlsSocket(), upgrade), 'upgrade');
    await new Promise((r) => setTimeout(r, 50));
    expect(tlsFake.seen).toEqual([]);
  });

  it('a CONNECT with two Host headers: 400, no tunnel, logged', async () => {
    const answer = await exchange(await plainSocket(), 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nHost: evil.test:443\r\n\r\n');
    expectRefused(answer, 'CONNECT');
    await eventually(() => expect(logLines.some((l) => l.msg === 'CONNECT refused' && l.cause === 'duplicate_host')).toBe(true));
  });

  it('an HTTP/1.1 request with no Host (RFC 9112 §3.2): 400 bad_request made by llmtap, logged and recorded like the others', async () => {
    for (const [name, socket, target] of [
      ['intercepted', await tlsSocket(), '/v1/chat/completions?case=no-host'],
      ['plain', await plainSocket(), 'http://plain.test/v1/chat/completions?case=no-host'],
    ] as const) {
      const answer = await exchange(socket, post(target, ''));
      expectRefused(answer, name);
    }
    expect(tlsFake.seen).toEqual([]);
    expect(plainFake.seen).toEqual([]);
    await eventually(() => {
      const rows = exported(tp).filter((x) => x.path.endsWith('case=no-host'));
      expect(rows.map((r) => [r.host, r.error_code]).sort()).toEqual([['api.openai.com', 'bad_request'], ['plain.test', 'bad_request']]);
      expect(logLines.filter((l) => l.cause === 'missing_host')).toHaveLength(2);
    });
    // HTTP/1.0 has no Host requirement: the request goes through (the upstream client writes one).
    const old = await exchange(await tlsSocket(), `POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`);
    expect(old.raw).toMatch(/^HTTP\/1\.1 200 /);
    tlsFake.seen.length = 0;
  });

  it('a Host whose value is no host[:port] (RFC 9112 §3.2: a space, a slash, an @, a bad port): 400, logged, nothing forwarded', async () => {
    const bad = ['api.openai.com evil.test', 'api.openai.com/v1/x?', 'user@api.openai.com', 'api.openai.com:44a3', '[::1', 'api.openai.com\t:443'];
    for (const value of bad) {
      expectRefused(await exchange(await tlsSocket(), post('/v1/chat/completions?case=bad-host', `Host: ${value}\r\n`)), value);
      expectRefused(await exchange(await plainSocket(), post('http://plain.test/v1/chat/completions?case=bad-host', `Host: ${value}\r\n`)), `plain ${value}`);
    }
    expect(tlsFake.seen).toEqual([]);
    expect(plainFake.seen).toEqual([]);
    await eventually(() => expect(logLines.filter((l) => l.cause === 'invalid_host')).toHaveLength(bad.length * 2));
    // Any well-formed host[:port] naming the tunnel's host goes: upper case, a trailing dot, an empty port, an empty value.
    for (const value of ['API.OpenAI.com.', 'api.openai.com:443', 'api.openai.com:', '']) {
      const answer = await exchange(await tlsSocket(), post('/v1/chat/completions', `Host: ${value}\r\nConnection: close\r\n`));
      expect(answer.raw, JSON.stringify(value)).toMatch(/^HTTP\/1\.1 200 /);
    }
    // A well-formed one naming another server (an IPv6 literal) is no invalid Host, but not the tunnel's (tunnel-request-target.test.ts).
    const other = await exchange(await tlsSocket(), post('/v1/chat/completions', 'Host: [::1]:443\r\nConnection: close\r\n'));
    expect(other.raw.toLowerCase()).toContain('x-llmtap-error: target_mismatch');
    tlsFake.seen.length = 0;
  });

  it('a CONNECT whose Host is no host[:port] is still tunnelled: its Host goes nowhere, the request line names the target', async () => {
    // What CPython 3.13.0's http.client (urllib, requests) sends for a tunnel to an IPv6
    // literal: the Host without brackets. Refusing it would break the client and protect
    // nothing: a CONNECT's Host is never forwarded, its target is in the request line.
    const answer = await exchange(await plainSocket(), 'CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: 2001:db8::1:443\r\n\r\n');
    expect(answer.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.raw).toContain('tunnelled');
  });

  it('one Host still goes through on each path (the setup works)', async () => {
    const tls = await exchange(await tlsSocket(), post('/v1/chat/completions', 'Host: api.openai.com\r\nConnection: close\r\n'));
    expect(tls.raw).toMatch(/^HTTP\/1\.1 200 /);
    const plain = await exchange(await plainSocket(), post('http://plain.test/v1/chat/completions', 'Host: plain.test\r\nConnection: close\r\n'));
    expect(plain.raw).toMatch(/^HTTP\/1\.1 200 /);
    const unlisted = await exchange(await plainSocket(), post('http://unlisted.test/v1/chat/completions', 'Host: unlisted.test\r\nConnection: close\r\n'));
    expect(unlisted.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(tlsFake.seen).toHaveLength(1);
    expect(plainFake.seen).toHaveLength(2);
  });
});
