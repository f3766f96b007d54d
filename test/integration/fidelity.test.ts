import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { connectThrough, exchangeRaw, parseResponse, startTls, type ParsedResponse } from '../helpers/raw-client.js';
import { eventually, exported, exportedTunnels } from '../helpers/archive.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { parseConnectTo } from '../../src/config.js';

let fake: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, {
    // tunnel.test is not on the intercept list: it must be tunnelled to the same fake origin.
    connectTo: ['api.openai.com', 'api.anthropic.com', 'tunnel.test'].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)),
  });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date']);

/** The same request bytes, sent straight to the provider and through llmtap. */
async function directAndProxied(request: string, host = 'api.openai.com'): Promise<{ direct: ParsedResponse; proxied: ParsedResponse }> {
  const direct = await startTls(undefined, { host: '127.0.0.1', port: fake.port, servername: host, ca: readFileSync(fake.caFile, 'utf8') });
  const directRaw = await exchangeRaw(direct, request);
  const tunnel = await connectThrough(tp.proxy.address.port, `${host}:443`);
  const proxiedTls = await startTls(tunnel, { host, servername: host, ca: tp.caPem });
  const proxiedRaw = await exchangeRaw(proxiedTls, request);
  return { direct: parseResponse(directRaw), proxied: parseResponse(proxiedRaw) };
}

function endToEnd(headers: Array<[string, string]>): Array<[string, string]> {
  return headers.filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()));
}

function requestBytes(path: string, body: string, extra = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nX-Test-Case: Mixed-Case-Value\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

describe('wire fidelity', () => {
  it('response status, headers (case, order, repeats) and body bytes match a direct call', async () => {
    for (const body of ['{"model":"gpt-4o-mini","messages":[]}', '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}']) {
      const { direct, proxied } = await directAndProxied(requestBytes('/v1/chat/completions', body));
      expect(proxied.status).toBe(direct.status);
      expect(endToEnd(proxied.headers)).toEqual(endToEnd(direct.headers));
      expect(proxied.body.equals(direct.body)).toBe(true);
      // content-length passes through when the provider sent one
      expect(proxied.headers.some(([n]) => n === 'content-length')).toBe(direct.headers.some(([n]) => n === 'content-length'));
    }
  });

  it('gzip bodies pass through byte for byte', async () => {
    const { direct, proxied } = await directAndProxied('GET /gzip HTTP/1.1\r\nHost: api.openai.com\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n');
    expect(endToEnd(proxied.headers)).toEqual(endToEnd(direct.headers));
    expect(proxied.body.equals(direct.body)).toBe(true);
  });

  it('the provider receives the request the tool sent, less hop-by-hop headers', async () => {
    fake.seen.length = 0;
    const body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"ünïcödé"}]}';
    await directAndProxied(requestBytes('/v1/chat/completions?x=1', body, 'Accept-Encoding: gzip, br\r\nOpenAI-Beta: assistants=v2\r\n'));
    const [direct, proxied] = fake.seen;
    expect(proxied?.url).toBe(direct?.url);
    expect(proxied?.method).toBe('POST');
    expect(proxied?.body.equals(direct!.body)).toBe(true);
    // Same names, values and order. undici (the upstream client) writes the names of
    // Host and Content-Length in lower case; every other name keeps its case.
    const pairs = (raw: string[]) => raw.flatMap((v, i) => (i % 2 === 0 ? [[v, raw[i + 1]!] as [string, string]] : []))
      .filter(([n]) => !HOP_BY_HOP.has(n.toLowerCase()))
      .map(([n, v]) => [/^(host|content-length)$/i.test(n) ? n.toLowerCase() : n, v]);
    expect(pairs(proxied!.rawHeaders)).toEqual(pairs(direct!.rawHeaders));
    expect(proxied!.rawHeaders).toContain('X-Test-Case');
    expect(proxied!.rawHeaders).toContain('OpenAI-Beta');
  });

  it('a chunked request body goes upstream chunked, unchanged', async () => {
    fake.seen.length = 0;
    const body = '{"model":"gpt-4o-mini"}';
    const chunked = `POST /echo HTTP/1.1\r\nHost: api.openai.com\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    await directAndProxied(chunked);
    const [direct, proxied] = fake.seen;
    expect(proxied?.body.toString()).toBe(body);
    const te = (raw: string[]) => raw.find((_, i) => i % 2 === 0 && raw[i]!.toLowerCase() === 'transfer-encoding');
    expect(te(proxied!.rawHeaders)).toBeDefined();
    expect(proxied?.rawHeaders.some((h) => h.toLowerCase() === 'content-length')).toBe(direct?.rawHeaders.some((h) => h.toLowerCase() === 'content-length'));
  });
});

describe('failure passthrough', () => {
  it('provider 4xx and 5xx reach the client untouched and are recorded', async () => {
    for (const status of [400, 401, 404, 429, 500, 529]) {
      const { direct, proxied } = await directAndProxied(`GET /status/${status} HTTP/1.1\r\nHost: api.openai.com\r\nX-Test-Id: status-${status}\r\nConnection: close\r\n\r\n`);
      expect(proxied.status).toBe(direct.status);
      expect(endToEnd(proxied.headers)).toEqual(endToEnd(direct.headers));
      expect(proxied.body.equals(direct.body)).toBe(true);
      expect(proxied.headers.some(([n]) => n.toLowerCase() === 'x-llmtap-error')).toBe(false);
    }
    const recs = await eventually(() => {
      const r = exported(tp).filter((e) => String(e.request.headers['x-test-id'] ?? '').startsWith('status-'));
      if (r.length < 6) throw new Error('not yet');
      return r;
    });
    expect(recs.map((r) => r.status).sort()).toEqual([400, 401, 404, 429, 500, 529]);
    expect(recs.every((r) => r.outcome === 'completed')).toBe(true);
  });

  it('a 304 or 204 that carries a Content-Length has no body (RFC 9112 §6.3): passed on whole, the connection kept', async () => {
    // RFC 9110 §8.6 lets a 304 carry the Content-Length a 200 would have had; the fake sends one on 204 too.
    for (const status of [304, 204]) {
      const { direct, proxied } = await directAndProxied(`GET /status/${status} HTTP/1.1\r\nHost: api.openai.com\r\nX-Test-Id: nobody-${status}\r\nConnection: close\r\n\r\n`);
      expect(direct.headers.some(([n]) => n === 'content-length'), 'the setup sends a Content-Length').toBe(true);
      expect(proxied.status).toBe(direct.status);
      expect(endToEnd(proxied.headers)).toEqual(endToEnd(direct.headers));
      expect(proxied.body.length).toBe(0);
    }
    // The client's connection carries on to the next request, as after any complete answer.
    const tunnel = await connectThrough(tp.proxy.address.port, 'api.openai.com:443');
    const tls = await startTls(tunnel, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem });
    const body = '{"model":"gpt-4o-mini","messages":[]}';
    const raw = (await exchangeRaw(tls, 'GET /status/304 HTTP/1.1\r\nHost: api.openai.com\r\n\r\n'
      + `POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)).toString();
    expect(raw).toMatch(/^HTTP\/1\.1 304 /);
    expect(raw).toMatch(/\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    const recs = await eventually(() => {
      const r = exported(tp).filter((e) => String(e.request.headers['x-test-id'] ?? '').startsWith('nobody-'));
      if (r.length < 2) throw new Error('not yet');
      return r;
    });
    expect(recs.map((r) => [r.status, r.outcome, r.error_code]).sort()).toEqual([[204, 'completed', null], [304, 'completed', null]]);
  });

  it('a 307 to another origin is passed on, never followed', async () => {
    fake.seen.length = 0;
    const { proxied } = await directAndProxied('GET /redirect HTTP/1.1\r\nHost: api.openai.com\r\nConnection: close\r\n\r\n');
    expect(proxied.status).toMatch(/^HTTP\/1.1 307/);
    expect(proxied.headers.find(([n]) => n === 'location')?.[1]).toBe('https://elsewhere.example/v1/chat/completions');
    expect(fake.seen.filter((r) => r.url !== '/redirect')).toHaveLength(0);
  });

  it('an upstream reset mid-stream ends the client connection too and keeps the partial body', async () => {
    const tunnel = await connectThrough(tp.proxy.address.port, 'api.openai.com:443');
    const tls = await startTls(tunnel, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem });
    const raw = await exchangeRaw(tls, 'POST /reset-mid-stream HTTP/1.1\r\nHost: api.openai.com\r\nX-Test-Id: reset\r\nContent-Length: 0\r\n\r\n').catch((e: Error) => e);
    // Either a reset or an EOF without the terminating zero-length chunk: never a clean end.
    if (Buffer.isBuffer(raw)) expect(raw.toString()).not.toMatch(/\r\n0\r\n\r\n$/);
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.headers['x-test-id'] === 'reset');
      if (!r) throw new Error('not yet');
      return r;
    });
    expect(rec.outcome).toBe('upstream_error');
    expect(rec.response?.body).toContain('partial ');
  });
});

describe('tunnel', () => {
  it('a host off the list is tunnelled: the client sees the origin certificate, and only a tunnel record is kept', async () => {
    const before = exported(tp).length;
    const tunnel = await connectThrough(tp.proxy.address.port, 'tunnel.test:443');
    const tls = await startTls(tunnel, { host: 'tunnel.test', servername: 'tunnel.test', ca: readFileSync(fake.caFile, 'utf8') });
    const peer = new X509Certificate(tls.getPeerX509Certificate()!.raw);
    expect(peer.checkIssued(new X509Certificate(readFileSync(fake.caFile)))).toBe(true);
    expect(peer.checkIssued(new X509Certificate(tp.caPem))).toBe(false);
    const raw = await exchangeRaw(tls, 'GET /status/404 HTTP/1.1\r\nHost: tunnel.test\r\nConnection: close\r\n\r\n');
    tls.destroy();
    expect(parseResponse(raw).status).toMatch(/404/);
    const rec = await eventually(() => {
      const t = exportedTunnels(tp).find((r) => r.host === 'tunnel.test');
      if (!t) throw new Error('no tunnel record yet');
      return t;
    });
    expect(rec.port).toBe(443);
    expect(Number(rec.bytes_up)).toBeGreaterThan(100);
    expect(Number(rec.bytes_down)).toBeGreaterThan(raw.length);
    expect(exported(tp).length).toBe(before);
  });

  it('--passthrough wins over the built-in list', async () => {
    const pass = await startTestProxy(fake, { passthrough: ['api.anthropic.com'], connectTo: tp.proxy.server ? [parseConnectTo(`api.anthropic.com:443:127.0.0.1:${fake.port}`)] : [] });
    try {
      const tunnel = await connectThrough(pass.proxy.address.port, 'api.anthropic.com:443');
      const tls = await startTls(tunnel, { host: 'api.anthropic.com', servername: 'api.anthropic.com', ca: readFileSync(fake.caFile, 'utf8') });
      expect(tls.authorized).toBe(true); // the provider's own certificate, not llmtap's
      tls.destroy();
    } finally {
      await pass.close();
    }
  });
});

describe('upstream TLS is verified', () => {
  it('an untrusted upstream certificate gives 502 upstream_tls in the provider error shape', async () => {
    const strict = await startTestProxy(fake, { upstreamCa: [] });
    try {
      const tunnel = await connectThrough(strict.proxy.address.port, 'api.anthropic.com:443');
      const tls = await startTls(tunnel, { host: 'api.anthropic.com', servername: 'api.anthropic.com', ca: strict.caPem });
      const res = parseResponse(await exchangeRaw(tls, 'POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'));
      expect(res.status).toMatch(/^HTTP\/1.1 502/);
      expect(res.headers.find(([n]) => n === 'x-llmtap-error')?.[1]).toBe('upstream_tls');
      const body = JSON.parse(res.body.toString());
      expect(body.type).toBe('error');
      expect(body.error.type).toBe('api_error');
      expect(fake.seen.every((r) => r.url !== '/v1/messages' || r.body.toString() !== '{}')).toBe(true);
    } finally {
      await strict.close();
    }
  });

  it('an unreachable upstream gives 502 upstream_unreachable', async () => {
    const dead = await startTestProxy(undefined, { connectTo: [parseConnectTo('api.openai.com:443:127.0.0.1:1')] });
    try {
      const tunnel = await connectThrough(dead.proxy.address.port, 'api.openai.com:443');
      const tls = await startTls(tunnel, { host: 'api.openai.com', servername: 'api.openai.com', ca: dead.caPem });
      const res = parseResponse(await exchangeRaw(tls, 'GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\nConnection: close\r\n\r\n'));
      expect(res.status).toMatch(/^HTTP\/1.1 502/);
      expect(res.headers.find(([n]) => n === 'x-llmtap-error')?.[1]).toBe('upstream_unreachable');
      expect(JSON.parse(res.body.toString()).error.code).toBe('upstream_unreachable');
      expect(JSON.parse(res.body.toString()).error.message).toContain('api.openai.com:443'); // names the host it could not reach
      expect(res.body.toString()).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/); // no internal error text
    } finally {
      await dead.close();
    }
  });
});
