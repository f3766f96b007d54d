/**
 * FAULT 28: gateway login under a flood of bad credentials. Checks run four at a time
 * (scrypt); a client that keeps many bad logins in flight used to make every other
 * user's first login fail with 407. Now waiting checks are served round-robin across
 * client addresses (loopback has many: 127.0.0.2 attacks, 127.0.0.3 logs in).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { basic } from './security-helpers.js';

let gw: TestProxy;

beforeAll(async () => {
  gw = await startTestProxy(undefined, { host: '0.0.0.0', auth: [{ user: 'alice', password: 'correct horse' }], connectTo: [] });
});
afterAll(async () => {
  await gw?.close();
});

/** One CONNECT from a given source address; resolves with the status line's code. */
function connectStatus(from: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port: gw.proxy.address.port, localAddress: from });
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      head += d;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('error', reject);
    socket.write(`CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nProxy-Authorization: ${authorization}\r\n\r\n`);
  });
}

describe('FAULT 28: gateway login under a flood of bad credentials', () => {
  it('FAULT 28: with 50 bad logins kept in flight by one client, a valid user\'s first login still gets through', async () => {
    let flooding = true;
    let attempts = 0;
    const attacker = async (lane: number) => {
      while (flooding) {
        attempts++;
        // A new wrong password every time: the refused-credential memory cannot short-cut it.
        const status = await connectStatus('127.0.0.2', basic(`mallory-${lane}`, `guess-${attempts}`));
        expect(status).toBe(407);
      }
    };
    const lanes = Array.from({ length: 50 }, (_, i) => attacker(i));
    await new Promise((r) => setTimeout(r, 300)); // the flood is on
    const start = performance.now();
    // The target (loopback) is refused after auth, before any connection: 403 means auth passed.
    const status = await connectStatus('127.0.0.3', basic('alice', 'correct horse'));
    const ms = performance.now() - start;
    flooding = false;
    await Promise.all(lanes);
    expect(status).toBe(403);
    expect(attempts).toBeGreaterThan(100);
    // Informational: time to the valid login under the flood (one or two scrypt turns on this machine).
    console.log(`FAULT 28: valid login under a 50-deep flood took ${ms.toFixed(0)} ms (${attempts} bad attempts)`);
  });

  it('FAULT 28: malformed Basic values are refused with 407 even when the credentials inside are right', async () => {
    for (const bad of [`${basic('alice', 'correct horse')}=junk`, `${basic('alice', 'correct horse')}==`, `Basic ${Buffer.from('alice:correct horse\r\n').toString('base64')}`]) {
      expect(await connectStatus('127.0.0.4', bad), bad).toBe(407);
    }
  });
});
