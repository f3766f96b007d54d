/**
 * Fault list #4: ambiguous or malformed request framing — Content-Length together
 * with Transfer-Encoding, duplicate Content-Length, an unknown transfer coding,
 * obs-fold, bare CR — is answered 400 and the connection closed, and nothing reaches
 * the provider. Checked on the plain-HTTP side (absolute URIs) and inside an
 * intercepted TLS connection. Each body carries a smuggled second request that must
 * never arrive either.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { exchangeUntilClose, interceptedSocket, plainSocketTo } from '../helpers/raw-client.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

let tlsFake: FakeProvider;
let plainFake: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  tlsFake = await startFakeProvider();
  plainFake = await startFakeProvider({ tls: false });
  tp = await startTestProxy(tlsFake, {
    intercept: ['plain.test:80'],
    connectTo: [...FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${tlsFake.port}`)), parseConnectTo(`plain.test:80:127.0.0.1:${plainFake.port}`)],
    headersTimeoutMs: 5000,
  });
});
beforeEach(() => {
  tlsFake.seen.length = 0;
  plainFake.seen.length = 0;
});
afterAll(async () => {
  await tp?.close();
  await tlsFake?.close();
  await plainFake?.close();
});

const exchange = exchangeUntilClose;
const plainSocket = (): Promise<Socket> => plainSocketTo(tp.proxy.address.port);
const tlsSocket = (): Promise<Socket> => interceptedSocket(tp.proxy.address.port, tp.caPem);

const BODY = '{"model":"gpt-4o-mini","messages":[]}';

/** A second request hidden in the body: if a framing confusion forwards it, the fake sees /smuggled. */
function smuggled(host: string, target: string): string {
  return `GET ${target}/smuggled HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
}

/**
 * The malformed heads. `target` is the request target (absolute URI on the plain
 * side, origin form inside TLS).
 */
function cases(host: string, target: string): Array<[string, string]> {
  const s = smuggled(host, target.replace(/\/v1\/chat\/completions$/, ''));
  const chunkedS = `0\r\n\r\n${s}`;
  return [
    ['Content-Length + Transfer-Encoding', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${chunkedS.length}\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedS}`],
    ['Transfer-Encoding + Content-Length', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${chunkedS}`],
    ['duplicate Content-Length (different)', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${BODY.length}\r\nContent-Length: ${BODY.length + s.length}\r\n\r\n${BODY}${s}`],
    ['duplicate Content-Length (same)', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${BODY.length}\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}${s}`],
    ['Content-Length list', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${BODY.length}, ${BODY.length}\r\n\r\n${BODY}${s}`],
    ['Transfer-Encoding: xchunked', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: xchunked\r\n\r\n${BODY.length.toString(16)}\r\n${BODY}\r\n${chunkedS}`],
    ['Transfer-Encoding: chunked, identity', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked, identity\r\n\r\n${chunkedS}`],
    ['Transfer-Encoding obs-folded', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`],
    ['obs-fold in any header', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nX-Folded: a\r\n\tb\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`],
    ['bare CR inside a header value', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nX-Evil: a\rTransfer-Encoding: chunked\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`],
    ['bare CR as a line end', `POST ${target} HTTP/1.1\r\nHost: ${host}\rContent-Length: ${BODY.length}\r\n\r\n${BODY}`],
    ['space before the colon', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding : chunked\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`],
    ['NUL in a header value', `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nX-Nul: a\0b\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`],
  ];
}

function expectRejected(answer: { raw: string; closed: boolean }, name: string): void {
  expect(answer.raw, name).toMatch(/^HTTP\/1\.1 400 /);
  expect(answer.raw.toLowerCase(), name).toContain('x-llmtap-error: bad_request');
  expect(answer.raw.match(/HTTP\/1\.1 /g), `${name}: exactly one answer`).toHaveLength(1);
  expect(answer.closed, `${name}: connection closed`).toBe(true);
}

describe('plain-HTTP side (absolute-URI requests to an --intercept host)', () => {
  it('a well-formed request is forwarded (the setup works)', async () => {
    const answer = await exchange(await plainSocket(), `POST http://plain.test/v1/chat/completions HTTP/1.1\r\nHost: plain.test\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`);
    expect(answer.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(plainFake.seen).toHaveLength(1);
  });

  it('FAULT 4: CL+TE, duplicate CL, xchunked, obs-fold, bare CR → 400, connection closed, nothing forwarded', async () => {
    for (const [name, bytes] of cases('plain.test', 'http://plain.test/v1/chat/completions')) {
      expectRejected(await exchange(await plainSocket(), bytes), name);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(plainFake.seen).toEqual([]);
    expect(tlsFake.seen).toEqual([]);
  });

  it('FAULT 4: a malformed request after a good one on the same connection forwards only the good one', async () => {
    const good = `POST http://plain.test/v1/chat/completions HTTP/1.1\r\nHost: plain.test\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`;
    const all = cases('plain.test', 'http://plain.test/v1/chat/completions');
    for (const name of ['Content-Length + Transfer-Encoding', 'Transfer-Encoding: xchunked']) {
      plainFake.seen.length = 0;
      const bad = all.find(([n]) => n === name)![1];
      const answer = await exchange(await plainSocket(), good + bad);
      // The earlier answer is delivered whole, then the connection closes; no 400 lands in the middle of it.
      expect(answer.raw, name).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer.raw.match(/HTTP\/1\.1 /g), name).toHaveLength(1);
      expect(answer.closed, name).toBe(true);
      expect(plainFake.seen.map((r) => r.url), name).toEqual(['/v1/chat/completions']);
    }
  });

  it('no exchange is left hanging by a rejected request', async () => {
    await eventually(() => expect(tp.proxy.server.metrics.inFlight).toBe(0));
  });
});

describe('inside an intercepted TLS connection', () => {
  it('FAULT 4: CL+TE, duplicate CL, xchunked, obs-fold, bare CR → 400, connection closed, nothing forwarded', async () => {
    for (const [name, bytes] of cases('api.openai.com', '/v1/chat/completions')) {
      expectRejected(await exchange(await tlsSocket(), bytes), name);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(tlsFake.seen).toEqual([]);
    expect(plainFake.seen).toEqual([]);
  });

  it('a well-formed request on the same kind of connection still works afterwards', async () => {
    const answer = await exchange(await tlsSocket(), `POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`);
    expect(answer.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(tlsFake.seen.map((r) => r.url)).toEqual(['/v1/chat/completions']);
  });
});
