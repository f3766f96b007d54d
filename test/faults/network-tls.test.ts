/**
 * Fault list, network side (TLS and CONNECT): #1 tunnel for hosts off the list,
 * #6 bad upstream certificates, #7 ClientHello without SNI, #8 IP-literal CONNECT
 * targets, #9 ALPN offers, #10 plain text or garbage after CONNECT.
 * Real loopback sockets only; the fake provider stands in for every upstream.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkServerIdentity, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported, exportedTunnels } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider, type FakeProviderOptions } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { captureClientHello, closedWithin, headerIn, openSocket, readAll, readResponse, sendConnect, tlsOver, tunnelTo, waitFor } from './network-helpers.js';

const DAY_MS = 24 * 60 * 60 * 1000;

let fake: FakeProvider;
let fakeCa: string;
/** Intercepts the provider hosts and the FAULT 6 hosts; tunnels tunnel.test. */
let tp: TestProxy;
/** Intercepts the IP literals 1.2.3.4 and ::1 (FAULT 8). */
let ipProxy: TestProxy;
const extraFakes: FakeProvider[] = [];

/** FAULT 6: one upstream per kind of bad certificate, each behind its own host name. */
// Each one fails verification for exactly one reason: the others are signed by the CA the proxy trusts.
const BAD_UPSTREAMS: Array<{ name: string; host: string; options: FakeProviderOptions; ownCa?: true }> = [
  { name: 'signed by an unknown CA', host: 'unknown-ca.fault6.test', options: {}, ownCa: true },
  { name: 'self-signed', host: 'self-signed.fault6.test', options: { selfSigned: 'leaf', hosts: ['self-signed.fault6.test'] } },
  { name: 'a CA certificate served as the server certificate', host: 'ca-as-leaf.fault6.test', options: { selfSigned: 'ca' } },
  { name: 'expired (trusted CA)', host: 'expired.fault6.test', options: { certNow: () => Date.now() - 400 * DAY_MS } },
  { name: 'for another host (trusted CA)', host: 'wrong-host.fault6.test', options: { certHost: 'other.example' } },
];
const badFakes = new Map<string, FakeProvider>();
let ipv4Fake: FakeProvider;
let ipv6Fake: FakeProvider;

async function extraFake(options: FakeProviderOptions): Promise<FakeProvider> {
  const f = await startFakeProvider(options);
  extraFakes.push(f);
  return f;
}

beforeAll(async () => {
  fake = await startFakeProvider();
  fakeCa = readFileSync(fake.caFile, 'utf8');
  for (const bad of BAD_UPSTREAMS) badFakes.set(bad.host, await extraFake(bad.ownCa ? bad.options : { ca: fake.ca, ...bad.options }));
  tp = await startTestProxy(fake, {
    intercept: ['*.fault6.test'],
    connectTo: [
      ...['api.openai.com', 'api.anthropic.com', 'tunnel.test'].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)),
      ...BAD_UPSTREAMS.map((b) => parseConnectTo(`${b.host}:443:127.0.0.1:${badFakes.get(b.host)!.port}`)),
    ],
  });
  ipv4Fake = await extraFake({ ca: fake.ca, hosts: ['1.2.3.4'] });
  ipv6Fake = await extraFake({ ca: fake.ca, hosts: ['::1'] });
  ipProxy = await startTestProxy(fake, {
    intercept: ['1.2.3.4', '::1'],
    connectTo: [parseConnectTo(`1.2.3.4:443:127.0.0.1:${ipv4Fake.port}`), parseConnectTo(`[::1]:443:127.0.0.1:${ipv6Fake.port}`)],
  });
});
afterAll(async () => {
  await tp?.close();
  await ipProxy?.close();
  for (const f of extraFakes) await f.close();
  await fake?.close();
});

/** A keep-alive request over a TLS connection; the response is read by its framing, the connection stays open. */
async function get(tls: TLSSocket, path: string, host: string, extra = ''): Promise<{ status: number; head: string; body: Buffer }> {
  const reading = readResponse(tls);
  tls.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`);
  return reading;
}

async function interceptedTls(proxy: TestProxy, authority: string, host: string, servername = host): Promise<TLSSocket> {
  const { socket } = await tunnelTo(proxy.proxy.address.port, authority);
  return tlsOver(socket, { host, servername, ca: proxy.caPem, ALPNProtocols: ['http/1.1'] });
}

describe('FAULT 1: CONNECT to a host off the intercept list', () => {
  it('FAULT 1: bytes are tunnelled untouched, the client sees the origin certificate, only a tunnel record is kept with exact byte counts', async () => {
    const exchangesBefore = exported(tp).length;
    const mintsBefore = tp.proxy.leafs.stats().mints;
    const reply = await tunnelTo(tp.proxy.address.port, 'tunnel.test:443');
    const started = Date.now();
    const tls = await tlsOver(reply.socket, { host: 'tunnel.test', servername: 'tunnel.test', ca: fakeCa, ALPNProtocols: ['http/1.1'] });
    expect(tls.authorized).toBe(true);
    const peer = new X509Certificate(tls.getPeerX509Certificate()!.raw);
    expect(peer.checkIssued(new X509Certificate(fakeCa))).toBe(true);
    expect(peer.checkIssued(new X509Certificate(tp.caPem))).toBe(false);

    const first = await get(tls, '/status/404', 'tunnel.test');
    expect(first.status).toBe(404);
    const second = await get(tls, '/echo', 'tunnel.test', 'X-Tunnel-Probe: 1\r\n');
    expect(second.status).toBe(200);
    // The origin got exactly what the client wrote (the tunnel does not rewrite headers).
    expect(JSON.parse(second.body.toString()).rawHeaders).toEqual(['Host', 'tunnel.test', 'X-Tunnel-Probe', '1']);
    tls.end();
    await closedWithin(reply.socket, 5000);
    const sentUp = reply.socket.bytesWritten - reply.requestBytes;
    const gotDown = reply.socket.bytesRead - reply.replyBytes;

    const rec = await eventually(() => {
      const t = exportedTunnels(tp).find((r) => r.host === 'tunnel.test');
      if (!t) throw new Error('no tunnel record yet');
      return t;
    });
    expect(rec.port).toBe(443);
    expect(rec.outcome).toBe('closed');
    expect(rec.bytes_up).toBe(sentUp);
    expect(rec.bytes_down).toBe(gotDown);
    expect(Number(rec.duration_ms)).toBeGreaterThanOrEqual(0);
    expect(Number(rec.duration_ms)).toBeLessThanOrEqual(Date.now() - started + 50);
    // Nothing decrypted, nothing recorded as an exchange, no certificate minted.
    expect(exported(tp).length).toBe(exchangesBefore);
    expect(tp.proxy.leafs.stats().mints).toBe(mintsBefore);
  });
});

describe('FAULT 6: the upstream certificate does not verify', () => {
  for (const bad of BAD_UPSTREAMS) {
    it(`FAULT 6: ${bad.name} → 502 upstream_tls, nothing forwarded`, async () => {
      const upstream = badFakes.get(bad.host)!;
      const tls = await interceptedTls(tp, `${bad.host}:443`, bad.host);
      const res = await get(tls, '/v1/models', bad.host, `X-Test-Id: fault6-${bad.host}\r\n`);
      expect(res.status).toBe(502);
      expect(headerIn(res.head, 'x-llmtap-error')).toBe('upstream_tls');
      expect(JSON.parse(res.body.toString()).error.code).toBe('upstream_tls');
      tls.destroy();
      // The handshake failed, so not a single request byte reached the bad upstream.
      expect(upstream.seen).toHaveLength(0);
      const rec = await eventually(() => {
        const r = exported(tp).find((e) => e.request.headers['x-test-id'] === `fault6-${bad.host}`);
        if (!r) throw new Error('not yet');
        return r;
      });
      expect(rec.outcome).toBe('upstream_error');
      expect(rec.error_code).toBe('upstream_tls');
    });
  }

  it('FAULT 6: the same proxy reaches a good upstream with the same CA (control)', async () => {
    const tls = await interceptedTls(tp, 'api.openai.com:443', 'api.openai.com');
    expect((await get(tls, '/status/404', 'api.openai.com')).status).toBe(404);
    tls.destroy();
  });
});

describe('FAULT 7: ClientHello without SNI', () => {
  it('FAULT 7: the CONNECT host names the leaf and the upstream check; the provider sees SNI = CONNECT host', async () => {
    const hello = await captureClientHello({ host: 'api.openai.com', servername: '' });
    expect(hello.includes(Buffer.from('api.openai.com'))).toBe(false); // really no SNI on the wire
    fake.seen.length = 0;
    const { socket } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
    // servername '' sends no SNI; Node still checks the certificate against `host`.
    let checkedFor: string | undefined;
    const tls = await tlsOver(socket, {
      host: 'api.openai.com', servername: '', ca: tp.caPem, ALPNProtocols: ['http/1.1'],
      checkServerIdentity: (name, cert) => {
        checkedFor = name;
        return checkServerIdentity(name, cert);
      },
    });
    expect(checkedFor).toBe('api.openai.com');
    expect(tls.authorized).toBe(true);
    const leaf = tls.getPeerX509Certificate()!;
    expect(leaf.subjectAltName).toBe('DNS:api.openai.com');
    expect(leaf.checkIssued(new X509Certificate(tp.caPem))).toBe(true);
    const res = await get(tls, '/echo', 'api.openai.com', 'X-Test-Id: fault7\r\n');
    expect(res.status).toBe(200);
    tls.destroy();
    const seen = fake.seen.find((r) => r.rawHeaders.includes('fault7'));
    expect(seen?.servername).toBe('api.openai.com');
  });
});

describe('FAULT 8: CONNECT to IP literals', () => {
  it('FAULT 8: CONNECT 1.2.3.4:443 (listed) is intercepted with an IP-SAN leaf and reaches the provider', async () => {
    const { socket } = await tunnelTo(ipProxy.proxy.address.port, '1.2.3.4:443');
    // An IP is never sent as SNI (RFC 6066); Node checks the IP SAN against `host`.
    const tls = await tlsOver(socket, { host: '1.2.3.4', servername: '', ca: ipProxy.caPem, ALPNProtocols: ['http/1.1'] });
    expect(tls.authorized).toBe(true);
    expect(tls.getPeerX509Certificate()!.subjectAltName).toBe('IP Address:1.2.3.4');
    const res = await get(tls, '/echo', '1.2.3.4', 'X-Test-Id: fault8-v4\r\n');
    expect(res.status).toBe(200);
    tls.destroy();
    // Upstream: verified against 1.2.3.4 (the fake's certificate has that IP SAN), no IP in SNI.
    expect(ipv4Fake.seen).toHaveLength(1);
    expect(ipv4Fake.seen[0]!.servername).toBe(false);
    const rec = await eventually(() => {
      const r = exported(ipProxy).find((e) => e.request.headers['x-test-id'] === 'fault8-v4');
      if (!r) throw new Error('not yet');
      return r;
    });
    expect(rec.host).toBe('1.2.3.4');
    expect(rec.port).toBe(443);
    expect(rec.outcome).toBe('completed');
  });

  it('FAULT 8: CONNECT [::1]:443 is refused by default (loopback), and intercepted with an IP-SAN ::1 leaf when listed', async () => {
    const refused = await sendConnect(tp.proxy.address.port, '[::1]:443');
    expect(refused.status).toMatch(/^HTTP\/1\.1 403/);
    expect(headerIn(refused.head, 'x-llmtap-error')).toBe('forbidden_target');
    await closedWithin(refused.socket, 2000);

    const { socket } = await tunnelTo(ipProxy.proxy.address.port, '[::1]:443');
    const tls = await tlsOver(socket, { host: '::1', servername: '', ca: ipProxy.caPem, ALPNProtocols: ['http/1.1'] });
    expect(tls.authorized).toBe(true);
    expect(tls.getPeerX509Certificate()!.subjectAltName).toBe('IP Address:0:0:0:0:0:0:0:1');
    const res = await get(tls, '/echo', '[::1]', 'X-Test-Id: fault8-v6\r\n');
    expect(res.status).toBe(200);
    tls.destroy();
    expect(ipv6Fake.seen[0]?.servername).toBe(false);
    const rec = await eventually(() => {
      const r = exported(ipProxy).find((e) => e.request.headers['x-test-id'] === 'fault8-v6');
      if (!r) throw new Error('not yet');
      return r;
    });
    expect(rec.host).toBe('::1');
  });

  it('FAULT 8: an IP host with a certificate for another IP is refused upstream (the IP SAN is really checked)', async () => {
    // 1.2.3.4 routed to the ::1 fake, whose certificate names ::1 only.
    const wrong = await startTestProxy(fake, { intercept: ['1.2.3.4'], connectTo: [parseConnectTo(`1.2.3.4:443:127.0.0.1:${ipv6Fake.port}`)] });
    try {
      const { socket } = await tunnelTo(wrong.proxy.address.port, '1.2.3.4:443');
      const tls = await tlsOver(socket, { host: '1.2.3.4', servername: '', ca: wrong.caPem, ALPNProtocols: ['http/1.1'] });
      const res = await get(tls, '/echo', '1.2.3.4');
      expect(res.status).toBe(502);
      expect(headerIn(res.head, 'x-llmtap-error')).toBe('upstream_tls');
      tls.destroy();
    } finally {
      await wrong.close();
    }
  });

  it('FAULT 8: malformed IP authorities are a 400, not a guess', async () => {
    for (const bad of ['::1:443', '[::1]', '[1.2.3.4]:443', '1.2.3.4:99999', '[::g]:443']) {
      const reply = await sendConnect(tp.proxy.address.port, bad);
      expect(reply.status, bad).toMatch(/^HTTP\/1\.1 400/);
      await closedWithin(reply.socket, 2000);
    }
  });
});

describe('FAULT 9: ALPN offers', () => {
  // The proxy speaks HTTP/1.1 only. An offer it can serve is agreed; an offer without
  // http/1.1 gets TLS's fatal no_application_protocol alert at once (RFC 7301 3.2).
  const offers: Array<{ name: string; alpn?: string[]; agreed: string | false | 'refused' }> = [
    { name: 'only http/1.1', alpn: ['http/1.1'], agreed: 'http/1.1' },
    { name: 'h2 and http/1.1', alpn: ['h2', 'http/1.1'], agreed: 'http/1.1' },
    { name: 'nothing', alpn: undefined, agreed: false },
    { name: 'only h2', alpn: ['h2'], agreed: 'refused' },
    { name: 'only an unknown protocol', alpn: ['foo/9'], agreed: 'refused' },
  ];
  for (const offer of offers) {
    it(`FAULT 9: ${offer.name} → ${offer.agreed === 'refused' ? 'immediate no_application_protocol alert' : `agreed ${String(offer.agreed)}`}, within 1 s`, async () => {
      const started = Date.now();
      const { socket } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
      const result = await tlsOver(socket, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem, ...(offer.alpn ? { ALPNProtocols: offer.alpn } : {}) })
        .then((tls) => ({ tls }), (err: NodeJS.ErrnoException) => ({ err }));
      if (offer.agreed === 'refused') {
        expect('err' in result && result.err.code).toBe('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
        await closedWithin(socket, 1000);
      } else {
        expect('tls' in result).toBe(true);
        const tls = (result as { tls: TLSSocket }).tls;
        expect(tls.alpnProtocol).toBe(offer.agreed);
        expect((await get(tls, '/status/404', 'api.openai.com')).status).toBe(404);
        tls.destroy();
      }
      expect(Date.now() - started).toBeLessThan(1000);
    });
  }
});

describe('FAULT 10: plain text or garbage after CONNECT to an intercepted host', () => {
  const payloads: Array<[string, Buffer]> = [
    ['plain HTTP', Buffer.from('GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\n\r\n')],
    ['random bytes', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256))],
    ['a TLS record header with junk', Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x02]), Buffer.alloc(80, 0x41)])],
    ['an SSLv2-style hello', Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10])],
  ];
  for (const [name, bytes] of payloads) {
    it(`FAULT 10: ${name} → clean close, notTls counted, proxy alive`, async () => {
      const before = tp.proxy.server.metrics.notTls;
      const { socket } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
      let reset = false;
      socket.on('error', () => { reset = true; });
      socket.write(bytes);
      const rest = await readAll(socket, 2000);
      expect(rest.length).toBe(0); // nothing sent back: no TLS alert, no HTTP answer
      expect(reset).toBe(false); // a FIN, not a reset
      expect(await waitFor(() => tp.proxy.server.metrics.notTls === before + 1, 1000)).toBe(true);
      const tls = await interceptedTls(tp, 'api.openai.com:443', 'api.openai.com');
      expect((await get(tls, '/status/404', 'api.openai.com')).status).toBe(404);
      tls.destroy();
    });
  }

  it('FAULT 10: garbage in the same packet as the CONNECT head → 200, then a clean close, notTls counted', async () => {
    const before = tp.proxy.server.metrics.notTls;
    const socket = await openSocket(tp.proxy.address.port);
    socket.write('CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\nHELLO? this is not TLS\r\n');
    const all = (await readAll(socket, 2000)).toString('latin1');
    expect(all).toBe('HTTP/1.1 200 Connection Established\r\n\r\n');
    expect(await waitFor(() => tp.proxy.server.metrics.notTls === before + 1, 1000)).toBe(true);
  });
});
