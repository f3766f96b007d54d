import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exported, eventually } from '../helpers/archive.js';
import { openTls, startFakeWs, WS_TEXT, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { converse, framesOf } from '../helpers/ws-conversation.js';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';

describe.each([
  { name: 'without compression', deflate: false },
  { name: 'with permessage-deflate (context takeover)', deflate: true },
  { name: 'with permessage-deflate, no context takeover, 10-bit windows', deflate: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10, threshold: 0 } },
  // Access rules judge each request of the session: its messages are held until allowed, and must still arrive byte for byte.
  { name: 'screened by access rules, without compression', deflate: false, screened: true },
  { name: 'screened by access rules, with permessage-deflate (context takeover)', deflate: { threshold: 0 }, screened: true },
])('WebSocket through llmtap, $name', ({ deflate, screened }) => {
  let fake: FakeWs;
  let tp: TestProxy;

  beforeAll(async () => {
    fake = await startFakeWs({ perMessageDeflate: deflate });
    tp = await startTestProxy(undefined, {
      connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile],
      ...(screened ? { policy: loadPolicyText('rules:\n  - {match: {model: gpt-5-codex}, action: allow}\n  - {action: deny}\n', 'p.yaml') } : {}),
    });
  });
  afterAll(async () => {
    await tp.close();
    await fake.close();
  });

  it('relays frames byte-identical to a direct connection, in both directions', async () => {
    const fakeCa = fake.ca.certPem;
    const direct = await converse(await openTls({ fakePort: fake.port, ca: fakeCa }), { deflate });
    const proxied = await converse(await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem }), { deflate });
    expect(proxied.closeCode).toBe(1000);
    expect(proxied.got).toEqual(direct.got);
    // What the client received (server frames) and what the server received (client frames).
    expect(framesOf(proxied.received).equals(framesOf(direct.received))).toBe(true);
    const [directConn, proxiedConn] = fake.connections.slice(-2);
    expect(Buffer.concat(proxiedConn!.received).equals(Buffer.concat(directConn!.received))).toBe(true);
    // The 101 and the upgrade request pass with their headers, Sec-WebSocket-* included.
    const names = (raw: string[]) => raw.filter((_, i) => i % 2 === 0);
    expect(names(proxied.upgradeHeaders)).toEqual(names(direct.upgradeHeaders));
    if (deflate) expect(proxied.upgradeHeaders.join('\n')).toMatch(/permessage-deflate/);
    expect(names(proxiedConn!.rawHeaders)).toEqual(names(directConn!.rawHeaders));
    expect(proxiedConn!.rawHeaders).toContain('openai-beta');
  });

  it('records every message in order, inflated, with the key redacted', async () => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const conv = await converse(tls, { deflate, extra: 'my key is sk-proj-SECRETSECRETSECRETSECRET99' });
    const ex = await eventually(() => {
      const found = exported(tp).find((e) => e.websocket && e.request.body === '' && JSON.stringify(e.websocket).includes('first turn my key'));
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect(ex.status).toBe(101);
    expect(ex.api).toBe('responses');
    expect(ex.outcome).toBe('completed');
    // Each response.create of the session is reduced like its SSE form; the session joins them.
    expect(ex.response?.text).toBe(`${WS_TEXT}\n\n${WS_TEXT}`);
    expect(ex.usage).toMatchObject({ input_tokens: 24, output_tokens: 18 });
    const messages = ex.websocket!.messages;
    expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => i));
    // Data messages in the order the client saw them, both directions interleaved.
    const data = messages.filter((m) => m.opcode === 1 || m.opcode === 2);
    const serverData = data.filter((m) => m.direction === 'server').map((m) => m.text ?? m.data_base64);
    expect(serverData).toEqual(conv.got.map((g) => g.data));
    const clientText = data.filter((m) => m.direction === 'client' && m.opcode === 1).map((m) => JSON.parse(m.text!) as { type: string });
    expect(clientText.map((m) => m.type)).toEqual(['response.create', 'response.create']);
    const events = WS_TEXT.split(/(?<= )/).length + 2; // response.created, the deltas, response.completed
    const turn = ['client', ...Array<string>(events).fill('server')];
    expect(data.map((m) => m.direction)).toEqual([...turn, ...turn, 'client', 'server']);
    expect(messages.filter((m) => m.opcode === 8).map((m) => m.direction)).toEqual(['client', 'server']);
    expect(data.every((m) => m.compressed === Boolean(deflate))).toBe(true);
    expect(serverData.join('')).toContain(JSON.stringify(WS_TEXT.split(' ')[0]).slice(1, -1));
    const stored = JSON.stringify(ex);
    expect(stored).not.toContain('SECRETSECRET');
    expect(stored).toContain('[REDACTED]');
    expect(stored).not.toContain('ABCDEFGHIJKLMNOPQRSTUVWX0123');
  });
});
