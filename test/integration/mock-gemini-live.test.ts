import { Modality, type LiveServerMessage } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { startCliMock, type CliMock } from '../helpers/cli-mock.js';
import { eventually } from '../helpers/archive.js';
import { liveThroughProxy, LIVE_ANSWER, serveGeminiLive } from '../helpers/fake-gemini-live.js';
import { startFakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy } from '../helpers/start-proxy.js';

/**
 * `llmtap mock` replays a recorded Gemini Live session to @google/genai's live.connect with
 * no provider running: the server's binary frames come back as recorded, matched to the
 * SDK's own setup, clientContent and toolResponse messages.
 */
let home: string;
let recorded: LiveServerMessage[];
let mock: CliMock;

/** One Live conversation through `through` (a proxy or the mock): a question, the tool's answer, the final text. */
async function converse(through: { proxyPort: number; fakePort: number; ca: string }): Promise<LiveServerMessage[]> {
  const got: LiveServerMessage[] = [];
  await new Promise<void>((done, fail) => {
    void liveThroughProxy(through, 'AIzaSyMOCKsecretKEY0123456789abcdefghij').live.connect({
      model: 'gemini-live-2.5-flash-preview',
      config: { responseModalities: [Modality.TEXT] },
      callbacks: { onmessage: (m) => void got.push(m), onclose: () => done() },
    }).then(async (session) => {
      session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }], turnComplete: true });
      const call = await eventually(() => got.find((m) => m.toolCall)?.toolCall ?? Promise.reject(new Error('no tool call yet')));
      session.sendToolResponse({ functionResponses: [{ id: call.functionCalls![0]!.id, name: 'get_weather', response: { output: { sky: 'sunny' } } }] });
      await eventually(() => got.find((m) => m.serverContent?.turnComplete) ?? Promise.reject(new Error('no turnComplete yet')));
      session.close();
    }, fail);
  });
  return got;
}

beforeAll(async () => {
  const fake = await startFakeWs({ serve: serveGeminiLive });
  const tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`generativelanguage.googleapis.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile] });
  home = tp.home;
  try {
    recorded = await converse({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
  } finally {
    await tp.close();
    await fake.close();
  }
  mock = await startCliMock(home, ['--since', '1h', '--connect-to', 'generativelanguage.googleapis.com:443:127.0.0.1:9']);
}, 60_000);

afterAll(async () => {
  await mock?.stop();
});

describe('llmtap mock: a recorded Gemini Live session', () => {
  it('is replayed to the SDK with no provider running: the same server messages, in order', async () => {
    expect(recorded.map((m) => m.text ?? '').join('')).toBe(LIVE_ANSWER);
    const replayed = await converse({ proxyPort: mock.port, fakePort: 9, ca: mock.ca });
    expect(JSON.parse(JSON.stringify(replayed))).toEqual(JSON.parse(JSON.stringify(recorded)));
  });
});

describe('llmtap mock: a Gemini Live message it has no recording for', () => {
  it('ends the session with close 1008 and a reason naming the miss (Live has no error event), after the replies it had', async () => {
    const got: LiveServerMessage[] = [];
    const closed = await new Promise<{ code: number; reason: string }>((done, fail) => {
      void liveThroughProxy({ proxyPort: mock.port, fakePort: 9, ca: mock.ca }, 'AIzaSyMOCKsecretKEY0123456789abcdefghij').live.connect({
        model: 'gemini-live-2.5-flash-preview',
        config: { responseModalities: [Modality.TEXT] },
        callbacks: { onmessage: (m) => void got.push(m), onclose: (e: { code: number; reason: string }) => done({ code: e.code, reason: e.reason }) },
      }).then((session) => {
        session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: 'Weather in Rome?' }] }], turnComplete: true });
      }, fail);
    });
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^no_recording: no recorded answer for this message \(key [0-9a-f]{16}; nearest \S+\)$/);
    // The setup was recorded: its answer came before the close.
    expect(got.some((m) => m.setupComplete)).toBe(true);
  });
});
