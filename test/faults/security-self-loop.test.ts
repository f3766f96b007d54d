/**
 * FAULT 29: a target that is one of the proxy's own addresses (loopback or not) on
 * its listening port is refused, however it is spelled: as an address, as a name
 * that resolves to one, through a --connect-to mapping, as a plain-HTTP request, or
 * nested inside a CONNECT to itself. Only this machine's own addresses are used.
 */
import { lookup } from 'node:dns/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { basic } from './security-helpers.js';

/** This machine's own non-loopback IPv4 addresses (none on a loopback-only sandbox). */
const ownAddresses = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4').map((a) => a!.address);
const AUTH = basic('u', 'p');
let gw: TestProxy;

beforeAll(async () => {
  // Its own port must be an allowed port, or the port rule would refuse the loop first and hide it.
  const port = await freePort();
  gw = await startTestProxy(undefined, { host: '0.0.0.0', port, auth: [{ user: 'u', password: 'p' }], allowPorts: [443, port], connectTo: [] });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '0.0.0.0', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
afterAll(async () => {
  await gw?.close();
});

/** Sends one request head and returns the first status code the proxy answers with. */
function statusOf(head: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(gw.proxy.address.port, '127.0.0.1');
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      got += d;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('error', reject);
    socket.write(head);
  });
}

const connectHead = (authority: string) => `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\nProxy-Authorization: ${AUTH}\r\n\r\n`;

describe('FAULT 29: no self-loops', () => {
  it.skipIf(ownAddresses.length === 0)('FAULT 29: CONNECT and plain HTTP to each own non-loopback address on the listening port → 403, no tunnel opened', async () => {
    const port = gw.proxy.address.port;
    const tunnels = gw.proxy.server.metrics.tunnelsOpened;
    for (const address of ownAddresses) {
      expect(await statusOf(connectHead(`${address}:${port}`)), address).toBe(403);
      expect(await statusOf(`GET http://${address}:${port}/ HTTP/1.1\r\nHost: ${address}:${port}\r\nProxy-Authorization: ${AUTH}\r\n\r\n`), address).toBe(403);
      // Nested: the outer CONNECT is already the loop, so it never gets to carry an inner one.
      expect(await statusOf(connectHead(`${address}:${port}`) + connectHead(`${address}:${port}`)), address).toBe(403);
    }
    expect(gw.proxy.server.metrics.tunnelsOpened).toBe(tunnels);
  });

  it('FAULT 29: loopback spellings and 0.0.0.0 on the listening port → 403', async () => {
    const port = gw.proxy.address.port;
    for (const host of ['127.0.0.1', '127.1.2.3', '[::1]', '0.0.0.0', 'localhost', '[::ffff:127.0.0.1]']) {
      expect(await statusOf(connectHead(`${host}:${port}`)), host).toBe(403);
    }
  });

  it('FAULT 29: a name that resolves to an own address, on the listening port → refused before any byte is relayed', async () => {
    const name = hostname();
    const resolved = await lookup(name).catch(() => undefined);
    if (!resolved || !(resolved.address.startsWith('127.') || ownAddresses.includes(resolved.address))) return; // the name is not this host's here
    const tunnels = gw.proxy.server.metrics.tunnelsOpened;
    const status = await statusOf(connectHead(`${name}:${gw.proxy.address.port}`));
    // Refused by name when it is spelled like loopback, else after DNS at connect time.
    expect([403, 502]).toContain(status);
    expect(gw.proxy.server.metrics.errors.forbidden_target ?? 0).toBeGreaterThan(0);
    expect(gw.proxy.server.metrics.tunnelsOpened - tunnels).toBeLessThanOrEqual(1);
  });
});
