/**
 * The seam where a WebSocket session's messages become meaning (model, text, tool
 * calls, usage). Responses-over-WebSocket and Realtime carry the same `response.*`
 * events their SSE forms do, so their reducers plug in here, keyed by API.
 *
 * For now every API gets the trivial reducer: it only counts the server's JSON events.
 */
import type { ApiKind, Reassembled } from '../exchange.js';
import type { Direction } from './messages.js';

/** One text message of a session, in wire order across both directions. */
export interface WsTextMessage {
  direction: Direction;
  text: string;
}

/** Fed a session's text messages in order as they complete; finish() once the session ends. */
export interface WsReducer {
  push(message: WsTextMessage): void;
  finish(): Reassembled | undefined;
}

export function createWsReducer(api: ApiKind | undefined): WsReducer {
  switch (api) {
    // 'responses' and 'realtime' get the Responses event reducer here once it exists.
    default:
      return countingReducer();
  }
}

/** Reduces the ordered text messages of a session in one call (tests, re-reading an archive). */
export function reduceWebSocketMessages(api: ApiKind | undefined, messages: Iterable<WsTextMessage>): Reassembled | undefined {
  const reducer = createWsReducer(api);
  for (const message of messages) reducer.push(message);
  return reducer.finish();
}

function countingReducer(): WsReducer {
  let events = 0;
  return {
    push(message) {
      if (message.direction === 'server' && message.text.startsWith('{')) events++;
    },
    finish: () => (events > 0 ? { text: '', toolCalls: [], events } : undefined),
  };
}
