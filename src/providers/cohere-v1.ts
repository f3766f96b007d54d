import type { Reassembled, ToolCall, Usage } from '../exchange.js';
import { readCohereUsage } from './cohere.js';
import { asObject, parseJson, readModelAndStream, type JsonObject } from './json.js';
import { createNdjsonReader } from './ndjson.js';
import type { ProviderParser, ResponseReducer } from './types.js';
import { mediaType } from './media-type.js';

/**
 * Cohere's legacy Chat API (POST /v1/chat), which the older `cohere` SDKs (`co.chat(message=…)`)
 * and many integrations still speak. A plain answer is `{text, generation_id, finish_reason,
 * tool_calls, meta}`; a streamed one (`stream: true`) is not SSE but one JSON event a line,
 * named by `event_type`: stream-start, text-generation (`text`), tool-calls-chunk (the tool
 * plan's `text`, or a `tool_call_delta` piece of a call), tool-calls-generation (the plan and
 * the calls whole), citation and search events, and stream-end (`finish_reason`, and
 * `response` holding the whole answer and its `meta`). Usage is `meta.billed_units` as in
 * Chat v2 (cohere.ts). The answer names no model: the request's is the one recorded. As for
 * Chat v2, the tool plan (the words before the calls) is recorded as thinking.
 */
export const cohereChatV1: ProviderParser = {
  parseRequest: readModelAndStream,
  createReducer: (contentType) => (isJsonMediaType(contentType) ? plainReducer() : streamReducer()),
};

/** A v1 call: no id, `parameters` an object once whole, a string piece in a stream's delta. */
interface PendingCall {
  name: string;
  arguments: string;
}

function streamReducer(): ResponseReducer {
  const acc = new CohereV1Accumulator();
  let events = 0;
  const reader = createNdjsonReader((value) => {
    // A line that is not JSON (a cut last line) still counts, as Ollama's streams count it.
    events++;
    const event = asObject(value);
    if (event) acc.addEvent(event);
  });
  return {
    push: (chunk) => reader.push(chunk),
    finish() {
      reader.end();
      return acc.result(events);
    },
  };
}

/**
 * A body labelled JSON is read whole. Should it be the event lines after all (a gateway
 * relabelling the stream), it is not one JSON object, or it is one event: then it is read
 * line by line as the stream it is.
 */
function plainReducer(): ResponseReducer {
  const chunks: Buffer[] = [];
  return {
    push: (chunk) => void chunks.push(chunk),
    finish() {
      const bytes = Buffer.concat(chunks);
      const answer = asObject(parseJson(bytes.toString('utf8')));
      if (answer && typeof answer.event_type !== 'string') {
        const acc = new CohereV1Accumulator();
        acc.addAnswer(answer);
        return acc.result(0);
      }
      const text = bytes.toString('utf8');
      if (!answer && !text.trimStart().startsWith('{"')) return new CohereV1Accumulator().result(0);
      const stream = streamReducer();
      stream.push(bytes);
      return stream.finish();
    },
  };
}

class CohereV1Accumulator {
  private text = '';
  private toolPlan = '';
  /** Calls by index: pieces from tool-calls-chunk deltas, replaced whole by tool-calls-generation. */
  private calls = new Map<number, PendingCall>();
  private stopReason: string | undefined;
  private usage: Usage | undefined;

  /** A plain answer: when it calls tools its `text` is the plan, as a stream's tool-calls-chunk text is. */
  addAnswer(answer: JsonObject): void {
    const calls = Array.isArray(answer.tool_calls) ? answer.tool_calls : [];
    if (typeof answer.text === 'string') {
      if (calls.length > 0) this.toolPlan = answer.text;
      else this.text = answer.text;
    }
    if (calls.length > 0) this.setCalls(calls);
    this.end(answer.finish_reason, answer.meta);
  }

  addEvent(event: JsonObject): void {
    switch (event.event_type) {
      case 'text-generation':
        if (typeof event.text === 'string') this.text += event.text;
        break;
      case 'tool-calls-chunk': {
        const delta = asObject(event.tool_call_delta);
        if (delta) this.addCallPiece(delta);
        else if (typeof event.text === 'string') this.toolPlan += event.text;
        break;
      }
      case 'tool-calls-generation':
        // The plan and the calls whole: what the pieces before it added up to.
        if (typeof event.text === 'string') this.toolPlan = event.text;
        if (Array.isArray(event.tool_calls)) this.setCalls(event.tool_calls);
        break;
      case 'stream-end': {
        const response = asObject(event.response);
        // Nothing streamed as text (a capture that kept only the end): the whole answer's text stands in.
        if (this.text === '' && this.calls.size === 0 && this.toolPlan === '' && typeof response?.text === 'string') this.text = response.text;
        this.end(event.finish_reason ?? response?.finish_reason, response?.meta);
        break;
      }
      // stream-start (the generation id), citation-generation, search-queries-generation, search-results, debug: nothing kept.
      default:
        break;
    }
  }

  private addCallPiece(delta: JsonObject): void {
    const index = typeof delta.index === 'number' && Number.isInteger(delta.index) ? delta.index : Math.max(this.calls.size - 1, 0);
    const call = this.calls.get(index) ?? { name: '', arguments: '' };
    if (typeof delta.name === 'string' && delta.name !== '') call.name = delta.name;
    if (typeof delta.parameters === 'string') call.arguments += delta.parameters;
    this.calls.set(index, call);
  }

  private setCalls(raw: unknown[]): void {
    this.calls = new Map();
    raw.forEach((item, index) => {
      const call = asObject(item);
      if (!call) return;
      const params = call.parameters;
      this.calls.set(index, { name: typeof call.name === 'string' ? call.name : '', arguments: typeof params === 'string' ? params : params === undefined ? '' : JSON.stringify(params) });
    });
  }

  private end(finishReason: unknown, meta: unknown): void {
    if (typeof finishReason === 'string' && finishReason !== '') this.stopReason = finishReason;
    const usage = readCohereUsage(asObject(meta));
    if (usage) this.usage = usage;
  }

  result(events: number): Reassembled {
    const toolCalls: ToolCall[] = [...this.calls.entries()].sort(([a], [b]) => a - b)
      .map(([, c]) => ({ name: c.name, arguments: c.arguments === '' ? '{}' : c.arguments }));
    const result: Reassembled = { text: this.text, toolCalls, events };
    if (this.toolPlan !== '') result.thinking = this.toolPlan;
    if (this.usage) result.usage = { ...this.usage };
    if (this.stopReason !== undefined) result.stopReason = this.stopReason;
    // ERROR (and ERROR_TOXIC, ERROR_LIMIT) is Cohere failing the generation inside the 200:
    // recorded, never replayed from the cache.
    if (this.stopReason?.startsWith('ERROR') === true) result.failed = true;
    return result;
  }
}

/** application/json (any parameters): a plain answer. Anything else (application/stream+json, x-ndjson, none) is the event lines. */
function isJsonMediaType(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'application/json';
}
