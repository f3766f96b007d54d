/**
 * FAULT 31, the answer's side: trailer fields an upstream sends after a chunked body, and
 * 1xx interim answers (103 Early Hints, 102 Processing) before the final one, reach the
 * client byte for byte, through intercepted TLS and plain HTTP. Read with raw sockets so
 * the actual bytes are seen, from an upstream that writes exact bytes.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { startRawUpstream, type RawAnswer, type RawRequest, type RawUpstream } from '../helpers/raw-upstream.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { headerIn, openSocket, readAll, tlsOver, tunnelTo } from './network-helpers.js';

const TRAILERS = 'X-Checksum: sha256=abc\r\nx-usage-Tokens: 3\r\n';
const HINTS = 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\nLink: </app.js>; rel=preload; as=script\r\nX-Hint-Id: 7\r\n\r\n';
const COMPLETION = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'four' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } });

/** A chunked answer: the body in two chunks, then the trailer section when there is one. */
function chunked(body: string, trailers: string | undefined, contentType = 'text/plain'): string {
  const half = Math.ceil(body.length / 2);
  const chunks = [body.slice(0, half), body.slice(half)].map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('');
  return `HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nTransfer-Encoding: chunked\r\n${trailers ? 'Trailer: X-Checksum, X-Usage-Tokens\r\n' : ''}\r\n${chunks}0\r\n${trailers ?? ''}\r\n`;
}

function answer(req: RawRequest): RawAnswer {
  if (req.path.endsWith('/trailers')) return [chunked('hello world', TRAILERS)];
  // A HEAD answer may announce the trailers its GET would carry; it has no body to carry them.
  if (req.path.endsWith('/head-trailers')) return ['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n'];
  if (req.path.endsWith('/hints')) return ['HTTP/1.1 102 Processing\r\n\r\n', HINTS, 300, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok'];
  if (req.path === '/v1/chat/completions') return [chunked(COMPLETION, req.body.includes('with trailers') ? TRAILERS : undefined, 'application/json')];
  return ['HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'];
}

const POLICY = 'rules:\n  - {id: det, match: {model: "gpt-4o-mini"}, cache: {ttl: 10m}}\n';
let tlsUp: RawUpstream;
let plainUp: RawUpstream;
let tp: TestProxy;

beforeAll(async () => {
  tlsUp = await startRawUpstream(answer, { tls: true });
  plainUp = await startRawUpstream(answer, { tls: false });
  tp = await startTestProxy(undefined, {
    intercept: ['plain.test:80'],
    connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${tlsUp.port}`), parseConnectTo(`plain.test:80:127.0.0.1:${plainUp.port}`)],
    upstreamCa: [tlsUp.caFile!],
    policy: loadPolicyText(POLICY, 'policy.yaml'),
  });
});
afterAll(async () => {
  await tp?.close();
  await tlsUp?.close();
  await plainUp?.close();
});

type Where = 'intercepted TLS' | 'plain HTTP';

async function socketFor(where: Where): Promise<Socket> {
  if (where === 'plain HTTP') return openSocket(tp.proxy.address.port);
  const { socket } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
  const tls = await tlsOver(socket, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem, ALPNProtocols: ['http/1.1'] });
  tls.on('error', () => {});
  return tls;
}

/** Sends one request (Connection: close) and reads the answer's bytes to the end, each chunk with when it came. */
async function ask(where: Where, method: string, path: string, version = '1.1', body = ''): Promise<{ raw: string; arrivals: Array<{ at: number; text: string }> }> {
  const socket = await socketFor(where);
  const target = where === 'plain HTTP' ? `http://plain.test${path}` : path;
  const host = where === 'plain HTTP' ? 'plain.test' : 'api.openai.com';
  const arrivals: Array<{ at: number; text: string }> = [];
  socket.on('data', (c: Buffer) => arrivals.push({ at: performance.now(), text: c.toString('latin1') }));
  const reading = readAll(socket);
  const framing = body ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` : '';
  socket.write(`${method} ${target} HTTP/${version}\r\nHost: ${host}\r\nConnection: close\r\n${framing}\r\n${body}`);
  return { raw: (await reading).toString('latin1'), arrivals };
}

const headOf = (raw: string): string => raw.slice(0, raw.indexOf('\r\n\r\n'));

describe('FAULT 31: trailer fields of a chunked answer are forwarded, never dropped', () => {
  it.each<Where>(['intercepted TLS', 'plain HTTP'])('%s: the Trailer header and the trailer section after the last chunk reach the client as sent', async (where) => {
    const { raw } = await ask(where, 'GET', '/trailers');
    const head = headOf(raw);
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(headerIn(head, 'transfer-encoding')).toBe('chunked');
    expect(headerIn(head, 'trailer')).toBe('X-Checksum, X-Usage-Tokens');
    expect(raw.endsWith(`\r\n0\r\n${TRAILERS}\r\n`)).toBe(true);
    expect(raw.slice(raw.indexOf('\r\n\r\n') + 4)).toBe(`6\r\nhello \r\n5\r\nworld\r\n0\r\n${TRAILERS}\r\n`);
  });

  it('a HEAD answer announcing trailers is answered (with no body and no Trailer header), not failed', async () => {
    const { raw } = await ask('intercepted TLS', 'HEAD', '/head-trailers');
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(headerIn(headOf(raw), 'x-llmtap-error')).toBeUndefined();
    expect(raw.endsWith('\r\n\r\n')).toBe(true);
  });

  it('a cache rule does not keep an answer that had trailers (it could not replay them); the same answer without them is kept', async () => {
    const results: Record<string, Array<string | undefined>> = {};
    for (const kind of ['with trailers', 'without']) {
      const before = tlsUp.seen.length;
      const body = JSON.stringify({ model: 'gpt-4o-mini', temperature: 0, messages: [{ role: 'user', content: kind }] });
      const answers = [await ask('intercepted TLS', 'POST', '/v1/chat/completions', '1.1', body), await ask('intercepted TLS', 'POST', '/v1/chat/completions', '1.1', body)];
      results[kind] = [...answers.map((a) => headerIn(headOf(a.raw), 'x-llmtap-cache')), String(tlsUp.seen.length - before)];
      if (kind === 'with trailers') for (const a of answers) expect(a.raw.endsWith(`\r\n0\r\n${TRAILERS}\r\n`)).toBe(true);
    }
    expect(results).toEqual({ 'with trailers': ['miss', 'miss', '2'], without: ['miss', 'hit', '1'] });
  });
});

describe('FAULT 31: 1xx interim answers reach the client before the final one', () => {
  it.each<Where>(['intercepted TLS', 'plain HTTP'])('%s: 102 and 103 Early Hints (both Link lines, in order) arrive as sent, ahead of the 200', async (where) => {
    const { raw, arrivals } = await ask(where, 'GET', '/hints');
    expect(raw.startsWith(`HTTP/1.1 102 Processing\r\n\r\n${HINTS}HTTP/1.1 200 OK\r\n`)).toBe(true);
    expect(raw.endsWith('\r\n\r\nok')).toBe(true);
    // Early: the hints came while the upstream still held its final answer back.
    const hintsAt = arrivals.find((a) => a.text.includes('103 Early Hints'))!.at;
    const finalAt = arrivals.find((a) => a.text.includes('200 OK'))!.at;
    expect(finalAt - hintsAt).toBeGreaterThan(150);
  });

  it('an HTTP/1.0 client gets no 1xx (RFC 9110 §15.2), only the final answer', async () => {
    const { raw } = await ask('plain HTTP', 'GET', '/hints', '1.0');
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw).not.toContain('103');
  });
});
