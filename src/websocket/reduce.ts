/**
 * The seam where a WebSocket session's messages become meaning (model, text, tool
 * calls, usage). Responses-over-WebSocket and Realtime carry the same `response.*`
 * events their SSE forms do, so their reducers plug in here, keyed by API.
 *
 * A session carries one response per `response.create`; each is folded by its own
 * Responses reducer (output indexes restart at 0 per response) and the session's
 * result joins them: text and thinking in order, every tool call, usage summed.
 * Other APIs get the trivial reducer, which only counts the server's JSON events.
 */
import type { ApiKind, Exchange, Reassembled, ResponsePart, WsMessageRecord } from '../exchange.js';
import { asObject, parseJson } from '../providers/json.js';
import { createResponsesEventReducer, type ResponsesEventReducer } from '../providers/responses-events.js';
import { sumUsage } from '../providers/usage-totals.js';
import { liveReducer } from './gemini-live.js';
import { OPCODES, type Direction } from './messages.js';

/** One text message of a session, in wire order across both directions. */
export interface WsTextMessage {
  direction: Direction;
  text: string;
  /** Cut at the capture limit (a request is then known by its prefix: readRequest). */
  truncated?: boolean;
}

/** Fed a session's text messages in order as they complete; finish() once the session ends. */
export interface WsReducer {
  push(message: WsTextMessage): void;
  /** A close frame's payload (status code and reason), whole as captured, in its place among the messages. */
  close?(direction: Direction, payload: Buffer): void;
  finish(): Reassembled | undefined;
}

/**
 * `onResponse`: each response as it ends (its model and usage, and all of it read so far),
 * while the session goes on (budgets charge it then).
 */
export function createWsReducer(api: ApiKind | undefined, onResponse?: (part: ResponsePart, whole: Reassembled) => void): WsReducer {
  switch (api) {
    case 'responses':
    case 'realtime':
      return responsesReducer({ onResponse });
    case 'gemini.live':
      return liveReducer(onResponse);
    default:
      return countingReducer();
  }
}

/**
 * The text a reducer reads in a message's payload: a text message's, and for Gemini Live
 * a binary one's too when it holds JSON (its server sends every message as a binary frame
 * of JSON text). The capture keeps such a message as binary, byte for byte.
 */
export function wsPayloadText(api: ApiKind | undefined, opcode: number, data: Buffer): string | undefined {
  if (opcode === OPCODES.text) return data.toString('utf8');
  if (opcode !== OPCODES.binary || api !== 'gemini.live' || data[0] !== 0x7b) return undefined;
  try {
    return JSON_TEXT.decode(data);
  } catch {
    return undefined;
  }
}

/** Refuses bytes that are not UTF-8 (a binary frame of audio is not text). */
const JSON_TEXT = new TextDecoder('utf-8', { fatal: true });

/** A session that ended: its capture and what its messages meant go on the Exchange (relayed or replayed alike). */
export function settleWebSocket(ex: Exchange, capture: NonNullable<Exchange['websocket']>, reducer: WsReducer): void {
  ex.websocket = capture;
  const reassembled = reducer.finish();
  if (reassembled && ex.response) {
    ex.response.reassembled = reassembled;
    ex.usage = reassembled.usage;
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

/** The model a client's `response.create` names: Responses over WebSocket puts it on the event itself (or in its `response`). */
export function requestedModelOf(event: Record<string, unknown>): string | undefined {
  if (event.type !== 'response.create') return undefined;
  const model = event.model ?? asObject(event.response)?.model;
  return typeof model === 'string' && model !== '' ? model : undefined;
}

/**
 * A client's `response.create` and the model it names (on the event, or in its
 * `response`); undefined for any other message. A message cut at the capture limit
 * cannot be parsed whole: its prefix is searched for the type and model instead (clients
 * write them first), and its fields are not read.
 */
export function readRequest(message: Pick<WsMessageRecord, 'text' | 'truncated'>): { model?: string; event: Record<string, unknown> } | undefined {
  const text = message.text;
  if (text === undefined || !text.startsWith('{')) return undefined;
  if (!message.truncated) {
    const event = asObject(parseJson(text));
    return event && event.type === 'response.create' ? { model: requestedModelOf(event), event } : undefined;
  }
  if (!/"type"\s*:\s*"response\.create"/.test(text)) return undefined;
  const found = /"model"\s*:\s*"((?:[^"\\]|\\.)+)"/.exec(text);
  return { model: found ? (parseJson(`"${found[1]}"`) as string | undefined) : undefined, event: {} };
}

/** One request of a recorded Responses session: its `response.create`, and the response that answered it. */
export interface RecordedRequest {
  model?: string;
  event: Record<string, unknown>;
  /** When it was sent (epoch ms), when the message log says. */
  at?: number;
  /** The response that answered it (its model: the response's, else the one asked for); absent when none did. */
  answer?: Reassembled;
  /** When that response ended (epoch ms), when the message log says. */
  answeredAt?: number;
  /** The code of a server `error` event that came while it had no answer (a policy refusal: `model_not_allowed`). */
  refusedWith?: string;
}

/**
 * A recorded Responses session's requests in wire order, each with the response that
 * answered it: the latest request sent before a response ended (Codex asks one at a time;
 * a request refused with an error event keeps no answer). `policy test` replays a Codex
 * session request by request with these.
 */
export function recordedRequests(messages: Iterable<{ direction: Direction; text: string | null; truncated: boolean | number; at?: number }>): RecordedRequest[] {
  const requests: RecordedRequest[] = [];
  let at: number | undefined;
  const unanswered = (): RecordedRequest | undefined => {
    const latest = requests[requests.length - 1];
    return latest && !latest.answer ? latest : undefined;
  };
  // The session's own reducer reads each message once; its hooks pair requests with what came back.
  const reducer = responsesReducer({
    onRequest: (request) => requests.push(at === undefined ? request : { ...request, at }),
    onResponse: (part, whole) => {
      const latest = unanswered();
      if (!latest) return;
      latest.answer = { ...whole, ...(part.model !== undefined ? { model: part.model } : {}) };
      if (at !== undefined) latest.answeredAt = at;
    },
    onError: (code) => {
      const latest = unanswered();
      if (latest) latest.refusedWith ??= code;
    },
  });
  for (const m of messages) {
    if (m.text === null) continue;
    at = m.at;
    reducer.push({ direction: m.direction, text: m.text, truncated: Boolean(m.truncated) });
  }
  return requests;
}

/**
 * Realtime names some events differently from Responses (beta and GA spellings);
 * everything else (response.created, output items, function-call arguments) is shared.
 */
const REALTIME_TYPES: Readonly<Record<string, string>> = {
  'response.text.delta': 'response.output_text.delta',
  'response.text.done': 'response.output_text.done',
  'response.audio_transcript.delta': 'response.output_text.delta',
  'response.audio_transcript.done': 'response.output_text.done',
  'response.output_audio_transcript.delta': 'response.output_text.delta',
  'response.output_audio_transcript.done': 'response.output_text.done',
  'response.done': 'response.completed',
};

/** The events that end a response (Realtime's response.done is read as response.completed). */
const RESPONSE_ENDS: ReadonlySet<string> = new Set(['response.completed', 'response.failed', 'response.incomplete']);

/** What a Responses session's reducer tells as it reads: each request, each response as it ends, each `error` event. */
interface ResponsesHooks {
  onRequest?: (request: { model?: string; event: Record<string, unknown> }) => void;
  onResponse?: (part: ResponsePart, whole: Reassembled) => void;
  onError?: (code: string) => void;
}

function responsesReducer({ onRequest, onResponse, onError }: ResponsesHooks = {}): WsReducer {
  const finished: Reassembled[] = [];
  let current: ResponsesEventReducer | undefined;
  let requestedModel: string | undefined;
  let events = 0;
  let requests = 0;
  const close = (): void => {
    if (current) finished.push(current.result());
    current = undefined;
  };
  return {
    push(message) {
      if (!message.text.startsWith('{')) return;
      if (message.direction === 'client') {
        // Read as the policy screen and `show` read it: a request cut at the capture limit still counts.
        const request = readRequest({ text: message.text, truncated: message.truncated ?? false });
        if (!request) return;
        requests++;
        requestedModel = request.model ?? requestedModel;
        onRequest?.(request);
        return;
      }
      let event: Record<string, unknown> | undefined;
      try {
        event = asObject(JSON.parse(message.text));
      } catch {
        return;
      }
      if (!event || typeof event.type !== 'string') return;
      events++;
      if (event.type === 'error' && onError) {
        const error = asObject(event.error);
        const code = error?.code ?? event.code ?? error?.type;
        onError(typeof code === 'string' && code !== '' ? code : 'error');
      }
      if (event.type === 'response.created') close();
      const type = REALTIME_TYPES[event.type];
      if (type) event = { ...event, type, response: realtimeResponse(event.response) };
      current ??= createResponsesEventReducer();
      current.add(event);
      if (onResponse && RESPONSE_ENDS.has(event.type as string)) {
        const done = current.result();
        onResponse({ model: done.model ?? requestedModel, usage: done.usage }, done);
      }
    },
    finish() {
      close();
      const asked = requests > 0 ? { requests } : {};
      if (finished.length === 0) return events > 0 || requests > 0 ? { text: '', toolCalls: [], events, ...(requestedModel ? { model: requestedModel } : {}), ...asked } : undefined;
      return { ...joinResponses(finished, requestedModel, events), ...asked };
    },
  };
}

/** Realtime's usage says input_token_details and output_token_details; Responses says input_tokens_details, output_tokens_details. */
function realtimeResponse(raw: unknown): unknown {
  const response = asObject(raw);
  const usage = asObject(response?.usage);
  if (!response || !usage) return raw;
  const renamed = { ...usage };
  if (usage.input_tokens_details === undefined && usage.input_token_details !== undefined) renamed.input_tokens_details = usage.input_token_details;
  if (usage.output_tokens_details === undefined && usage.output_token_details !== undefined) renamed.output_tokens_details = usage.output_token_details;
  return { ...response, usage: renamed };
}

function joinResponses(parts: readonly Reassembled[], requestedModel: string | undefined, events: number): Reassembled {
  const texts = parts.map((p) => p.text).filter((t) => t !== '');
  const thinking = parts.map((p) => p.thinking).filter((t): t is string => t !== undefined && t !== '');
  const out: Reassembled = { text: texts.join('\n\n'), toolCalls: parts.flatMap((p) => p.toolCalls), events };
  const model = [...parts].reverse().find((p) => p.model)?.model ?? requestedModel;
  if (model !== undefined) out.model = model;
  if (thinking.length > 0) out.thinking = thinking.join('\n\n');
  const usage = sumUsage(parts.map((p) => p.usage));
  if (usage) out.usage = usage;
  // Kept per response for the price: a session may switch models between responses.
  out.responses = parts.map((p) => ({ model: p.model ?? requestedModel, usage: p.usage }));
  const stop = [...parts].reverse().find((p) => p.stopReason)?.stopReason;
  if (stop !== undefined) out.stopReason = stop;
  return out;
}
