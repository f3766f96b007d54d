import type { Reassembled, ToolCall, Usage } from '../exchange.js';
import { asObject, readModelAndStream, wholeJsonReducer, type JsonObject } from './json.js';
import { isEventStream, typedEventReducer } from './sse.js';
import type { ProviderParser, ResponseReducer } from './types.js';

/**
 * Cohere's Chat API v2 (POST /v2/chat), which the official `cohere` SDKs speak. A plain
 * answer is `{id, finish_reason, message: {content, tool_plan, tool_calls, citations},
 * usage}`; a streamed one (`stream: true`) is named SSE events: message-start,
 * content-start/delta/end (`delta.message.content.text`, or `.thinking` for a reasoning
 * model), tool-plan-delta, tool-call-start/delta/end, citation-start/end and message-end
 * (`delta.finish_reason`, `delta.usage`, `delta.error`). The answer names no model: the
 * request's is the one recorded. The tool plan (the model's words on what it will call
 * and why, before the calls) is recorded as thinking, after any thinking blocks.
 */
export const cohereChat: ProviderParser = {
  parseRequest: readModelAndStream,
  createReducer: (contentType) => (isEventStream(contentType) ? createStreamReducer() : wholeJsonReducer((body) => {
    const acc = new CohereAccumulator();
    if (body) acc.addMessage(body);
    return acc.result(0);
  })),
};

function createStreamReducer(): ResponseReducer {
  const acc = new CohereAccumulator();
  return typedEventReducer((type, payload) => acc.addEvent(type, payload), (events) => acc.result(events));
}

interface PendingCall {
  id?: string;
  name: string;
  arguments: string;
}

class CohereAccumulator {
  /** Content blocks by index: text and thinking, in the order the model wrote them. */
  private readonly content = new Map<number, { kind: 'text' | 'thinking'; text: string }>();
  /** Tool calls by their own index (Cohere numbers them apart from content blocks). */
  private readonly calls = new Map<number, PendingCall>();
  private toolPlan = '';
  private stopReason: string | undefined;
  private usage: Usage | undefined;
  private failed = false;
  private lastContent = -1;
  private lastCall = -1;

  addMessage(answer: JsonObject): void {
    const message = asObject(answer.message);
    if (message) {
      if (Array.isArray(message.content)) {
        message.content.forEach((raw, index) => {
          const block = asObject(raw);
          if (block) this.startContent(index, block);
        });
      }
      if (typeof message.tool_plan === 'string') this.toolPlan = message.tool_plan;
      if (Array.isArray(message.tool_calls)) {
        message.tool_calls.forEach((raw, index) => {
          const call = asObject(raw);
          if (call) this.startCall(index, call);
        });
      }
    }
    this.end(answer.finish_reason, answer.usage, undefined);
  }

  addEvent(type: string, payload: JsonObject): void {
    const message = asObject(asObject(payload.delta)?.message);
    switch (type) {
      case 'content-start': {
        const block = asObject(message?.content);
        if (block) this.startContent(eventIndex(payload, this.lastContent + 1), block);
        break;
      }
      case 'content-delta': {
        const piece = asObject(message?.content);
        if (piece) this.appendContent(eventIndex(payload, Math.max(this.lastContent, 0)), piece);
        break;
      }
      case 'tool-plan-delta':
        if (typeof message?.tool_plan === 'string') this.toolPlan += message.tool_plan;
        break;
      case 'tool-call-start': {
        const call = asObject(message?.tool_calls);
        if (call) this.startCall(eventIndex(payload, this.lastCall + 1), call);
        break;
      }
      case 'tool-call-delta': {
        const piece = asObject(asObject(message?.tool_calls)?.function)?.arguments;
        const index = eventIndex(payload, Math.max(this.lastCall, 0));
        if (typeof piece !== 'string') break;
        // A capture cut in front of its tool-call-start still keeps the arguments.
        const call = this.calls.get(index) ?? { name: '', arguments: '' };
        call.arguments += piece;
        this.calls.set(index, call);
        break;
      }
      case 'message-end': {
        const delta = asObject(payload.delta);
        if (delta) this.end(delta.finish_reason, delta.usage, delta.error);
        break;
      }
      // message-start holds an empty message; content-end, tool-call-end and citations add nothing we keep.
      default:
        break;
    }
  }

  private startContent(index: number, block: JsonObject): void {
    this.lastContent = index;
    if (block.type === 'thinking') this.content.set(index, { kind: 'thinking', text: typeof block.thinking === 'string' ? block.thinking : '' });
    else if (block.type === 'text' || block.type === undefined) this.content.set(index, { kind: 'text', text: typeof block.text === 'string' ? block.text : '' });
  }

  private appendContent(index: number, piece: JsonObject): void {
    let block = this.content.get(index);
    if (!block) {
      // The start was lost (a cut capture): the delta's own field says what the block is.
      block = { kind: typeof piece.thinking === 'string' ? 'thinking' : 'text', text: '' };
      this.content.set(index, block);
    }
    const text = block.kind === 'thinking' ? piece.thinking : piece.text;
    if (typeof text === 'string') block.text += text;
  }

  private startCall(index: number, call: JsonObject): void {
    this.lastCall = index;
    const fn = asObject(call.function);
    const args = fn?.arguments;
    const started: PendingCall = { name: typeof fn?.name === 'string' ? fn.name : '', arguments: typeof args === 'string' ? args : args === undefined ? '' : JSON.stringify(args) };
    if (typeof call.id === 'string' && call.id !== '') started.id = call.id;
    this.calls.set(index, started);
  }

  /** The answer's end: why it stopped, what it used, and whether Cohere ended it with its own error. */
  private end(finishReason: unknown, usage: unknown, error: unknown): void {
    if (typeof finishReason === 'string' && finishReason !== '') this.stopReason = finishReason;
    // finish_reason ERROR (or an `error` beside another reason) is Cohere's own failure
    // inside the 200, which the SDKs raise: recorded, never replayed from the cache.
    if (this.stopReason === 'ERROR' || (typeof error === 'string' && error !== '')) {
      this.failed = true;
      this.stopReason ??= 'error';
    }
    const read = readCohereUsage(asObject(usage));
    if (read) this.usage = read;
  }

  result(events: number): Reassembled {
    let text = '';
    const thoughts: string[] = [];
    for (const [, block] of [...this.content.entries()].sort(([a], [b]) => a - b)) {
      if (block.kind === 'text') text += block.text;
      else if (block.text !== '') thoughts.push(block.text);
    }
    if (this.toolPlan !== '') thoughts.push(this.toolPlan);
    const toolCalls: ToolCall[] = [...this.calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => {
      const call: ToolCall = { name: c.name, arguments: c.arguments === '' ? '{}' : c.arguments };
      return c.id === undefined ? call : { id: c.id, ...call };
    });
    const result: Reassembled = { text, toolCalls, events };
    if (thoughts.length > 0) result.thinking = thoughts.join('\n\n');
    if (this.usage) result.usage = { ...this.usage };
    if (this.stopReason !== undefined) result.stopReason = this.stopReason;
    if (this.failed) result.failed = true;
    return result;
  }
}

/**
 * Cohere reports two counts: `billed_units` (what the account is charged for) and
 * `tokens` (what the model read and wrote, including the prompt template and
 * special tokens Cohere wraps around the messages, which it does not charge for —
 * so `tokens.input_tokens` is often many times `billed_units.input_tokens`). The cost
 * must be what Cohere bills, so billed_units are the recorded usage (as the price
 * package's own Cohere extractor reads `usage.billed_units`); tokens only stand in
 * for an answer without billed_units. Chat v1 reports the same two in its `meta`.
 */
export function readCohereUsage(usage: JsonObject | undefined): Usage | undefined {
  if (!usage) return undefined;
  const billed = countsOf(asObject(usage.billed_units));
  return billed ?? countsOf(asObject(usage.tokens));
}

function countsOf(raw: JsonObject | undefined): Usage | undefined {
  if (!raw) return undefined;
  const usage: Usage = {};
  if (typeof raw.input_tokens === 'number' && Number.isFinite(raw.input_tokens)) usage.inputTokens = raw.input_tokens;
  if (typeof raw.output_tokens === 'number' && Number.isFinite(raw.output_tokens)) usage.outputTokens = raw.output_tokens;
  return Object.keys(usage).length > 0 ? usage : undefined;
}

/** The index an event names; a missing one means the next (start) or current (delta) block. */
function eventIndex(payload: JsonObject, fallback: number): number {
  return typeof payload.index === 'number' && Number.isInteger(payload.index) ? payload.index : fallback;
}
