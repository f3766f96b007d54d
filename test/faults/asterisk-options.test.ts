/**
 * `OPTIONS *` (asterisk-form, RFC 9112 §3.2.4) asks a server about itself. Inside an
 * intercepted tunnel it is a request to the origin: forwarded upstream as sent (the
 * request line byte for byte) and its answer passed back, its Host checked like any
 * other request's. Sent to the proxy itself (plain HTTP, no tunnel) it is answered by
 * the proxy as a server: 200 with the methods it serves in `Allow`. Raw sockets.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { fakeBehindProxy } from '../helpers/fake-behind-proxy.js';
import { startTestProxy } from '../helpers/start-proxy.js';
import { exchangeUntilClose, interceptedSocket, plainSocketTo } from '../helpers/raw-client.js';
import { startRawUpstream } from '../helpers/raw-upstream.js';

const env = fakeBehindProxy();

const intercepted = (): Promise<Socket> => interceptedSocket(env.tp.proxy.address.port, env.tp.caPem);

describe('OPTIONS * (asterisk-form)', () => {
  it('inside an intercepted tunnel: forwarded upstream as OPTIONS *, the origin\'s answer passed back', async () => {
    const answer = await exchangeUntilClose(await intercepted(), 'OPTIONS * HTTP/1.1\r\nHost: api.openai.com\r\nX-Probe: 1\r\nConnection: close\r\n\r\n');
    expect(env.fake.seen.map((s) => [s.method, s.url])).toEqual([['OPTIONS', '*']]);
    expect(env.fake.seen[0]!.rawHeaders).toContain('X-Probe');
    expect(answer.raw).toMatch(/^HTTP\/1\.1 404 /); // the env.fake provider's own answer
    expect(answer.raw.toLowerCase()).not.toContain('x-llmtap-error');
  });

  it('inside a tunnel to an unreachable upstream: 502 upstream_unreachable, as for any request', async () => {
    const dead = await startTestProxy(undefined, { connectTo: [parseConnectTo('api.openai.com:443:127.0.0.1:1')] });
    try {
      const answer = await exchangeUntilClose(await interceptedSocket(dead.proxy.address.port, dead.caPem), 'OPTIONS * HTTP/1.1\r\nHost: api.openai.com\r\nConnection: close\r\n\r\n');
      expect(answer.raw).toMatch(/^HTTP\/1\.1 502 /);
      expect(answer.raw.toLowerCase()).toContain('x-llmtap-error: upstream_unreachable');
    } finally {
      await dead.close();
    }
  });

  it('inside a tunnel: the request line reaches the origin byte for byte; an origin silent past --upstream-headers-timeout gets 504 upstream_timeout', async () => {
    const up = await startRawUpstream((req) => (req.head.includes('X-Silent') ? [10_000, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'] : ['HTTP/1.1 204 No Content\r\nAllow: GET, POST\r\n\r\n']), { tls: true });
    const quick = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${up.port}`)], upstreamCa: [up.caFile!], upstreamHeadersTimeoutMs: 500 });
    try {
      const socket = (): Promise<Socket> => interceptedSocket(quick.proxy.address.port, quick.caPem);
      const answered = await exchangeUntilClose(await socket(), 'OPTIONS * HTTP/1.1\r\nHost: api.openai.com\r\nConnection: close\r\n\r\n');
      expect(answered.raw).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
      expect(answered.raw).toContain('Allow: GET, POST');
      expect(up.seen[0]!.head.split('\r\n')[0]).toBe('OPTIONS * HTTP/1.1');
      const silent = await exchangeUntilClose(await socket(), 'OPTIONS * HTTP/1.1\r\nHost: api.openai.com\r\nX-Silent: 1\r\nConnection: close\r\n\r\n');
      expect(silent.raw).toMatch(/^HTTP\/1\.1 504 /);
      expect(silent.raw.toLowerCase()).toContain('x-llmtap-error: upstream_timeout');
    } finally {
      await quick.close();
      await up.close();
    }
  });

  it('inside a tunnel under route and fallback rules: the origin the client addressed answers (a server probe names no model to route)', async () => {
    const up = await startRawUpstream(() => ['HTTP/1.1 204 No Content\r\nAllow: GET, POST\r\n\r\n'], { tls: true });
    const policy = loadPolicyText([
      'rules:',
      '  - {id: elsewhere, match: {host: api.openai.com}, route: {upstream: "https://127.0.0.1:1"}}',
      '  - {id: backup, match: {provider: openai}, fallback: {upstreams: ["https://127.0.0.1:2"]}}',
    ].join('\n') + '\n', 'p.yaml');
    const routed = await startTestProxy(undefined, { policy, connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${up.port}`)], upstreamCa: [up.caFile!] });
    try {
      const answer = await exchangeUntilClose(await interceptedSocket(routed.proxy.address.port, routed.caPem), 'OPTIONS * HTTP/1.1\r\nHost: api.openai.com\r\nConnection: close\r\n\r\n');
      expect(answer.raw).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
      expect(up.seen[0]!.head.split('\r\n')[0]).toBe('OPTIONS * HTTP/1.1');
    } finally {
      await routed.close();
      await up.close();
    }
  });

  it('inside a tunnel with a Host naming another server: 400 target_mismatch, nothing forwarded', async () => {
    const answer = await exchangeUntilClose(await intercepted(), 'OPTIONS * HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n');
    expect(answer.raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.raw.toLowerCase()).toContain('x-llmtap-error: target_mismatch');
    expect(env.fake.seen).toEqual([]);
  });

  it('to the proxy itself: 200 with Allow; another method with * is a bad request', async () => {
    const options = await exchangeUntilClose(await plainSocketTo(env.tp.proxy.address.port), 'OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(options.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(options.raw.toLowerCase()).toMatch(/\r\nallow: get, head, post, options, connect\r\n/);
    expect(options.raw.toLowerCase()).toContain('content-length: 0');
    const get = await exchangeUntilClose(await plainSocketTo(env.tp.proxy.address.port), 'GET * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(get.raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(env.fake.seen).toEqual([]);
  });
});
