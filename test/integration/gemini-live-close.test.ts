import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { exchangeFailed } from '../../src/failed-exchange.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * A Gemini Live server that ends a session with an error close, as Google's does (1011 and
 * "Internal error encountered."): the close is passed on as sent, and the session is
 * recorded with `close CODE: REASON` as its stop reason, so it counts as failed.
 */
const HOST = 'generativelanguage.googleapis.com';
const PATH = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=close-test';
let fake: FakeWs;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeWs({
    serve: (ws) => ws.on('message', (data) => {
      if (data.toString().startsWith('{"setup"')) return ws.send(Buffer.from('{"setupComplete":{}}'), { binary: true });
      ws.close(1011, 'Internal error encountered.');
    }),
  });
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`${HOST}:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile] });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

describe('a Gemini Live session the server ends with an error close', () => {
  it('reaches the client as sent and is recorded with the close\'s code and reason as its stop reason (failed)', async () => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem, host: HOST });
    const ws = new WebSocket(`wss://${HOST}${PATH}`, { createConnection: () => tls });
    const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
    await new Promise((resolve) => ws.once('open', resolve));
    const setupDone = new Promise((resolve) => ws.once('message', resolve));
    ws.send(JSON.stringify({ setup: { model: 'models/gemini-live-2.5-flash-preview' } }));
    await setupDone;
    ws.send(JSON.stringify({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'Hello?' }] }], turnComplete: true } }));
    expect(await closed).toEqual([1011, 'Internal error encountered.']);
    const row = await eventually(() => exported(tp).find((e) => e.status === 101) ?? Promise.reject(new Error('not recorded yet')));
    expect([row.outcome, row.model, row.response?.stop_reason]).toEqual(['completed', 'gemini-live-2.5-flash-preview', 'close 1011: Internal error encountered.']);
    expect(exchangeFailed({ outcome: row.outcome, status: row.status, stopReason: row.response?.stop_reason })).toBe(true);
  });
});
