import type { Reassembled, ToolCall, Usage } from '../exchange.js';
import { asObject, parseJsonBody, wholeJsonReducer, type JsonObject } from './json.js';
import { createNdjsonReader, isNdjson } from './ndjson.js';
import type { ProviderParser, RequestFacts, ResponseReducer } from './types.js';

/**
 * Ollama's native API: POST /api/chat (`message.content`, `message.thinking`,
 * `message.tool_calls`) and POST /api/generate (`response`, `thinking`). Streaming is
 * the default there: application/x-ndjson, one object per line, the last one with
 * `done: true`, `done_reason`, `prompt_eval_count` (input) and `eval_count` (output).
 * `stream: false` gives that last object alone, with the whole text, as JSON.
 */
export const ollamaNative: ProviderParser = { parseRequest: readOllamaRequest, createReducer: (contentType) => createReducer(contentType) };

function readOllamaRequest(body: Buffer): RequestFacts {
  const request = asObject(parseJsonBody(body));
  if (!request) return {};
  const facts: RequestFacts = {};
  if (typeof request.model === 'string') facts.model = request.model;
  // Unlike OpenAI's, Ollama's API streams unless told not to.
  facts.stream = request.stream !== false;
  return facts;
}

function createReducer(contentType: string | undefined): ResponseReducer {
  if (!isNdjson(contentType)) {
    return wholeJsonReducer((body) => {
      const acc = new OllamaAccumulator();
      if (body) acc.add(body);
      return acc.result(0);
    });
  }
  const acc = new OllamaAccumulator();
  let events = 0;
  const reader = createNdjsonReader((value) => {
    events++;
    const chunk = asObject(value);
    if (chunk) acc.add(chunk, true);
  });
  return {
    push: (chunk) => reader.push(chunk),
    finish() {
      reader.end();
      return acc.result(events);
    },
  };
}

class OllamaAccumulator {
  private model: string | undefined;
  private text = '';
  private thinking = '';
  private stopReason: string | undefined;
  private usage: Usage | undefined;
  private readonly toolCalls: ToolCall[] = [];
  private failed = false;

  /** `streamed`: one line of an NDJSON stream, where `{"error": "…"}` ends an answer already under way (the SDK throws it). */
  add(chunk: JsonObject, streamed = false): void {
    if (streamed && chunk.error !== undefined && chunk.error !== null) {
      this.stopReason = 'error';
      this.failed = true;
      return;
    }
    if (typeof chunk.model === 'string' && chunk.model !== '') this.model ??= chunk.model;
    // /api/generate puts the pieces at the top level, /api/chat inside `message`.
    const message = asObject(chunk.message) ?? chunk;
    const content = message === chunk ? chunk.response : message.content;
    if (typeof content === 'string') this.text += content;
    if (typeof message.thinking === 'string') this.thinking += message.thinking;
    if (Array.isArray(message.tool_calls)) {
      // Ollama sends each call whole (arguments as an object), never in pieces.
      for (const raw of message.tool_calls) {
        const call = asObject(raw);
        const fn = asObject(call?.function);
        if (!call || !fn) continue;
        const args = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {});
        const name = typeof fn.name === 'string' ? fn.name : '';
        this.toolCalls.push(typeof call.id === 'string' && call.id !== '' ? { id: call.id, name, arguments: args } : { name, arguments: args });
      }
    }
    if (chunk.done === true) {
      if (typeof chunk.done_reason === 'string') this.stopReason = chunk.done_reason;
      const usage: Usage = {};
      if (typeof chunk.prompt_eval_count === 'number') usage.inputTokens = chunk.prompt_eval_count;
      if (typeof chunk.eval_count === 'number') usage.outputTokens = chunk.eval_count;
      if (Object.keys(usage).length > 0) this.usage = usage;
    }
  }

  result(events: number): Reassembled {
    const result: Reassembled = { text: this.text, toolCalls: this.toolCalls.map((c) => ({ ...c })), events };
    if (this.model !== undefined) result.model = this.model;
    if (this.thinking !== '') result.thinking = this.thinking;
    if (this.usage) result.usage = { ...this.usage };
    if (this.stopReason !== undefined) result.stopReason = this.stopReason;
    if (this.failed) result.failed = true;
    return result;
  }
}
