/**
 * Downstream tunnel bytes are read into a reused buffer (proxy/tunnel.ts): whatever
 * the client's reading pace, every byte must arrive once, in order, unchanged, and a
 * client that stops reading must stop the upstream (backpressure), not fill memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { openSocket, sleep } from '../faults/network-helpers.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const SIZE = 24 * 1024 * 1024;
const payload = randomBytes(SIZE);
const digest = createHash('sha256').update(payload).digest('hex');

let origin: Server;
/** Sends a smaller payload in 700-byte pieces, one per event-loop turn: the proxy reads small chunks. */
let trickler: Server;
const TRICKLE = 16 * 1024 * 1024;
const tricklePayload = randomBytes(TRICKLE);
/** Bytes the origin has managed to hand to its socket, per connection (latest last). */
const handed: number[] = [];
let tp: TestProxy;

beforeAll(async () => {
  // Writes the payload in 100 KB pieces (respecting its own socket's backpressure), then FIN.
  origin = createServer((s) => {
    s.on('error', () => {});
    const slot = handed.push(0) - 1;
    let at = 0;
    const pump = (): void => {
      while (at < SIZE) {
        const piece = payload.subarray(at, Math.min(SIZE, at + 100_000));
        at += piece.length;
        handed[slot] = at;
        if (!s.write(piece)) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  trickler = createServer((s) => {
    s.on('error', () => {});
    let at = 0;
    const drip = (): void => {
      if (s.destroyed) return;
      if (at >= TRICKLE) return void s.end();
      s.write(tricklePayload.subarray(at, at += 700));
      setImmediate(drip);
    };
    drip();
  });
  await new Promise<void>((r) => trickler.listen(0, '127.0.0.1', r));
  tp = await startTestProxy(undefined, {
    connectTo: [
      parseConnectTo(`bulk.test:443:127.0.0.1:${(origin.address() as AddressInfo).port}`),
      parseConnectTo(`trickle.test:443:127.0.0.1:${(trickler.address() as AddressInfo).port}`),
    ],
  });
});
afterAll(async () => {
  await tp?.close();
  await new Promise((r) => origin?.close(r));
  await new Promise((r) => trickler?.close(r));
});

/**
 * CONNECTs and reads the tunnel to its end with one 'data' handler from the first byte
 * (the origin speaks first, so nothing may be left unread between the reply and the
 * body); `pace` runs after each body chunk (a slow reader pauses there).
 */
async function download(pace?: (received: number) => Promise<void>, host = 'bulk.test'): Promise<Buffer> {
  const socket = await openSocket(tp.proxy.address.port);
  socket.write(`CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n\r\n`);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      let head: Buffer | undefined = Buffer.alloc(0);
      const chunks: Buffer[] = [];
      let received = 0;
      socket.on('data', (data: Buffer) => {
        let chunk = data;
        if (head) {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          if (!head.subarray(0, 12).toString().includes(' 200')) return reject(new Error(head.toString('latin1')));
          chunk = head.subarray(end + 4);
          head = undefined;
        }
        chunks.push(chunk);
        received += chunk.length;
        if (pace) {
          socket.pause();
          void pace(received).then(() => socket.resume());
        }
      });
      socket.once('end', () => resolve(Buffer.concat(chunks)));
      socket.once('error', reject);
    });
  } finally {
    socket.destroy();
  }
}

describe('tunnel downstream relay', () => {
  it('a fast reader gets every byte unchanged', async () => {
    const got = await download();
    expect(got.length).toBe(SIZE);
    expect(createHash('sha256').update(got).digest('hex')).toBe(digest);
  });

  it('a slow, bursty reader gets every byte unchanged, and the origin is held back meanwhile', async () => {
    let checked = false;
    let heldBack = false;
    const got = await download(async (received) => {
      // Stalls now and then; while the first long stall lasts, the origin cannot get far ahead.
      if (!checked && received > 2 * 1024 * 1024) {
        checked = true;
        await sleep(300);
        heldBack = handed.at(-1)! < SIZE && handed.at(-1)! - received < 16 * 1024 * 1024;
      } else if (Math.random() < 0.02) {
        await sleep(5);
      }
    });
    expect(heldBack).toBe(true);
    expect(got.length).toBe(SIZE);
    expect(createHash('sha256').update(got).digest('hex')).toBe(digest);
  });

  it('small chunks that queue behind a stalled reader are not overwritten by the next read', async () => {
    let stalled = false;
    const got = await download(async () => {
      // One long stall fills the kernel's socket buffers; then the proxy's small writes queue in Node.
      if (!stalled) await sleep(1000);
      stalled = true;
    }, 'trickle.test');
    expect(got.length).toBe(TRICKLE);
    expect(got.equals(tricklePayload)).toBe(true);
  });
});
