import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import type { ExchangeRow, WsMessageRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { threadTurns } from '../../src/sessions/turns.js';
import { liveSessionTurns } from '../../src/sessions/live-turns.js';

/**
 * A Gemini Live session is one exchange in the archive; read back (`show`, the UI), each
 * model turn in its message log is a turn of its own: what the user said before it, the
 * answer, its tokens, its share of the cost. The server's messages are binary frames.
 */
const T0 = Date.UTC(2026, 11, 6, 12);

function session(over: Partial<ExchangeRow> = {}): ExchangeRow {
  const ex = makeExchange({ id: 'live-1', provider: 'gemini', api: 'gemini.live', request: { method: 'GET', path: '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=[REDACTED]' }, timings: { start: T0, end: T0 + 60_000 } });
  return { ...exchangeToRow(ex), status: 101, outcome: 'completed', model: 'gemini-live-2.5-flash-preview', thread_id: 't', turn: 1, cost_usd: 0.01, ...over };
}

let seq = 0;
const client = (ms: number, body: unknown): WsMessageRow => {
  const text = JSON.stringify(body);
  return { exchange_id: 'live-1', seq: seq++, direction: 'client', at: T0 + ms, opcode: 1, size: text.length, compressed: 0, truncated: 0, text, data: null, error: null };
};
const server = (ms: number, body: unknown): WsMessageRow => {
  const data = Buffer.from(JSON.stringify(body));
  return { exchange_id: 'live-1', seq: seq++, direction: 'server', at: T0 + ms, opcode: 2, size: data.length, compressed: 0, truncated: 0, text: null, data, error: null };
};

const LOG = [
  client(0, { setup: { model: 'models/gemini-live-2.5-flash-preview', systemInstruction: { parts: [{ text: 'Answer briefly.' }] }, tools: [{ functionDeclarations: [{ name: 'get_weather' }] }] } }),
  server(50, { setupComplete: {} }),
  client(100, { clientContent: { turns: [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }], turnComplete: true } }),
  server(400, { toolCall: { functionCalls: [{ id: 'fc_1', name: 'get_weather', args: { city: 'Paris' } }] } }),
  server(401, { usageMetadata: { promptTokenCount: 60, responseTokenCount: 9, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 60 }] } }),
  client(600, { toolResponse: { functionResponses: [{ id: 'fc_1', name: 'get_weather', response: { output: 'sunny' } }] } }),
  server(900, { serverContent: { modelTurn: { parts: [{ text: 'Sunny.' }] } } }),
  server(1000, { serverContent: { turnComplete: true }, usageMetadata: { promptTokenCount: 95, cachedContentTokenCount: 40, responseTokenCount: 3, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 95 }] } }),
  client(5000, { realtimeInput: { audio: { data: 'AAAA', mimeType: 'audio/pcm;rate=16000' } } }),
  server(5200, { serverContent: { inputTranscription: { text: 'and tomorrow?' } } }),
  server(5600, { serverContent: { modelTurn: { parts: [{ inlineData: { data: 'AAAA', mimeType: 'audio/pcm' } }] }, outputTranscription: { text: 'Rain.' } } }),
];

describe('a Gemini Live session read turn by turn', () => {
  it('one turn per model turn: what was said before it, the answer, its tokens and time; the last, cut, one too', () => {
    const turns = liveSessionTurns(session(), LOG)!;
    expect(turns.map((t) => [t.startedAt - T0, t.model, t.answer.text, t.answer.stopReason, t.promptTokens, t.cachedTokens, t.outputTokens, t.latencyMs])).toEqual([
      [100, 'gemini-live-2.5-flash-preview', '', 'tool_call', 60, 0, 9, 301],
      [600, 'gemini-live-2.5-flash-preview', 'Sunny.', 'turn_complete', 95, 40, 3, 400],
      [5000, 'gemini-live-2.5-flash-preview', 'Rain.', null, 0, 0, null, null],
    ]);
    expect(turns[0]!.answer.toolCalls).toEqual([{ id: 'fc_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    // The conversation so far, as a Gemini request would carry it: the setup's system prompt and tools, then the turns.
    expect(turns[0]!.conversation).toMatchObject({ system: 'Answer briefly.', tools: ['get_weather'], messages: [{ role: 'user', blocks: [{ type: 'text', text: 'Weather in Paris?' }] }] });
    expect(turns[1]!.conversation?.messages.at(-1)).toMatchObject({ role: 'tool', blocks: [{ type: 'tool_result', id: 'fc_1' }] });
    expect(turns[2]!.conversation?.messages.at(-1)).toEqual({ role: 'user', blocks: [{ type: 'text', text: 'and tomorrow?' }] });
    // The session's cost shared by tokens when no price function is given.
    expect(turns.reduce((sum, t) => sum + (t.costUsd ?? 0), 0)).toBeCloseTo(0.01, 12);
  });

  it('is what threadTurns shows for the session (numbered on from its turn); other rows are not read so', () => {
    const views = threadTurns([session()], { messagesOf: () => LOG });
    expect(views.map((v) => [v.turn, v.answer.text])).toEqual([[1, ''], [2, 'Sunny.'], [3, 'Rain.']]);
    expect(liveSessionTurns(session({ api: 'realtime' }), LOG)).toBeUndefined();
    expect(liveSessionTurns(session({ status: 403 }), LOG)).toBeUndefined();
    expect(liveSessionTurns(session(), [])).toBeUndefined();
  });
});
