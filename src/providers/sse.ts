import { createParser } from 'eventsource-parser';
import type { Reassembled } from '../exchange.js';
import { asObject, parseJson, type JsonObject } from './json.js';
import type { ResponseReducer } from './types.js';
import { mediaType } from './media-type.js';

/** One dispatched server-sent event; `event` is absent when the server named none. */
export interface SseEvent {
  event?: string;
  data: string;
}

export interface SseReader {
  push(chunk: Buffer): void;
  /** Call once at end of body; later pushes are ignored. */
  end(): void;
}

/**
 * Turns response bytes, split anywhere by the network, into SSE events.
 *
 * Bytes go through a streaming UTF-8 decoder first, so a chunk boundary inside a
 * multi-byte character only delays that character; eventsource-parser then keeps
 * any partial line until its terminator arrives. Together the events seen never
 * depend on where the body was split.
 *
 * At end of body an event still waiting for its terminating blank line is dropped,
 * as the SSE spec says ("incomplete event"); providers always end their last event
 * with a blank line, so only a cut-off stream loses anything.
 *
 * `onEvent` must not throw: the parser is mid-chunk when it calls back and a thrown
 * error would lose the rest of that chunk.
 */
export function createSseReader(onEvent: (event: SseEvent) => void): SseReader {
  // Not fatal: a provider's stray invalid byte becomes U+FFFD instead of ending the
  // recording. The decoder drops a leading BOM by default, as SSE requires.
  const decoder = new TextDecoder('utf-8');
  const parser = createParser({
    onEvent: (message) => onEvent(message.event === undefined ? { data: message.data } : { event: message.event, data: message.data }),
  });
  let heldCR = false;
  let ended = false;

  // A CR at the end of a piece may be the first half of CRLF. The parser would hold it
  // back itself but then misreads a following CR (CR CR is two line ends), so it is held
  // here instead and the parser never sees a piece that ends in CR.
  const feed = (text: string): void => {
    if (heldCR) {
      text = `\r${text}`;
      heldCR = false;
    }
    if (text.endsWith('\r')) {
      heldCR = true;
      text = text.slice(0, -1);
    }
    if (text !== '') parser.feed(text);
  };

  return {
    push(chunk) {
      if (ended) return;
      feed(decoder.decode(chunk, { stream: true }));
    },
    end() {
      if (ended) return;
      ended = true;
      feed(decoder.decode());
      // At end of body a held CR is a complete line end; CRLF means the same and the
      // parser acts on it at once.
      if (heldCR) parser.feed('\r\n');
    },
  };
}

/** True for a Content-Type of text/event-stream, whatever its parameters. */
export function isEventStream(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'text/event-stream';
}

/**
 * OpenAI's stream framing (Chat Completions, text Completions, and the APIs that copy
 * them): unnamed `data:` events, each one JSON chunk for `add`, ended by `data: [DONE]`;
 * anything after it is not part of this answer (nothing is sent in practice). `result`
 * gets the number of events seen.
 */
export function doneTerminatedReducer(add: (chunk: JsonObject) => void, result: (events: number) => Reassembled): ResponseReducer {
  let events = 0;
  let done = false;
  const reader = createSseReader(({ data }) => {
    events++;
    if (done) return;
    if (data.trim() === '[DONE]') {
      done = true;
      return;
    }
    const chunk = asObject(parseJson(data));
    if (chunk) add(chunk);
  });
  return {
    push: (chunk) => reader.push(chunk),
    finish() {
      reader.end();
      return result(events);
    },
  };
}

/**
 * Typed-event streams (Anthropic Messages, Cohere Chat v2): each event's JSON payload for
 * `add`, with its type — the payload's own `type`, which repeats the event name; the
 * `event:` line is the fallback. `result` gets the number of events seen.
 */
export function typedEventReducer(add: (type: string, payload: JsonObject) => void, result: (events: number) => Reassembled): ResponseReducer {
  let events = 0;
  const reader = createSseReader(({ event, data }) => {
    events++;
    const payload = asObject(parseJson(data));
    if (payload) add(typeof payload.type === 'string' ? payload.type : (event ?? ''), payload);
  });
  return {
    push: (chunk) => reader.push(chunk),
    finish() {
      reader.end();
      return result(events);
    },
  };
}
