import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { calcPrice } from '@pydantic/genai-prices';
import { Modality, type LiveServerMessage, type Session } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo, paths } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { LIVE_ANSWER, liveThroughProxy, serveGeminiLive } from '../helpers/fake-gemini-live.js';
import { startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { capturingLogger, findSecrets, haystacks } from '../faults/secrets-helpers.js';

/**
 * A Gemini Live session through llmtap, opened by Google's own SDK (@google/genai's
 * live.connect: its setup, clientContent and toolResponse messages, its reading of the
 * server's binary frames), against a fake Live server on loopback (liveThroughProxy).
 */
const HOST = 'generativelanguage.googleapis.com';
const API_KEY = 'AIzaSyLIVEsecretKEY0123456789abcdefghijk';
let fake: FakeWs;
let tp: TestProxy;
const log = capturingLogger();

beforeAll(async () => {
  fake = await startFakeWs({ serve: serveGeminiLive });
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`${HOST}:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile] }, { logger: log.logger });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

describe('a Gemini Live session through the proxy', () => {
  it('is recorded as gemini.live: the setup\'s model, the answer\'s text, the tool call, usage summed over its turns, its price; the key in the URL is never stored or logged', async () => {
    const got: LiveServerMessage[] = [];
    const closed = new Promise<void>((done) => {
      void liveThroughProxy({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem }, API_KEY).live.connect({
        model: 'gemini-live-2.5-flash-preview',
        config: {
          responseModalities: [Modality.TEXT],
          systemInstruction: 'Answer briefly.',
          tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'The weather in a city' }] }],
        },
        callbacks: { onmessage: (m) => got.push(m), onclose: () => done() },
      }).then(async (session: Session) => {
        session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }], turnComplete: true });
        const call = await eventually(() => got.find((m) => m.toolCall)?.toolCall ?? Promise.reject(new Error('no tool call yet')));
        session.sendToolResponse({ functionResponses: [{ id: call.functionCalls![0]!.id, name: 'get_weather', response: { output: { sky: 'sunny', celsius: 22 } } }] });
        await eventually(() => got.find((m) => m.serverContent?.turnComplete) ?? Promise.reject(new Error('no turnComplete yet')));
        session.close();
      });
    });
    await closed;
    // The SDK read the binary frames through the proxy, unchanged.
    expect(got.map((m) => m.text ?? '').join('')).toBe(LIVE_ANSWER);
    // What reached the server is what the SDK sent: a setup naming the model first.
    const sent = fake.connections[0]!.texts.map((t) => JSON.parse(t) as Record<string, { model?: string }>);
    expect(sent[0]!.setup?.model).toBe('models/gemini-live-2.5-flash-preview');
    expect(fake.connections[0]!.url).toContain(`key=${API_KEY}`);

    const row = await eventually(() => exported(tp).find((e) => e.status === 101) ?? Promise.reject(new Error('not recorded yet')));
    expect(row).toMatchObject({
      api: 'gemini.live', provider: 'gemini', model: 'gemini-live-2.5-flash-preview', outcome: 'completed',
      usage: { input_tokens: 155, output_tokens: 23, reasoning_tokens: 4 },
    });
    expect(row.response?.text).toBe(LIVE_ANSWER);
    expect(row.response?.tool_calls).toEqual([{ id: 'fc_live_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    // Each model turn priced on its own (it re-read the context), at the Live model's rates.
    const turn = (input: number, output: number) => calcPrice({ input_tokens: input, output_tokens: output }, 'gemini-live-2.5-flash', { providerId: 'google', timestamp: new Date(Date.parse(row.started_at)) })!.total_price;
    expect(row.cost_usd).toBeCloseTo(turn(60, 9) + turn(95, 18), 12);
    expect(row.path).toMatch(/BidiGenerateContent\?key=(?!AIza)/);
    // The message log keeps the server's frames as sent: binary.
    expect(new Set(row.websocket?.messages.filter((m) => m.direction === 'server' && m.opcode !== 8).map((m) => m.opcode))).toEqual(new Set([2]));

    // `show` reads the session turn by turn: the tool call, then the answer after the tool's result.
    const shown = JSON.parse((await promisify(execFile)(process.execPath, [resolve('dist/cli/main.js'), '--home', tp.home, 'show', row.id, '--json'])).stdout) as { session: { turns: number }; threads: Array<{ turns: Array<{ answer: { text: string; toolCalls: unknown[] } }> }> };
    expect(shown.session.turns).toBe(2);
    expect(shown.threads[0]!.turns.map((t) => [t.answer.text, t.answer.toolCalls.length])).toEqual([['', 1], [LIVE_ANSWER, 0]]);

    expect(findSecrets({ key: API_KEY }, haystacks(tp, log.text()))).toEqual([]);
    expect(readFileSync(paths(tp.home).archive).includes(API_KEY)).toBe(false);
  });
});
