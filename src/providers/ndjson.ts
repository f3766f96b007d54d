import { parseJson } from './json.js';
import { mediaType } from './media-type.js';

export interface NdjsonReader {
  push(chunk: Buffer): void;
  /** Call once at end of body: a last line without its newline still counts. */
  end(): void;
}

/**
 * Newline-delimited JSON (application/x-ndjson, Ollama's streams): one value per line.
 * Bytes go through a streaming UTF-8 decoder and partial lines are held until their
 * newline, so the values seen never depend on how the body was split. Blank lines are
 * skipped; a line that is not JSON is passed on as undefined (and counted by callers).
 */
export function createNdjsonReader(onValue: (value: unknown) => void): NdjsonReader {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let ended = false;
  const emit = (line: string): void => {
    if (line.trim() !== '') onValue(parseJson(line.trim()));
  };
  const feed = (text: string): void => {
    pending += text;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      emit(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  };
  return {
    push(chunk) {
      if (!ended) feed(decoder.decode(chunk, { stream: true }));
    },
    end() {
      if (ended) return;
      ended = true;
      feed(decoder.decode());
      emit(pending);
      pending = '';
    },
  };
}

/** True for application/x-ndjson (and the rarer application/jsonl spellings). */
export function isNdjson(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl' || type === 'application/x-jsonlines';
}
