import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { serveGeminiLive } from '../helpers/fake-gemini-live.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { askResponse } from '../helpers/ws-conversation.js';

// Sessions opened while no policy is in force, screened once a reload brings one: a Codex
// session's requests are judged one by one from then on, a Live session's setup by the
// access rules. Real `ws` clients through the proxy to local fakes.
let codex: FakeWs;
let live: FakeWs;
let tp: TestProxy;

const LIVE_HOST = 'generativelanguage.googleapis.com';
const LIVE_PATH = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';

beforeAll(async () => {
  codex = await startFakeWs();
  live = await startFakeWs({ ca: codex.ca, serve: serveGeminiLive });
  tp = await startTestProxy(undefined, {
    connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${codex.port}`), parseConnectTo(`${LIVE_HOST}:443:127.0.0.1:${live.port}`)],
    upstreamCa: [codex.caFile],
  });
});
afterAll(async () => {
  await tp.close();
  await codex.close();
  await live.close();
});

async function open(host: string, fake: FakeWs, path: string): Promise<WebSocket> {
  const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem, host });
  const ws = new WebSocket(`wss://${host}${path}`, { createConnection: () => tls });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

/** How the session closed within 2 s: code and reason, else 'open'. */
function closed(ws: WebSocket): Promise<[number, string] | 'open'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), 2000);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve([code, reason.toString()]);
    });
  });
}

const modelsSeen = (texts: string[]): string[] => texts.map((t) => (JSON.parse(t) as { model: string }).model);

describe('a WebSocket session opened while no policy is in force, once a reload brings one', () => {
  it('Codex: each request sent after the policy came is judged; a denied model is answered with the error event and never sent upstream, an allowed one answered; a reload that removes the policy lets it through again', async () => {
    try {
      const before = codex.connections.length;
      const ws = await open('api.openai.com', codex, '/v1/responses');
      const upstream = codex.connections[before]!;
      expect((await askResponse(ws, 'o4-mini')).type).toBe('response.completed');
      tp.proxy.server.setPolicy(loadPolicyText('rules:\n  - {id: no-mini, action: deny, match: {model: "o4-mini*"}}\n', 'p.yaml'));
      expect(await askResponse(ws, 'o4-mini')).toMatchObject({ type: 'error', error: { code: 'model_not_allowed' } });
      expect((await askResponse(ws, 'gpt-5-codex')).type).toBe('response.completed');
      expect(modelsSeen(upstream.texts)).toEqual(['o4-mini', 'gpt-5-codex']);
      tp.proxy.server.setPolicy(undefined);
      expect((await askResponse(ws, 'o4-mini')).type).toBe('response.completed');
      expect(modelsSeen(upstream.texts)).toEqual(['o4-mini', 'gpt-5-codex', 'o4-mini']);
      ws.close(1000);
      const rec = await eventually(() => exported(tp).find((e) => e.status === 101 && e.api === 'responses') ?? Promise.reject(new Error('not recorded yet')));
      // The session goes on after a refused request: it completed, its record keeps the refusal.
      expect(rec.outcome).toBe('completed');
      expect(rec.policy).toEqual({ decisions: [{ rule: 'no-mini', kind: 'access', action: 'deny', enforced: true, model: 'o4-mini' }] });
    } finally {
      tp.proxy.server.setPolicy(undefined);
    }
  });

  it('Gemini Live: the model its setup named is judged by the access rules at its next message; a denied one ends it (1008 model_not_allowed) before that message reaches the server', async () => {
    try {
      const before = live.connections.length;
      const ws = await open(LIVE_HOST, live, `${LIVE_PATH}?key=late-screen-test`);
      const upstream = live.connections[before]!;
      const setupDone = new Promise((resolve) => ws.once('message', resolve));
      ws.send(JSON.stringify({ setup: { model: 'models/gemini-2.5-flash-native-audio-preview-09-2025' } }));
      await setupDone;
      tp.proxy.server.setPolicy(loadPolicyText('rules:\n  - {id: no-native-audio, action: deny, match: {api: gemini.live, model: "*native-audio*"}}\n', 'p.yaml'));
      const end = closed(ws);
      ws.send(JSON.stringify({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }], turnComplete: true } }));
      expect(await end).toEqual([1008, 'model_not_allowed']);
      expect(upstream.texts.map((t) => Object.keys(JSON.parse(t) as object)[0])).toEqual(['setup']);
      const rec = await eventually(() => exported(tp).find((e) => e.status === 101 && e.api === 'gemini.live') ?? Promise.reject(new Error('not recorded yet')));
      expect(rec).toMatchObject({ outcome: 'blocked', error_code: 'model_not_allowed' });
      expect(rec.policy).toEqual({ blocked: 'model_not_allowed', decisions: [{ rule: 'no-native-audio', kind: 'access', action: 'deny', enforced: true, model: 'gemini-2.5-flash-native-audio-preview-09-2025' }] });
    } finally {
      tp.proxy.server.setPolicy(undefined);
    }
  });

  it('Gemini Live: a model the new policy allows goes on, its turns answered', async () => {
    try {
      const ws = await open(LIVE_HOST, live, `${LIVE_PATH}?key=late-screen-test`);
      const setupDone = new Promise((resolve) => ws.once('message', resolve));
      ws.send(JSON.stringify({ setup: { model: 'models/gemini-live-2.5-flash-preview' } }));
      await setupDone;
      tp.proxy.server.setPolicy(loadPolicyText('rules:\n  - {id: no-native-audio, action: deny, match: {api: gemini.live, model: "*native-audio*"}}\n', 'p.yaml'));
      const toolCall = new Promise<string>((resolve) => ws.on('message', (data: Buffer) => data.toString().includes('toolCall') && resolve(data.toString())));
      ws.send(JSON.stringify({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }], turnComplete: true } }));
      expect(await toolCall).toContain('get_weather');
      ws.close(1000);
    } finally {
      tp.proxy.server.setPolicy(undefined);
    }
  });
});
