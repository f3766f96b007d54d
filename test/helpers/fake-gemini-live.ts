/**
 * Answers a WebSocket like Google's Gemini Live API (BidiGenerateContent), as its wire
 * format is documented: `setup` → `setupComplete`; a `clientContent` turn asking about
 * the weather → a `toolCall` with its usage snapshot; the `toolResponse` → `serverContent`
 * chunks of text, `generationComplete`, then `turnComplete` with the turn's usage. Every
 * server message goes out as a binary frame of JSON text, as Google's server sends them.
 * For startFakeWs({ serve: serveGeminiLive }).
 */
import { GoogleGenAI } from '@google/genai';
import { WebSocket } from 'ws';
import { openTls } from './fake-websocket.js';

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

/**
 * @google/genai's client, its Live WebSocket opened through llmtap (CONNECT to
 * generativelanguage.googleapis.com). The SDK's WebSocket takes no proxy or agent, so its
 * socket factory is swapped for one that opens the same `ws` client over the tunnel:
 * every message on the wire is still the SDK's own.
 */
export function liveThroughProxy(through: { proxyPort: number; fakePort: number; ca: string }, apiKey: string): GoogleGenAI {
  const ai = new GoogleGenAI({ apiKey });
  type Callbacks = { onopen: () => void; onmessage: (e: unknown) => void; onerror: (e: unknown) => void; onclose: (e: unknown) => void };
  (ai.live as unknown as { webSocketFactory: unknown }).webSocketFactory = {
    create(url: string, headers: Record<string, string>, callbacks: Callbacks) {
      let ws: WebSocket | undefined;
      return {
        connect() {
          void openTls({ ...through, host: 'generativelanguage.googleapis.com' }).then((tls) => {
            ws = new WebSocket(url, { headers, createConnection: () => tls });
            ws.onopen = callbacks.onopen;
            ws.onmessage = callbacks.onmessage;
            ws.onerror = callbacks.onerror;
            ws.onclose = callbacks.onclose;
          }, callbacks.onerror);
        },
        send: (message: string) => ws!.send(message),
        close: () => ws!.close(),
      };
    },
  };
  return ai;
}
