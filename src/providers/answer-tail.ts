import type { Reassembled } from '../exchange.js';
import { framedTailStart } from './framed-tail.js';
import { usageFromJsonTail } from './json-tail.js';
import { isEventStream } from './sse.js';
import type { ProviderParser } from './types.js';
import { mediaType } from './media-type.js';

/**
 * An answer cut at the capture limit, read again with the last bytes of its body (the
 * capture's tail): its usage comes at the end (a stream's last event, a JSON answer's
 * `usage` after its content), so the head alone records it without tokens or cost.
 * `tail` must be the decoded body's last bytes (a compressed tail cannot be decoded alone:
 * BodyCapture decodes the whole body for it); `head` is what the reducer made of the kept head.
 *
 * The text, thinking and tool calls stay the head's: the tail's pieces follow a gap, and
 * joined to the head they would make a text (or a tool call's arguments) that was never sent.
 */
export function completeFromTail(parser: ProviderParser, contentType: string | undefined, head: Reassembled, tail: Buffer): Reassembled {
  if (isEventStream(contentType)) {
    // Always: a stream's last events carry its final usage and stop reason, where the head
    // may hold only a running count (Gemini's) or the opening's (Anthropic's message_start).
    const start = eventStart(tail);
    const reducer = parser.createReducer(contentType);
    if (start >= 0) reducer.push(tail.subarray(start));
    const end = reducer.finish();
    const merged = withTail(head, end);
    // A last event larger than the tail (a streamed image's completion, a long Responses
    // `response.completed`) is cut in it: its usage, at its end, is read as a JSON answer's.
    return end.usage ? merged : withTail(merged, jsonTailReading(parser, tail));
  }
  // Bedrock's eventstream, Ollama's and Cohere's lines: their last frame or line carries the final
  // counts and stop reason (a running or partial count may be all the head has).
  const framed = framedTailStart(contentType, tail);
  if (framed !== undefined) {
    if (framed < 0) return head;
    const reducer = parser.createReducer(contentType);
    reducer.push(tail.subarray(framed));
    return withTail(head, reducer.finish());
  }
  if (head.usage || !isJson(contentType)) return head;
  return withTail(head, jsonTailReading(parser, tail));
}

/** The provider's own reading of a body holding just the usage object (and model) found in the tail. */
function jsonTailReading(parser: ProviderParser, tail: Buffer): Reassembled | undefined {
  const synthetic = usageFromJsonTail(tail.toString('utf8'));
  if (synthetic === undefined) return undefined;
  const reducer = parser.createReducer('application/json');
  reducer.push(Buffer.from(synthetic));
  return reducer.finish();
}

/**
 * The reading of the end laid over the head's: its usage fields replace the head's (the
 * last report is the total; Anthropic's message_delta adds the output to message_start's
 * input), its stop reason and failure are how the answer ended.
 */
function withTail(head: Reassembled, end: Reassembled | undefined): Reassembled {
  if (!end) return head;
  const out: Reassembled = { ...head };
  if (end.usage) {
    out.usage = { ...head.usage, ...end.usage };
    if (end.usagePartial) out.usagePartial = true;
    else delete out.usagePartial;
  }
  if (end.stopReason !== undefined) out.stopReason = end.stopReason;
  if (end.failed) out.failed = true;
  if (out.model === undefined && end.model !== undefined) out.model = end.model;
  return out;
}

/**
 * Where the first whole event of a tail begins: after its first blank line (the tail starts
 * anywhere, mid-event or mid-character). -1 when it holds none.
 */
export function eventStart(tail: Buffer): number {
  const candidates = [tail.indexOf('\n\n'), tail.indexOf('\r\n\r\n'), tail.indexOf('\r\r')];
  let best = -1;
  let length = 0;
  candidates.forEach((at, i) => {
    if (at >= 0 && (best < 0 || at < best)) {
      best = at;
      length = i === 1 ? 4 : 2;
    }
  });
  return best < 0 ? -1 : best + length;
}

/** A JSON media type (application/json, application/problem+json…): a tail can be searched for its usage key. */
function isJson(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === 'application/json' || type.endsWith('+json');
}
