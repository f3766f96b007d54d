/**
 * RFC 9112 §3.2.2: a request in absolute form (plain-HTTP proxying:
 * `GET http://host/path`) names its target in the URI; a proxy must ignore the Host
 * field it received and send a Host generated from the target. Forwarded as sent, a
 * `Host: other.test` reached plain.test's server, which picks a virtual host by it:
 * llmtap checked, recorded and judged plain.test while the server answered for
 * other.test. Checked for requests (listed and unlisted hosts) and WebSocket upgrades.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket as NetSocket, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

let plainFake: FakeProvider;
/** A plain WebSocket origin that notes the Host each upgrade arrived with. */
let wsOrigin: Server;
const wsHosts: string[] = [];
let tp: TestProxy;

beforeAll(async () => {
  plainFake = await startFakeProvider({ tls: false });
  wsOrigin = createServer();
  const wss = new WebSocketServer({ noServer: true });
  wsOrigin.on('upgrade', (req: IncomingMessage, socket, head) => {
    wsHosts.push(req.headers.host ?? '');
    wss.handleUpgrade(req, socket, head, (ws) => ws.close(1000, 'done'));
  });
  await new Promise<void>((r) => wsOrigin.listen(0, '127.0.0.1', r));
  const wsPort = (wsOrigin.address() as AddressInfo).port;
  tp = await startTestProxy(undefined, {
    intercept: ['plain.test:80', 'ws.test:80'],
    connectTo: [
      parseConnectTo(`plain.test:80:127.0.0.1:${plainFake.port}`),
      parseConnectTo(`unlisted.test:80:127.0.0.1:${plainFake.port}`),
      parseConnectTo(`unlisted.test:8081:127.0.0.1:${plainFake.port}`),
      parseConnectTo(`ws.test:80:127.0.0.1:${wsPort}`),
    ],
  });
});
afterAll(async () => {
  await tp?.close();
  await plainFake?.close();
  await new Promise((r) => wsOrigin?.close(r));
});

/** Sends bytes and reads until the proxy closes, or until `until` has arrived. */
function send(bytes: string, until?: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const s: Socket = new NetSocket();
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(), 3000);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      if (until?.test(Buffer.concat(chunks).toString('latin1'))) s.destroy();
    });
    s.on('error', () => {});
    s.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    s.connect(tp.proxy.address.port, '127.0.0.1', () => s.write(bytes));
  });
}

/** The Host the fake's /echo endpoint received. */
function echoedHost(raw: string): string | undefined {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  const json = body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1);
  const headers = (JSON.parse(json) as { rawHeaders: string[] }).rawHeaders;
  const at = headers.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'host');
  return at < 0 ? undefined : headers[at + 1];
}

describe('an absolute-form request goes upstream with the Host of its target', () => {
  it('a Host naming another server is replaced by the target\'s (listed host: recorded as sent upstream)', async () => {
    const raw = await send('GET http://plain.test/echo?case=other HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(echoedHost(raw)).toBe('plain.test');
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.path === '/echo?case=other');
      if (!r) throw new Error('not yet');
      return r;
    });
    expect(rec.host).toBe('plain.test');
    expect(rec.request.headers.host).toBe('plain.test');
  });

  it('the port counts: the target\'s is written unless it is 80', async () => {
    const other = await send('GET http://unlisted.test:80/echo HTTP/1.1\r\nHost: unlisted.test:8080\r\nConnection: close\r\n\r\n');
    expect(echoedHost(other)).toBe('unlisted.test');
    const missing = await send('GET http://unlisted.test:8081/echo HTTP/1.1\r\nHost: unlisted.test\r\nConnection: close\r\n\r\n');
    expect(echoedHost(missing)).toBe('unlisted.test:8081');
  });

  it('an unlisted host (forwarded, not recorded) gets the same', async () => {
    const raw = await send('GET http://unlisted.test/echo HTTP/1.1\r\nHost: internal.example\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(echoedHost(raw)).toBe('unlisted.test');
  });

  it('a Host that already names the target (any case, default port written out) goes as sent', async () => {
    for (const host of ['plain.test', 'PLAIN.Test', 'plain.test:80']) {
      const raw = await send(`GET http://plain.test/echo HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(echoedHost(raw), host).toBe(host);
    }
  });

  it('a WebSocket upgrade in absolute form is dialled with the target\'s Host', async () => {
    wsHosts.length = 0;
    const raw = await send('GET http://ws.test/v1/realtime HTTP/1.1\r\nHost: other.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n'
      + 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n', /\r\n\r\n/);
    expect(raw).toMatch(/^HTTP\/1\.1 101 /);
    expect(wsHosts).toEqual(['ws.test']);
  });
});
