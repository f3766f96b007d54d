import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * A compressed message whose compressed size is past what the copy keeps for the
 * capture limit (a screenshot in a Codex request under a small --capture-limit): the
 * messages after it must still be read, so later requests are still judged by the
 * policy and later responses still counted. Real `ws` client and server, permessage-deflate
 * with context takeover both ways.
 */
const POLICY = loadPolicyText(`rules:
  - {id: codex-ok, match: {model: gpt-5-codex}, action: allow}
  - {id: nothing-else, match: {api: responses}, action: deny}
`, 'p.yaml');

let fake: FakeWs;
let tp: TestProxy;
beforeAll(async () => {
  fake = await startFakeWs({ perMessageDeflate: true });
  tp = await startTestProxy(undefined, {
    connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile], policy: POLICY, captureLimit: 1000,
  });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

describe('a compressed message larger than the capture limit keeps', () => {
  it('leaves the messages after it readable: later requests are still judged, later responses still counted', async () => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls, perMessageDeflate: { threshold: 0 } });
    const got: Array<{ binary: boolean; data: Buffer }> = [];
    ws.on('message', (data, binary) => got.push({ binary, data: Buffer.from(data as Buffer) }));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const answered = (from: number, test: (m: { binary: boolean; data: Buffer }) => boolean) => eventually(() => {
      if (!got.slice(from).some(test)) throw new Error('not answered yet');
    });
    const completed = (m: { data: Buffer }) => m.data.includes('"response.completed"');
    const ask = async (model: string) => {
      const from = got.length;
      ws.send(JSON.stringify({ type: 'response.create', model, input: `asking ${model}` }));
      await answered(from, completed);
    };

    await ask('gpt-5-codex');
    // Random bytes do not compress: over 4x the capture limit on the wire both ways (the fake echoes binary).
    const from = got.length;
    ws.send(randomBytes(8000));
    await answered(from, (m) => m.binary);
    await ask('gpt-5-codex');
    const last = got.length;
    ws.send(JSON.stringify({ type: 'response.create', model: 'o3', input: 'refused' }));
    // Compressed with the window the server keeps: refused by ending the session (as documented).
    expect(await Promise.race([closed, answered(last, completed).then(() => 'answered upstream')])).toEqual({ code: 1008, reason: 'model_not_allowed' });

    const upstream = fake.connections[fake.connections.length - 1]!;
    expect(upstream.texts.map((t) => (JSON.parse(t) as { model: string }).model)).toEqual(['gpt-5-codex', 'gpt-5-codex']);
    const row = await eventually(() => {
      const r = exported(tp).find((e) => e.status === 101 && e.outcome === 'blocked');
      if (!r) throw new Error('session not recorded yet');
      return r;
    });
    // Both responses counted (12 input tokens each), the big messages kept cut at the capture limit, nothing unreadable.
    expect(row.usage).toMatchObject({ input_tokens: 24, output_tokens: 18 });
    const messages = row.websocket!.messages;
    expect(messages.filter((m) => (m as { error?: string }).error)).toEqual([]);
    const big = messages.filter((m) => m.opcode === 2);
    expect(big.map((m) => [m.direction, m.truncated, Buffer.from(m.data_base64!, 'base64').length])).toEqual([['client', true, 1000], ['server', true, 1000]]);
  });
});
