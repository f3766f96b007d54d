/**
 * Fault list #2: destinations the proxy must refuse — loopback, link-local and cloud
 * metadata, the proxy's own port, and in gateway mode private ranges and ports other
 * than 443 — answered 403 forbidden_target before any outbound connection is tried.
 *
 * "No connection" is proven two ways: a counting server on 127.0.0.1 sees nothing,
 * and every outbound socket Node creates (diagnostics channel `net.client.socket`)
 * is watched for a connection attempt. Test clients use `new Socket().connect()`,
 * which that channel does not report, so whatever it sees is the proxy's.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProxyConfig } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { rawExchange, type Answer } from './security-helpers.js';

const connectLine = (authority: string, extra = ''): string => `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extra}\r\n`;
const BASIC_UP = `Proxy-Authorization: Basic ${Buffer.from('u:p').toString('base64')}\r\n`;

/** Every connection attempt (address, port) and lookup made by sockets from net.connect(). */
const attempts: Array<{ address: string; port: number }> = [];
const lookups: string[] = [];
const onClientSocket = (message: unknown): void => {
  const { socket } = message as { socket: Socket };
  socket.on('connectionAttempt', (address: string, port: number) => attempts.push({ address, port }));
  socket.on('lookup', (_err: Error | null, address: string) => lookups.push(address));
};

let counting: Server;
let countPort = 0;
let hits = 0;
let home: string;
let fake: FakeProvider;
let tp: TestProxy;
const extra: TestProxy[] = [];

async function another(overrides: Partial<ProxyConfig>): Promise<TestProxy> {
  const p = await startTestProxy(undefined, { home, ...overrides });
  extra.push(p);
  return p;
}

function expectRefused(a: Answer, what: string): void {
  expect(a.status, what).toBe(403);
  expect(a.headers['x-llmtap-error'], what).toBe('forbidden_target');
  expect(a.closed, `${what}: connection closed`).toBe(true);
}

beforeAll(async () => {
  subscribe('net.client.socket', onClientSocket);
  counting = createServer((s) => {
    hits++;
    s.destroy();
  });
  await new Promise<void>((r) => counting.listen(0, '127.0.0.1', r));
  countPort = (counting.address() as { port: number }).port;
  home = mkdtempSync(join(tmpdir(), 'llmtap-targets-'));
  fake = await startFakeProvider({ tls: false });
  tp = await startTestProxy(undefined, { home });
});
beforeEach(() => {
  attempts.length = 0;
  lookups.length = 0;
  hits = 0;
});
afterAll(async () => {
  unsubscribe('net.client.socket', onClientSocket);
  for (const p of extra) await p.close();
  await tp?.close();
  await fake?.close();
  await new Promise((r) => counting?.close(r));
});

describe('local mode (listening on 127.0.0.1)', () => {
  it('FAULT 2: CONNECT to 127.0.0.0/8, ::1, localhost and *.localhost → 403, refused before connecting', async () => {
    const port = tp.proxy.address.port;
    for (const target of ['127.0.0.1', '127.0.0.2', '127.255.255.254', '[::1]', '[::ffff:127.0.0.1]', '0.0.0.0', 'localhost', 'LOCALHOST', 'foo.localhost', 'localhost.']) {
      const a = await rawExchange(port, connectLine(`${target}:${countPort}`));
      expectRefused(a, target);
      expect(JSON.parse(a.body).error.code).toBe('forbidden_target');
    }
    expect(hits).toBe(0);
    expect(attempts).toEqual([]);
    expect(lookups).toEqual([]); // refused by name and literal, no DNS either
  });

  it('FAULT 2: names that only resolve to loopback (numeric spellings, as DNS rebinding would) are refused at lookup, before connecting', async () => {
    const port = tp.proxy.address.port;
    for (const target of ['2130706433', '127.1', '0x7f000001']) {
      const a = await rawExchange(port, connectLine(`${target}:${countPort}`));
      expectRefused(a, target);
    }
    expect(hits).toBe(0);
    expect(attempts).toEqual([]); // the guarded lookup failed the socket before any connect
    await eventually(() => expect(tp.proxy.server.metrics.tunnelsClosed).toBe(tp.proxy.server.metrics.tunnelsOpened));
  });

  it('FAULT 2: the cloud metadata endpoints (169.254.169.254, fd00:ec2::254, 100.100.100.200) → 403 without a connect, CONNECT and plain HTTP', async () => {
    const port = tp.proxy.address.port;
    const opened = tp.proxy.server.metrics.tunnelsOpened;
    const started = performance.now();
    for (const target of ['169.254.169.254:80', '169.254.169.254:443', '[fd00:ec2::254]:80', '100.100.100.200:80', '[::ffff:a9fe:a9fe]:80', '169.254.170.2:80']) {
      expectRefused(await rawExchange(port, connectLine(target)), target);
    }
    for (const url of ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', 'http://[fd00:ec2::254]/latest/api/token', 'http://[::ffff:169.254.169.254]/']) {
      expectRefused(await rawExchange(port, `GET ${url} HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n`), url);
    }
    expect(performance.now() - started).toBeLessThan(2000); // answered at once, no connect timeout waited for
    expect(attempts).toEqual([]);
    expect(lookups).toEqual([]);
    expect(tp.proxy.server.metrics.tunnelsOpened).toBe(opened); // never reached the tunnel stage
  });

  it('FAULT 2: the proxy\'s own port is refused, even when loopback targets are allowed', async () => {
    const allowing = await another({ allowTargets: ['127.0.0.1', 'localhost', '::1'] });
    for (const p of [tp, allowing]) {
      const own = p.proxy.address.port;
      for (const target of [`127.0.0.1:${own}`, `localhost:${own}`, `[::1]:${own}`]) {
        expectRefused(await rawExchange(own, connectLine(target)), target);
      }
      expectRefused(await rawExchange(own, `GET http://127.0.0.1:${own}/ HTTP/1.1\r\nHost: 127.0.0.1:${own}\r\n\r\n`), 'plain to own port');
      expect(attempts.filter((a) => a.port === own)).toEqual([]);
    }
    // The same allowing proxy does reach an allowed loopback service on another port.
    const ok = await rawExchange(allowing.proxy.address.port, connectLine(`127.0.0.1:${countPort}`));
    expect(ok.status).toBe(200);
    await eventually(() => expect(hits).toBe(1));
  });

  it('FAULT 2: --allow-target exempts exactly the named host (and port)', async () => {
    const allowing = await another({ allowTargets: [`127.0.0.1:${countPort}`] });
    const port = allowing.proxy.address.port;
    expect((await rawExchange(port, connectLine(`127.0.0.1:${countPort}`))).status).toBe(200);
    await eventually(() => expect(hits).toBe(1));
    expect(attempts).toContainEqual({ address: '127.0.0.1', port: countPort });
    expectRefused(await rawExchange(port, connectLine(`127.0.0.1:${countPort + 1 > 65535 ? countPort - 1 : countPort + 1}`)), 'other port');
    expectRefused(await rawExchange(port, connectLine(`localhost:${countPort}`)), 'other name for the same service');
    expect(hits).toBe(1);
  });

  it('FAULT 2: an explicit --intercept of a loopback host:port is wanted (a local model server), plain HTTP recorded', async () => {
    const target = `http://127.0.0.1:${fake.port}/echo`;
    const request = `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${fake.port}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`;
    expectRefused(await rawExchange(tp.proxy.address.port, request), 'not intercepted');
    const seen = fake.seen.length;
    const intercepting = await another({ intercept: [`127.0.0.1:${fake.port}`] });
    const a = await rawExchange(intercepting.proxy.address.port, request);
    expect(a.status).toBe(200);
    expect(fake.seen.length).toBe(seen + 1);
    const rec = await eventually(() => {
      const r = exported(intercepting).find((e) => e.path === '/echo' && e.port === fake.port);
      if (!r) throw new Error('not recorded yet');
      return r;
    });
    expect(rec.host).toBe('127.0.0.1');
  });

  it('FAULT 2: allowPorts restricts CONNECT ports in local mode too', async () => {
    const strict = await another({ allowPorts: [443], allowTargets: ['127.0.0.1'] });
    expectRefused(await rawExchange(strict.proxy.address.port, connectLine(`127.0.0.1:${countPort}`)), 'port not allowed');
    expect(hits).toBe(0);
    expect(attempts).toEqual([]);
  });
});

describe('gateway mode (listening on 0.0.0.0, with proxy auth)', () => {
  let gw: TestProxy;
  beforeAll(async () => {
    gw = await another({ host: '0.0.0.0', auth: [{ user: 'u', password: 'p' }] });
  });

  it('FAULT 2: RFC 1918, CGNAT, unique-local, loopback and metadata → 403 before connecting', async () => {
    const port = gw.proxy.address.port;
    for (const target of ['10.0.0.1:443', '10.255.255.255:443', '172.16.0.1:443', '172.31.1.1:443', '192.168.1.1:443', '100.64.0.1:443', '[fc00::1]:443', '[fd12:3456::1]:443', '[::ffff:10.0.0.1]:443', '127.0.0.1:443', 'localhost:443', '169.254.169.254:443']) {
      expectRefused(await rawExchange(port, connectLine(target, BASIC_UP)), target);
    }
    expect(attempts).toEqual([]);
    expect(lookups).toEqual([]);
  });

  it('FAULT 2: ports other than 443 are refused before any DNS lookup or connect', async () => {
    const port = gw.proxy.address.port;
    for (const target of ['api.example.com:22', 'api.example.com:80', 'api.example.com:8443', 'smtp.example.com:25', `127.0.0.1:${countPort}`]) {
      expectRefused(await rawExchange(port, connectLine(target, BASIC_UP)), target);
    }
    expect(hits).toBe(0);
    expect(attempts).toEqual([]);
    expect(lookups).toEqual([]);
  });

  it('FAULT 2: without credentials the answer is 407, whatever the target', async () => {
    const a = await rawExchange(gw.proxy.address.port, connectLine('169.254.169.254:443'));
    expect(a.status).toBe(407);
    expect(a.headers['x-llmtap-error']).toBe('proxy_auth_required');
    expect(attempts).toEqual([]);
  });

  it('FAULT 2: allowPorts overrides the 443-only rule; allow-target lifts the address rule', async () => {
    const addressOnly = await another({ host: '0.0.0.0', auth: [{ user: 'u', password: 'p' }], allowTargets: ['127.0.0.1'] });
    expectRefused(await rawExchange(addressOnly.proxy.address.port, connectLine(`127.0.0.1:${countPort}`, BASIC_UP)), 'allowed host, port still 443-only');
    expect(hits).toBe(0);
    const both = await another({ host: '0.0.0.0', auth: [{ user: 'u', password: 'p' }], allowTargets: ['127.0.0.1'], allowPorts: [443, countPort] });
    expect((await rawExchange(both.proxy.address.port, connectLine(`127.0.0.1:${countPort}`, BASIC_UP))).status).toBe(200);
    await eventually(() => expect(hits).toBe(1));
  });
});
