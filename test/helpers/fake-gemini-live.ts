/**
 * Answers a WebSocket like Google's Gemini Live API (BidiGenerateContent), as its wire
 * format is documented: `setup` → `setupComplete`; a `clientContent` turn asking about
 * the weather → a `toolCall` with its usage snapshot; the `toolResponse` → `serverContent`
 * chunks of text, `generationComplete`, then `turnComplete` with the turn's usage. Every
 * server message goes out as a binary frame of JSON text, as Google's server sends them.
 * For startFakeWs({ serve: serveGeminiLive }).
 */
import type { WebSocket } from 'ws';

export const LIVE_ANSWER = 'It is sunny in Paris — 22 °C.';

/** The usage snapshot of each model turn: the second re-reads the session's context. */
export const LIVE_USAGE = [
  { promptTokenCount: 60, responseTokenCount: 9, totalTokenCount: 69, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 60 }], responseTokensDetails: [{ modality: 'TEXT', tokenCount: 9 }] },
  { promptTokenCount: 95, responseTokenCount: 14, thoughtsTokenCount: 4, totalTokenCount: 113, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 95 }], responseTokensDetails: [{ modality: 'TEXT', tokenCount: 14 }] },
];

export function serveGeminiLive(ws: WebSocket): void {
  const send = (message: unknown): void => ws.send(Buffer.from(JSON.stringify(message)), { binary: true });
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as Record<string, unknown>;
    if (message.setup) return send({ setupComplete: {} });
    if (message.clientContent) {
      send({ toolCall: { functionCalls: [{ id: 'fc_live_1', name: 'get_weather', args: { city: 'Paris' } }] } });
      return send({ usageMetadata: LIVE_USAGE[0] });
    }
    if (message.toolResponse) {
      send({ serverContent: { modelTurn: { parts: [{ text: 'The tool says sunny', thought: true }] } } });
      for (const piece of LIVE_ANSWER.split(/(?<= )/)) send({ serverContent: { modelTurn: { parts: [{ text: piece }] } } });
      send({ serverContent: { generationComplete: true } });
      send({ serverContent: { turnComplete: true }, usageMetadata: LIVE_USAGE[1] });
    }
  });
}
