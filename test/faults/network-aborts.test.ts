/**
 * Fault list #14: the client goes away in the middle of a streamed answer. The
 * upstream request is aborted at once (the provider sees its socket close and stops
 * streaming), and the exchange is still recorded, as client_aborted, with the part
 * that had arrived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { sleep, tlsOver, tunnelTo, waitFor } from './network-helpers.js';

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

const EVENTS = 20_000;
const EVENT_SIZE = 4096;
const STREAM_BYTES = EVENTS * EVENT_SIZE; // 80 MB: far more than any socket buffers hold

describe('FAULT 14: client aborts mid-stream', () => {
  const ways: Array<[string, (raw: import('node:net').Socket, tls: import('node:tls').TLSSocket) => void]> = [
    ['closes the connection (FIN)', (_raw, tls) => tls.destroy()],
    ['resets the connection (RST)', (raw) => raw.resetAndDestroy()],
  ];
  for (const [how, abort] of ways) {
    it(`FAULT 14: a client that ${how} mid-stream aborts the upstream request and is recorded as client_aborted with the part received`, async () => {
      const abortedBefore = fake.streamsAborted;
      const testId = `abort-${how.includes('RST') ? 'rst' : 'fin'}`;
      const { socket: raw } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
      const tls = await tlsOver(raw, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem, ALPNProtocols: ['http/1.1'] });
      tls.on('error', () => {});
      tls.write(`GET /stream-bytes?n=${EVENTS}&size=${EVENT_SIZE} HTTP/1.1\r\nHost: api.openai.com\r\nX-Test-Id: ${testId}\r\n\r\n`);
      let received = 0;
      tls.on('data', (d: Buffer) => { received += d.length; });
      expect(await waitFor(() => received > 64 * 1024, 3000)).toBe(true);
      abort(raw, tls);

      // The provider's side of the request is torn down promptly…
      expect(await waitFor(() => fake.streamsAborted > abortedBefore, 2000)).toBe(true);
      // …and it stops producing: nothing more leaves it.
      const streamed = fake.streamedBytes;
      await sleep(200);
      expect(fake.streamedBytes).toBe(streamed);

      const rec = await eventually(() => {
        const r = exported(tp).find((e) => e.request.headers['x-test-id'] === testId);
        if (!r) throw new Error('not yet');
        return r;
      });
      expect(rec.outcome).toBe('client_aborted');
      expect(rec.status).toBe(200);
      expect(rec.response?.body_size).toBeGreaterThan(0);
      expect(rec.response?.body_size).toBeLessThan(STREAM_BYTES);
      expect(rec.response?.body?.startsWith('data: xxx')).toBe(true);
      expect(tp.proxy.server.metrics.inFlight).toBe(0);
    });
  }

  it('FAULT 14: a client that leaves between the events of a slow SSE stream is recorded at once, model parsed', async () => {
    fake.eventGapMs = 100; // a slow SSE stream: headers come at once, events every 100 ms
    try {
      const { socket: raw } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
      const tls = await tlsOver(raw, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem, ALPNProtocols: ['http/1.1'] });
      tls.on('error', () => {});
      const body = '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}';
      tls.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nX-Test-Id: abort-early\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      await new Promise((r) => tls.once('data', r));
      tls.destroy();
      const rec = await eventually(() => {
        const r = exported(tp).find((e) => e.request.headers['x-test-id'] === 'abort-early');
        if (!r) throw new Error('not yet');
        return r;
      });
      expect(rec.outcome).toBe('client_aborted');
      expect(rec.model).toBe('gpt-4o-mini');
      // Recorded long before the stream (10+ events, 100 ms apart) would have ended.
      expect(Number(rec.duration_ms)).toBeLessThan(600);
    } finally {
      fake.eventGapMs = 0;
    }
  });
});
