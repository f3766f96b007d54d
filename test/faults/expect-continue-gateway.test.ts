/**
 * `Expect: 100-continue` on a gateway: every refusal llmtap decides before it reads a
 * body — no or a wrong proxy login (407), a destination it does not let through (403),
 * --rate-limit (429) — is answered instead of `100 Continue`, with `Connection: close`
 * and the connection ended, so the client never uploads a body that would be thrown
 * away, and what it sends next is never parsed as a request. A request let through
 * still gets its 100 and then its answer. And a refusal answered while a body is still
 * arriving closes the connection rather than wait for the rest of it. Raw sockets: what
 * arrives first, and whether the proxy closed.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { exchangeUntilClose, interceptedSocket, plainSocketTo } from '../helpers/raw-client.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { basic, CHAT } from './security-helpers.js';

let tlsFake: FakeProvider;
let plainFake: FakeProvider;
let gw: TestProxy;
const LOGIN = `Proxy-Authorization: ${basic('u', 'p')}\r\n`;

beforeAll(async () => {
  tlsFake = await startFakeProvider();
  plainFake = await startFakeProvider({ tls: false });
  gw = await startTestProxy(tlsFake, {
    host: '0.0.0.0',
    auth: [{ user: 'u', password: 'p' }],
    rateLimit: { limit: 1, windowMs: 60_000 },
    intercept: ['plain.test:80'],
    connectTo: [...FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${tlsFake.port}`)), parseConnectTo(`plain.test:80:127.0.0.1:${plainFake.port}`)],
  });
});
afterAll(async () => {
  await gw?.close();
  await tlsFake?.close();
  await plainFake?.close();
});

const port = (): number => gw.proxy.address.port;
const intercepted = (): Promise<Socket> => interceptedSocket(port(), gw.caPem, LOGIN);

function expectHead(target: string, host: string, extra = ''): string {
  return `POST ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${CHAT.length}\r\n\r\n`;
}

/** Sends a head with Expect and waits for the first bytes back: the 100, or a final answer. */
function firstAnswer(socket: Socket, head: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (c: Buffer) => resolve(c.toString('latin1')));
    socket.write(head);
  });
}

/** A refusal instead of 100: that status first, no 100 anywhere, `connection: close`, and the proxy closed. */
function expectRefusedWithoutContinue(answer: { raw: string; closed: boolean }, status: number): void {
  expect(answer.raw).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  expect(answer.raw).not.toContain('100 Continue');
  expect(answer.raw.toLowerCase()).toContain('connection: close');
  expect(answer.closed).toBe(true);
}

describe('Expect: 100-continue, refusals decided from the head (gateway)', () => {
  it('plain HTTP without a proxy login: 407 instead of 100 Continue, and the connection closed', async () => {
    const answer = await exchangeUntilClose(await plainSocketTo(port()), expectHead('http://plain.test/v1/chat/completions', 'plain.test'));
    expectRefusedWithoutContinue(answer, 407);
    expect(answer.raw).toContain('proxy-authenticate: Basic realm="llmtap"');
  });

  it('plain HTTP with a login to a port the gateway does not let through: 403 instead of 100 Continue', async () => {
    const answer = await exchangeUntilClose(await plainSocketTo(port()), expectHead('http://plain.test:8080/v1/chat/completions', 'plain.test:8080', LOGIN));
    expectRefusedWithoutContinue(answer, 403);
    expect(plainFake.seen).toEqual([]);
  });

  it('plain HTTP with a login: 100 Continue, then the answer once the body is sent', async () => {
    const socket = await plainSocketTo(port());
    expect(await firstAnswer(socket, expectHead('http://plain.test/v1/chat/completions', 'plain.test', `${LOGIN}Connection: close\r\n`))).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const rest = await exchangeUntilClose(socket, CHAT);
    expect(rest.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(plainFake.seen).toHaveLength(1);
  });

  it('--rate-limit: the request within the limit gets 100 Continue; the next one 429 instead, and the connection closed', async () => {
    const first = await intercepted();
    expect(await firstAnswer(first, expectHead('/v1/chat/completions', 'api.openai.com', 'Connection: close\r\n'))).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    expect((await exchangeUntilClose(first, CHAT)).raw).toMatch(/^HTTP\/1\.1 200 /);

    const answer = await exchangeUntilClose(await intercepted(), expectHead('/v1/chat/completions', 'api.openai.com'));
    expectRefusedWithoutContinue(answer, 429);
    expect(answer.raw.toLowerCase()).toContain('x-llmtap-error: rate_limited');
    expect(tlsFake.seen).toHaveLength(1);
  });

  it('a refusal answered while the body is still arriving (no Expect) closes the connection instead of waiting for the rest', async () => {
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nContent-Length: ${CHAT.length}\r\n\r\n`;
    const answer = await exchangeUntilClose(await intercepted(), head + CHAT.slice(0, 5));
    expect(answer.raw).toMatch(/^HTTP\/1\.1 429 /);
    expect(answer.raw.toLowerCase()).toContain('connection: close');
    expect(answer.closed).toBe(true);
  });

  it('a refusal of a request without a body leaves the connection open: nothing is left to read, the next request on it is answered', async () => {
    const socket = await intercepted();
    const get = 'GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\n\r\n';
    const first = await firstAnswer(socket, get);
    expect(first).toMatch(/^HTTP\/1\.1 429 /);
    expect(first.toLowerCase()).not.toContain('connection: close');
    const second = await exchangeUntilClose(socket, get.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
    expect(second.raw).toMatch(/^HTTP\/1\.1 429 /);
  });
});
