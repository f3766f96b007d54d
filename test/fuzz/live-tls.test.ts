/**
 * The intercepting side under fuzzed bytes: what a client sends after a successful
 * `CONNECT api.openai.com:443` (garbage, truncated or mutated ClientHellos), and
 * fuzzed HTTP requests inside an intercepted TLS connection.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peekClientHello } from '../../src/tls/client-hello.js';
import { connectThrough, startTls } from '../helpers/raw-client.js';
import { eol, extraHeaders, frame, framingArb, headerBlock, inHead, junk, mostly, SMUGGLING } from './http-arbs.js';
import { expectHealthy, expectNoCrash, expectReleased, forgetSeen, startLiveHarness, type LiveHarness } from './live-harness.js';
import { captureClientHellos, liveRuns, mutate, mutationArb, params, probe, refragment, splitAt, statusLine, Tally, timeoutFor, type CapturedHello } from './support.js';

const RUNS = liveRuns(150);
const DEADLINE_MS = 2_000;
const TIMEOUT = timeoutFor(RUNS, 40, 60_000);

const tallies = { after: new Tally('bytes after CONNECT'), inner: new Tally('HTTP inside intercepted TLS') };

let h: LiveHarness;
let hellos: CapturedHello[] = [];
beforeAll(async () => {
  h = await startLiveHarness();
  hellos = await captureClientHellos();
});
afterAll(async () => {
  tallies.after.print();
  tallies.inner.print();
  await h?.close();
});

const show = (b: Buffer): string => JSON.stringify(b.subarray(0, 300).toString('latin1'));

/** What follows the 200 of a CONNECT to an intercepted host. */
const afterConnect = fc.oneof(
  fc.constant({ kind: 'nothing', at: 0, cuts: [] as number[], mutations: [] as never[], bytes: new Uint8Array() }),
  fc.record({ kind: fc.constant('garbage'), bytes: fc.uint8Array({ maxLength: 600 }) }),
  fc.record({ kind: fc.constant('http'), bytes: fc.constantFrom('GET / HTTP/1.1\r\nHost: api.openai.com\r\n\r\n', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n').map((s) => Buffer.from(s)) }),
  fc.record({ kind: fc.constant('truncated'), hello: fc.nat(), at: fc.nat() }),
  fc.record({ kind: fc.constant('mutated'), hello: fc.nat(), mutations: mutationArb }),
  fc.record({ kind: fc.constant('fragmented'), hello: fc.nat(), cuts: fc.array(fc.nat(), { maxLength: 6 }), at: fc.nat() }),
  fc.record({ kind: fc.constant('hello+junk'), hello: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 200 }) }),
);
type AfterConnect = typeof afterConnect extends fc.Arbitrary<infer T> ? T : never;

function payload(a: AfterConnect): Buffer {
  const hello = (i: number): Buffer => hellos[i % hellos.length]!.bytes;
  switch (a.kind) {
    case 'nothing': return Buffer.alloc(0);
    case 'garbage': case 'http': return Buffer.from(a.bytes);
    case 'truncated': { const b = hello(a.hello); return b.subarray(0, a.at % b.length); }
    case 'mutated': return mutate(hello(a.hello), a.mutations);
    case 'fragmented': { const b = refragment(hello(a.hello), a.cuts); return b.subarray(0, a.at % (b.length + 1)); }
    case 'hello+junk': return Buffer.concat([hello(a.hello), Buffer.from(a.bytes)]);
  }
}

describe('bytes after CONNECT to an intercepted host', () => {
  it('never crash the proxy; with a FIN the connection closes within the deadline; non-TLS bytes are dropped at once', async () => {
    const host = fc.constantFrom('api.openai.com:443', 'api.anthropic.com:443');
    await fc.assert(fc.asyncProperty(host, afterConnect, fc.boolean(), fc.array(fc.nat(), { maxLength: 4 }), async (authority, after, fin, cuts) => {
      const bytes = payload(after);
      const verdict = peekClientHello(bytes).kind;
      const socket = await connectThrough(h.port, authority);
      // Without a FIN only bytes that are certainly not TLS oblige the proxy to close;
      // an incomplete hello may legitimately wait for the rest (until the handshake timeout).
      const mustClose = fin || verdict === 'not-tls';
      const r = await probe(socket, splitAt(bytes, cuts), { end: fin, deadlineMs: mustClose ? DEADLINE_MS : 50 });
      tallies.after.add(`${after.kind}, peek ${verdict}, ${fin ? 'fin' : 'no fin'}: ${r.response.length ? `answered 0x${r.response[0]!.toString(16)}` : r.closed ? 'closed' : 'open'}`);
      forgetSeen(h);
      if (mustClose) expect(r.closed, `not closed within ${DEADLINE_MS} ms (${after.kind}, fin=${fin}, peek=${verdict}): ${show(bytes)}`).toBe(true);
      // Whatever comes back is TLS (a ServerHello or an alert) from llmtap or, after an SNI mismatch, the origin.
      if (r.response.length > 0) expect([0x15, 0x16]).toContain(r.response[0]);
      expectNoCrash(h);
      await expectReleased(h, show(bytes));
    }), params(RUNS, true));
  }, TIMEOUT);
});

// ---------------------------------------------------------------------------
// HTTP inside the intercepted TLS connection.

const innerTarget = (marker: string) => fc.oneof(
  { weight: 16, arbitrary: fc.constantFrom('/v1/chat/completions', '/v1/messages', '/echo', '/status/429', '/status/500', '/gzip', '/redirect', '/stream-bytes?n=5&size=200', '/reset-mid-stream', '/nothing').map((p) => `${p}${p.includes('?') ? '&' : '?'}m=${marker}`) },
  { weight: 1, arbitrary: fc.constantFrom(`https://api.openai.com/echo?m=${marker}`, `http://elsewhere.test/echo?m=${marker}`, '*', `//echo?m=${marker}`, `/echo?m=${marker}#frag`, `/%zz?m=${marker}`) },
  { weight: 1, arbitrary: junk(20) },
);

const jsonBody = fc.oneof(
  fc.constantFrom(
    '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}',
    '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]}',
    '{"model":"claude-sonnet-4-5","stream":true,"max_tokens":10,"messages":[]}',
    '{"model":"gpt-4o-mini","tools":[{"type":"function","function":{"name":"f"}}],"stream":true}',
  ),
  fc.json(),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);

const innerCase = fc.uuid().chain((marker) => fc.record({
  marker: fc.constant(marker),
  method: fc.oneof({ weight: 24, arbitrary: fc.constantFrom('POST', 'POST', 'GET', 'PUT', 'HEAD', 'OPTIONS', 'DELETE') }, { weight: 1, arbitrary: fc.constantFrom('CONNECT', 'TRACE', 'PRI', 'post', 'FOO') }, { weight: 1, arbitrary: junk(6) }),
  target: innerTarget(marker),
  version: mostly(fc.constant('HTTP/1.1'), fc.constantFrom('HTTP/1.0', 'HTTP/2', ''), 24),
  lineEnd: eol,
  host: mostly(fc.constantFrom('Host: api.openai.com\r\n', 'Host: API.openai.com:443\r\n'), fc.constantFrom('', 'Host: evil.test\r\n', 'Host: api.openai.com\r\nHost: x\r\n'), 6),
  headers: headerBlock,
  extra: extraHeaders,
  encoding: fc.constantFrom('', '', '', 'gzip', 'br', 'deflate'),
  framing: framingArb,
  body: jsonBody,
  terminator: eol,
  pipelined: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 4 }),
  fin: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  linger: mostly(fc.constant(true), fc.constant(false), 3),
}));
type InnerCase = typeof innerCase extends fc.Arbitrary<infer T> ? T : never;

function innerBytes(c: InnerCase): Buffer {
  const framed = frame(c.framing, Buffer.from(c.body, 'latin1'));
  const enc = c.encoding ? `Content-Encoding: ${c.encoding}\r\n` : '';
  const head = `${c.method} ${c.target} ${c.version}${c.lineEnd}${c.host}${c.headers}${c.extra}${enc}${framed.headers}${c.terminator}`;
  const second = c.pipelined ? `POST /v1/chat/completions?m=${c.marker}-2 HTTP/1.1\r\nHost: api.openai.com\r\nContent-Length: 2\r\n\r\n{}` : '';
  return Buffer.concat([Buffer.from(head, 'latin1'), framed.body, Buffer.from(second)]);
}

describe('fuzzed HTTP requests inside intercepted TLS', () => {
  it('never crash the proxy; with a FIN the connection closes within the deadline; ambiguous framing never reaches the provider', async () => {
    await fc.assert(fc.asyncProperty(innerCase, async (c) => {
      const bytes = innerBytes(c);
      forgetSeen(h);
      const tunnel = await connectThrough(h.port, 'api.openai.com:443');
      const tls = await startTls(tunnel, { host: 'api.openai.com', servername: 'api.openai.com', ca: h.tp.caPem });
      const r = await probe(tls, splitAt(bytes, c.cuts), { end: c.fin, finAfterMs: c.linger ? 100 : 0, deadlineMs: c.fin ? DEADLINE_MS : 50 });
      tallies.inner.addResponse(r);
      if (c.fin) expect(r.closed, `not closed within ${DEADLINE_MS} ms after FIN: ${show(bytes)}`).toBe(true);
      if (r.response.length > 0) expect(statusLine(r.response), show(bytes)).toMatch(/^HTTP\/1\.1 \d{3} /);
      if (SMUGGLING.has(c.framing) && inHead(bytes, frame(c.framing, Buffer.from(c.body, 'latin1')).headers)) {
        const reached = h.fake.seen.some((s) => s.url.includes(c.marker));
        expect(reached, `a ${c.framing} request reached the provider: ${show(bytes)}`).toBe(false);
      }
      expectNoCrash(h);
      await expectReleased(h, show(bytes));
    }), params(RUNS, true));
  }, TIMEOUT);

  it('afterwards: no crash, sockets back to baseline, nothing in flight, and a normal request still works', async () => {
    await expectHealthy(h);
  }, 60_000);
});
