import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { connectThrough, startTls } from '../helpers/raw-client.js';
import { eventually, exported } from '../helpers/archive.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * A long stream of small events to a client slower than the provider, at the default capture
 * limit (16 MiB): the proxy must pass it at the client's pace without piling it up. Pausing
 * the upstream at every event had each resume re-read (copy) the upstream socket's whole
 * buffer, and every captured event kept a view of such a copy alive: a 20 MB stream took
 * seconds and gigabytes.
 */
let fake: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const EVENTS = 20_000;
const SIZE = 1024;

describe('a long stream of small events to a slow reader', () => {
  it('reaches the client whole with the proxy\'s buffers bounded, and is recorded to the capture limit', async () => {
    const tunnel = await connectThrough(tp.proxy.address.port, 'api.openai.com:443');
    const tls = await startTls(tunnel, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem });
    tls.write(`GET /stream-bytes?n=${EVENTS}&size=${SIZE} HTTP/1.1\r\nHost: api.openai.com\r\nX-Test-Id: slow-small\r\n\r\n`);
    let received = 0;
    let tail = '';
    let peakBuffers = 0;
    const watch = setInterval(() => { peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers); }, 20);
    const baseline = process.memoryUsage().arrayBuffers;
    // A reader that takes a little at a time, with pauses: slower than the provider writes.
    tls.on('data', (d: Buffer) => {
      received += d.length;
      tail = (tail + d.subarray(-16).toString('latin1')).slice(-16);
      tls.pause();
      setTimeout(() => tls.resume(), 1);
    });
    try {
      await eventually(() => expect(tail.endsWith('0\r\n\r\n')).toBe(true), 60_000);
    } finally {
      clearInterval(watch);
    }
    tls.destroy();
    expect(received).toBeGreaterThan(EVENTS * SIZE);
    // The capture limit, the socket buffers and one pause's worth per side; not the stream many times over.
    expect(peakBuffers - baseline).toBeLessThan(128 * 1024 * 1024);
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.headers['x-test-id'] === 'slow-small');
      if (!r) throw new Error('not yet');
      return r;
    });
    expect(rec.outcome).toBe('completed');
    expect(rec.response?.body_size).toBe(EVENTS * SIZE);
    expect(rec.response?.body_truncated).toBe(true);
  }, 90_000);
});
