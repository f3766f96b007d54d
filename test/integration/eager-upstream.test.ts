/**
 * The upstream connection of an intercepted CONNECT is dialled while the client's TLS
 * handshake runs (mitmproxy's "eager" strategy): the first request to a new host then
 * waits for one handshake, not two in a row.
 */
import { connect as tlsConnect } from 'node:tls';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, parseConnectTo } from '../../src/config.js';
import { UpstreamPools } from '../../src/proxy/upstream.js';
import { eventually } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { connectThrough } from '../helpers/raw-client.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

let fake: FakeProvider;
let tp: TestProxy;
const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { intercept: ['*.bench.test', 'api.openai.com'], connectTo: [parseConnectTo(`::127.0.0.1:${fake.port}`)] });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

function pools(spareTtlMs: number): UpstreamPools {
  return new UpstreamPools({
    connectTo: [parseConnectTo(`::127.0.0.1:${fake.port}`)], extraCaFiles: [fake.caFile],
    connectTimeoutMs: 5000, headersTimeoutMs: 5000, idleTimeoutMs: 5000, spareTtlMs,
    targetPolicy: () => ({ gateway: false, allowHosts: [], allowedPorts: undefined, ownPort: 0 }),
  });
}

describe('eager upstream connection', () => {
  it('warm() dials one connection that the first request then uses; no second dial', async () => {
    const up = pools(10_000);
    try {
      const before = fake.connections.accepted;
      up.warm('warm1.bench.test', 443);
      up.warm('warm1.bench.test', 443); // one spare per origin
      await eventually(() => expect(fake.connections.accepted - before).toBe(1));
      const res = await up.get(true, 'warm1.bench.test', 443).request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: chat });
      expect(res.statusCode).toBe(200);
      await res.body.text();
      expect(fake.connections.accepted - before).toBe(1);
      expect(fake.seen.at(-1)!.servername).toBe('warm1.bench.test'); // SNI is the origin's name, as without warming
    } finally {
      await up.close();
    }
  });

  it('a request arriving while the spare is still being dialled waits for it instead of dialling again', async () => {
    const up = pools(10_000);
    try {
      const before = fake.connections.accepted;
      up.warm('warm2.bench.test', 443);
      const res = await up.get(true, 'warm2.bench.test', 443).request({ method: 'POST', path: '/v1/chat/completions', body: chat });
      expect(res.statusCode).toBe(200);
      await res.body.text();
      expect(fake.connections.accepted - before).toBe(1);
    } finally {
      await up.close();
    }
  });

  it('an unused spare is closed after its time; an origin with an idle connection gets none', async () => {
    const up = pools(300);
    try {
      const before = fake.connections.accepted;
      up.warm('warm3.bench.test', 443);
      await eventually(() => expect(fake.connections.accepted - before).toBe(1));
      const openWithSpare = fake.connections.open;
      await eventually(() => expect(fake.connections.open).toBe(openWithSpare - 1), 3000);

      const pool = up.get(true, 'warm3.bench.test', 443);
      const res = await pool.request({ method: 'POST', path: '/v1/chat/completions', body: chat });
      await res.body.text();
      await eventually(() => expect(pool.stats.free).toBe(1));
      const after = fake.connections.accepted;
      up.warm('warm3.bench.test', 443); // the kept-alive connection is free: nothing to dial
      await new Promise((r) => setTimeout(r, 100));
      expect(fake.connections.accepted).toBe(after);
    } finally {
      await up.close();
    }
  });

  it('through the proxy: the upstream connection is open once the client handshake is done, before any request', async () => {
    const before = fake.connections.accepted;
    const socket = await connectThrough(tp.proxy.address.port, 'eager.bench.test:443');
    const tls = tlsConnect({ socket, servername: 'eager.bench.test', ca: tp.caPem, ALPNProtocols: ['http/1.1'] });
    await new Promise<void>((resolve, reject) => tls.once('secureConnect', resolve).once('error', reject));
    await eventually(() => expect(fake.connections.accepted - before).toBe(1));
    tls.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: eager.bench.test\r\nContent-Type: application/json\r\nContent-Length: ${chat.length}\r\n\r\n${chat}`);
    const head = await new Promise<string>((resolve) => tls.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(fake.connections.accepted - before).toBe(1);
    tls.destroy();
  });

  it('through the proxy: 60 new hosts in a row each answer (fresh client connection per host)', async () => {
    for (let i = 0; i < 60; i++) {
      const agent = new ProxyAgent({ uri: tp.url, requestTls: { ca: tp.caPem } });
      try {
        const res = await request(`https://n${i}.bench.test/v1/chat/completions`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: chat, headersTimeout: 5000 });
        expect(res.statusCode).toBe(200);
        await res.body.text();
      } finally {
        await agent.close();
      }
    }
  });

  it('an unreachable upstream still gets the client its 502 (the failed spare is not reused)', async () => {
    const dead = await startTestProxy(undefined, { intercept: ['dead.bench.test'], connectTo: [parseConnectTo('dead.bench.test:443:127.0.0.1:1')], upstreamConnectTimeoutMs: DEFAULTS.upstreamConnectTimeoutMs });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await request('https://dead.bench.test/v1/chat/completions', { method: 'POST', dispatcher: dead.agent, body: chat });
        expect(res.statusCode).toBe(502);
        expect(res.headers['x-llmtap-error']).toBe('upstream_unreachable');
        await res.body.text();
      }
    } finally {
      await dead.close();
    }
  });
});
