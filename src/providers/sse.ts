import { createParser } from 'eventsource-parser';

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
  let lastChar = '';
  let ended = false;

  const feed = (text: string): void => {
    if (text === '') return;
    lastChar = text.charAt(text.length - 1);
    parser.feed(text);
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
      // A trailing CR may be the first half of CRLF, so the parser holds it back. At
      // end of body it is a complete line terminator; an LF after it means the same
      // thing (CRLF is one terminator) and lets the parser act on it.
      if (lastChar === '\r') parser.feed('\n');
    },
  };
}

/** True for a Content-Type of text/event-stream, whatever its parameters. */
export function isEventStream(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mediaType = contentType.split(';')[0] ?? '';
  return mediaType.trim().toLowerCase() === 'text/event-stream';
}
