import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * Under a policy, a Codex session's client bytes are held from each message's first
 * frame until its verdict. A client that goes away in the middle of a message (Codex
 * killed while sending a large request) never finishes it, so it can never be judged:
 * the session must still end, upstream included, and be recorded.
 */
const POLICY = loadPolicyText('rules:\n  - {id: codex-ok, match: {model: gpt-5-codex}, action: allow}\n  - {action: deny}\n', 'p.yaml');

let fake: FakeWs;
let tp: TestProxy;
beforeAll(async () => {
  fake = await startFakeWs();
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile], policy: POLICY });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

describe('a screened WebSocket session whose client leaves mid-message', () => {
  it.each([
    { name: 'after the first fragment of a message', frame: [0x01, 0x85, 0, 0, 0, 0, ...Buffer.from('{"typ')] },
    { name: 'inside a frame', frame: [0x81, 0xfe, 0x01, 0x00, 0, 0, 0, 0, ...Buffer.from('{"type":"response.create"')] },
  ])('$name: ends upstream and is recorded client_aborted', async ({ frame }) => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls });
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    ws.on('error', () => {});
    await new Promise<void>((ok, fail) => ws.once('open', ok).once('error', fail));
    ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', input: 'first' }));
    await eventually(() => {
      if (!got.some((m) => m.includes('"response.completed"'))) throw new Error('no answer yet');
    });
    const upstream = fake.connections[fake.connections.length - 1]!;
    const before = exported(tp).length;
    // A message begun and never finished, then the client's end of the connection (FIN).
    tls.write(Buffer.from(frame));
    tls.end();

    const row = await eventually(() => {
      const rows = exported(tp);
      if (rows.length === before) throw new Error('session not recorded');
      return rows[rows.length - 1]!;
    }, 4000);
    expect(row).toMatchObject({ status: 101, outcome: 'client_aborted' });
    expect(row.usage).toMatchObject({ input_tokens: 12 });
    // The unfinished message never reached the upstream as a message.
    expect(upstream.texts.map((t) => (JSON.parse(t) as { input: string }).input)).toEqual(['first']);
  });
});
