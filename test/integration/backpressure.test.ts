import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { connectThrough, startTls } from '../helpers/raw-client.js';
import { eventually, exported } from '../helpers/archive.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

let fake: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { captureLimit: 1024 * 1024 });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STREAM_BYTES = 16_000 * 4096; // 64 MB of SSE the client will not read

describe('a client that stops reading', () => {
  it('pauses the upstream: the provider cannot push the stream into proxy memory', async () => {
    const tunnel = await connectThrough(tp.proxy.address.port, 'api.openai.com:443');
    const tls = await startTls(tunnel, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem });
    tls.write('GET /stream-bytes?n=16000&size=4096 HTTP/1.1\r\nHost: api.openai.com\r\nX-Test-Id: slow\r\n\r\n');
    let received = 0;
    let tail = '';
    tls.on('data', (d: Buffer) => {
      received += d.length;
      tail = (tail + d.subarray(-16).toString('latin1')).slice(-16);
    });
    await eventually(() => expect(received).toBeGreaterThan(0));
    tls.pause(); // the reader goes away without closing
    const rssBefore = process.memoryUsage().rss;
    await sleep(1500);
    const pushedWhilePaused = fake.streamedBytes;
    await sleep(500);
    // Only socket buffers' worth got out of the provider beyond what the client read before it
    // paused — four kernel buffers on the way (fake → proxy → client), each autotuned on loopback
    // up to several MB, so up to ~20 MB (18.5 MB seen) — not the 64 MB stream, and it stopped growing.
    expect(pushedWhilePaused - received).toBeLessThan(28 * 1024 * 1024);
    expect(fake.streamedBytes - pushedWhilePaused).toBeLessThan(512 * 1024);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);

    // When the reader comes back, the whole stream arrives and is recorded (body capped at the capture limit).
    tls.resume();
    // The whole answer: its last chunk read (received counts head and chunk framing too, so a
    // byte count alone could end the connection before the last events arrived).
    await eventually(() => expect(tail.endsWith('0\r\n\r\n')).toBe(true), 20_000);
    expect(received).toBeGreaterThan(STREAM_BYTES);
    tls.destroy();
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.headers['x-test-id'] === 'slow');
      if (!r) throw new Error('not yet');
      return r;
    });
    expect(rec.response?.body_truncated).toBe(true);
    expect(rec.response?.body_size).toBe(STREAM_BYTES);
  });

  it('a client that aborts mid-stream aborts the upstream and is recorded as client_aborted', async () => {
    const tunnel = await connectThrough(tp.proxy.address.port, 'api.openai.com:443');
    const tls = await startTls(tunnel, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem });
    tls.write('GET /stream-bytes?n=20000&size=4096 HTTP/1.1\r\nHost: api.openai.com\r\nX-Test-Id: abort\r\n\r\n');
    await new Promise((r) => tls.once('data', r));
    tls.destroy();
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.headers['x-test-id'] === 'abort');
      if (!r) throw new Error('not yet');
      return r;
    });
    expect(rec.outcome).toBe('client_aborted');
    expect(rec.response?.body_size).toBeGreaterThan(0);
    expect(rec.response?.body_size).toBeLessThan(STREAM_BYTES);
  });
});
