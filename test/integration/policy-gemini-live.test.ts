import { Modality, type LiveServerMessage } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { liveThroughProxy, serveGeminiLive } from '../helpers/fake-gemini-live.js';
import { startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * Gemini Live names its model in the session's first message (`setup`), not in the URL:
 * the access rules judge that message before it goes upstream. A refused setup never
 * reaches the server; the session ends with close 1008 and the code as its reason.
 * Opened by @google/genai's live.connect through the proxy.
 */
const POLICY = loadPolicyText(`rules:
  - {id: live-flash, match: {model: "gemini-live-2.5-flash*"}, action: allow}
  - {id: nothing-else, match: {api: gemini.live}, action: deny}
`, 'p.yaml');

let fake: FakeWs;
let tp: TestProxy;
beforeAll(async () => {
  fake = await startFakeWs({ serve: serveGeminiLive });
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`generativelanguage.googleapis.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile], policy: POLICY });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

/** Opens a Live session for `model`, asks one question when it opens, and resolves with what came back once it closes. */
function session(model: string): Promise<{ messages: LiveServerMessage[]; code: number; reason: string }> {
  const messages: LiveServerMessage[] = [];
  return new Promise((resolve, reject) => {
    liveThroughProxy({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem }, 'AIzaSyPOLICYsecretKEY0123456789abcdefgh').live.connect({
      model,
      config: { responseModalities: [Modality.TEXT] },
      callbacks: {
        onmessage: (m) => void messages.push(m),
        onclose: (e: { code: number; reason: string }) => resolve({ messages, code: e.code, reason: e.reason }),
      },
    }).then((s) => {
      s.sendClientContent({ turns: [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }], turnComplete: true });
      // An allowed session: closed once the tool call came.
      void eventually(() => messages.find((m) => m.toolCall) ?? Promise.reject(new Error('no tool call yet'))).then(() => s.close(), () => s.close());
    }, reject);
  });
}

describe('the access rules on a Gemini Live session', () => {
  it('let a setup naming an allowed model through; end a session whose setup names a denied one before it reaches the server', async () => {
    const allowed = await session('gemini-live-2.5-flash-preview');
    expect(allowed.messages.some((m) => m.toolCall)).toBe(true);

    const refused = await session('gemini-2.5-flash-native-audio-preview-09-2025');
    expect(refused).toMatchObject({ code: 1008, reason: 'model_not_allowed', messages: [] });
    // The server saw the allowed session's setup, and nothing of the refused one's.
    const setups = fake.connections.flatMap((c) => c.texts.filter((t) => t.startsWith('{"setup"')));
    expect(setups).toHaveLength(1);
    expect(setups[0]).toContain('models/gemini-live-2.5-flash-preview');

    const rows = await eventually(() => {
      const sessions = exported(tp).filter((e) => e.status === 101);
      if (sessions.length < 2) throw new Error('not recorded yet');
      return sessions;
    });
    const blocked = rows.find((r) => r.outcome === 'blocked')!;
    expect(blocked).toMatchObject({ api: 'gemini.live', error_code: 'model_not_allowed', model: 'gemini-2.5-flash-native-audio-preview-09-2025' });
    expect(blocked.policy).toMatchObject({ blocked: 'model_not_allowed', decisions: [{ rule: 'nothing-else', kind: 'access', action: 'deny', model: 'gemini-2.5-flash-native-audio-preview-09-2025' }] });
    expect(rows.find((r) => r.outcome !== 'blocked')).toMatchObject({ api: 'gemini.live', model: 'gemini-live-2.5-flash-preview', usage: { input_tokens: 60, output_tokens: 9 } });
  });
});

describe('a budget on a Gemini Live session', () => {
  it('charges each model turn as it ends and ends the session (1008 budget_exceeded) once a turn spent it: no later message judges it', async () => {
    const budgeted = await startTestProxy(undefined, {
      connectTo: [parseConnectTo(`generativelanguage.googleapis.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile],
      // The first turn (60 tokens in, 9 out at $0.50 / $2 per million) costs $0.000048.
      policy: loadPolicyText('rules:\n  - {id: live-day, match: {api: gemini.live}, budget: {usd: 0.00001, period: day, per: model}}\n', 'p.yaml'),
    });
    try {
      const messages: LiveServerMessage[] = [];
      const closed = await new Promise<{ code: number; reason: string }>((resolve, reject) => {
        liveThroughProxy({ proxyPort: budgeted.proxy.address.port, fakePort: fake.port, ca: budgeted.caPem }, 'AIzaSyBUDGETsecretKEY0123456789abcdefgh').live.connect({
          model: 'gemini-live-2.5-flash-preview',
          config: { responseModalities: [Modality.TEXT] },
          callbacks: { onmessage: (m) => void messages.push(m), onclose: (e: { code: number; reason: string }) => resolve({ code: e.code, reason: e.reason }) },
        }).then((s) => s.sendClientContent({ turns: [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }], turnComplete: true }), reject);
      });
      expect(closed).toEqual({ code: 1008, reason: 'budget_exceeded' });
      expect(messages.some((m) => m.toolCall)).toBe(true);
      const row = await eventually(() => exported(budgeted).find((e) => e.status === 101) ?? Promise.reject(new Error('not recorded yet')));
      expect(row).toMatchObject({ api: 'gemini.live', outcome: 'blocked', error_code: 'budget_exceeded', policy: { blocked: 'budget_exceeded' } });
    } finally {
      await budgeted.close();
    }
  });
});
