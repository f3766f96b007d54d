import type { Reassembled, ToolCall, Usage } from '../exchange.js';
import { asObject, type JsonObject } from './json.js';

/**
 * Folds OpenAI Responses API events into a Reassembled, one parsed event object at
 * a time. The same `response.*` events arrive as SSE (`stream: true`) and as
 * WebSocket messages (Codex's Responses-over-WebSocket), so this reducer knows
 * nothing about framing; a JSON answer is fed as a single `response.completed`.
 *
 * Output items are kept by `output_index`. Deltas build them up as they stream;
 * `*.done` events and `response.output_item.done` replace what the deltas built with
 * the server's final value, and a terminal event carrying a non-empty `output`
 * replaces every item. So a whole stream gives the server's own final answer, and a
 * cut-off stream still gives everything that arrived.
 */
export interface ResponsesEventReducer {
  /** One event (`{type: 'response.output_text.delta', …}`); anything else is counted and ignored. */
  add(event: unknown): void;
  /** Reassembled so far; `events` is the number of events added. */
  result(): Reassembled;
}

interface Item {
  type: string;
  /** Text of each content part (message) or reasoning content part, by content_index. */
  parts: Map<number, string>;
  /** Reasoning summary parts, by summary_index. */
  summary: Map<number, string>;
  callId?: string;
  name?: string;
  /** Function/MCP arguments or custom tool input, as streamed. */
  args: string;
}

/** Item types reported as tool calls, and where their arguments live. */
const CALL_TYPES = new Set(['function_call', 'custom_tool_call', 'mcp_call', 'local_shell_call']);

export function createResponsesEventReducer(): ResponsesEventReducer {
  const items = new Map<number, Item>();
  let events = 0;
  let model: string | undefined;
  let responseId: string | undefined;
  let usage: Usage | undefined;
  let stopReason: string | undefined;
  let failed = false;

  const item = (event: JsonObject, type: string): Item => {
    const index = typeof event.output_index === 'number' ? event.output_index : lastIndex(items);
    let found = items.get(index);
    if (!found) {
      found = { type, parts: new Map(), summary: new Map(), args: '' };
      items.set(index, found);
    }
    return found;
  };

  const readResponse = (response: JsonObject | undefined, terminal: boolean): void => {
    if (!response) return;
    if (typeof response.model === 'string' && response.model !== '') model = response.model;
    if (typeof response.id === 'string' && response.id !== '') responseId = response.id.slice(0, 256);
    const read = readResponsesUsage(asObject(response.usage));
    if (read) usage = read;
    if (!terminal) return;
    if (Array.isArray(response.output) && response.output.length > 0) {
      items.clear();
      response.output.forEach((raw, index) => {
        const out = asObject(raw);
        if (out) items.set(index, itemFrom(out));
      });
    }
    stopReason = stopReasonOf(response);
    if (response.status === 'failed' || response.status === 'cancelled') failed = true;
  };

  return {
    add(raw) {
      events++;
      const event = asObject(raw);
      if (!event || typeof event.type !== 'string') return;
      const delta = typeof event.delta === 'string' ? event.delta : '';
      switch (event.type) {
        case 'response.created':
        case 'response.in_progress':
        case 'response.queued':
          return readResponse(asObject(event.response), false);
        case 'response.completed':
        case 'response.incomplete':
        case 'response.failed':
          return readResponse(asObject(event.response), true);
        case 'error':
          // A stream-level error ends the answer without a terminal response event.
          stopReason = 'error';
          failed = true;
          return;
        case 'response.output_item.added':
        case 'response.output_item.done': {
          const out = asObject(event.item);
          if (!out) return;
          const index = typeof event.output_index === 'number' ? event.output_index : items.size;
          const previous = items.get(index);
          // `added` comes before any delta and carries empty content: keep what streamed.
          if (event.type === 'response.output_item.added' && previous) return;
          items.set(index, previous ? mergeItem(previous, itemFrom(out)) : itemFrom(out));
          return;
        }
        case 'response.output_text.delta':
        case 'response.reasoning_text.delta':
          return appendPart(item(event, event.type === 'response.output_text.delta' ? 'message' : 'reasoning'), event, delta);
        case 'response.output_text.done':
        case 'response.reasoning_text.done':
          if (typeof event.text === 'string') item(event, event.type === 'response.output_text.done' ? 'message' : 'reasoning').parts.set(partIndex(event, 'content_index'), event.text);
          return;
        case 'response.reasoning_summary_text.delta': {
          const it = item(event, 'reasoning');
          const at = partIndex(event, 'summary_index');
          it.summary.set(at, (it.summary.get(at) ?? '') + delta);
          return;
        }
        case 'response.reasoning_summary_text.done':
          if (typeof event.text === 'string') item(event, 'reasoning').summary.set(partIndex(event, 'summary_index'), event.text);
          return;
        case 'response.function_call_arguments.delta':
        case 'response.custom_tool_call_input.delta':
        case 'response.mcp_call_arguments.delta':
          item(event, 'function_call').args += delta;
          return;
        case 'response.function_call_arguments.done':
        case 'response.mcp_call_arguments.done': {
          const it = item(event, 'function_call');
          if (typeof event.arguments === 'string') it.args = event.arguments;
          if (typeof event.name === 'string' && event.name !== '') it.name ??= event.name;
          return;
        }
        case 'response.custom_tool_call_input.done':
          if (typeof event.input === 'string') item(event, 'custom_tool_call').args = event.input;
          return;
        default:
          return;
      }
    },
    result() {
      const ordered = [...items.entries()].sort((a, b) => a[0] - b[0]).map(([, it]) => it);
      let text = '';
      const thinking: string[] = [];
      const toolCalls: ToolCall[] = [];
      for (const it of ordered) {
        if (it.type === 'message') text += joinParts(it.parts, '');
        else if (it.type === 'reasoning') {
          // The summary is what the API lets clients show; raw reasoning text (open models) when there is no summary.
          const shown = it.summary.size > 0 ? joinParts(it.summary, '\n\n') : joinParts(it.parts, '');
          if (shown !== '') thinking.push(shown);
        } else if (CALL_TYPES.has(it.type)) {
          const name = it.name ?? it.type;
          toolCalls.push(it.callId === undefined ? { name, arguments: it.args } : { id: it.callId, name, arguments: it.args });
        }
      }
      const result: Reassembled = { text, toolCalls, events };
      if (model !== undefined) result.model = model;
      if (responseId !== undefined) result.responseId = responseId;
      if (thinking.length > 0) result.thinking = thinking.join('\n\n');
      if (usage) result.usage = { ...usage, ...toolFees(ordered) };
      if (stopReason !== undefined) result.stopReason = stopReason;
      if (failed) result.failed = true;
      return result;
    },
  };
}

/**
 * Built-in tools billed per call on top of the tokens, counted from the answer's own
 * output items (the usage object does not count them): each `web_search_call` and
 * `file_search_call` is one call. Code interpreter is billed per container, not per
 * call, so its items are not counted here.
 */
function toolFees(items: Item[]): Pick<Usage, 'webSearches' | 'fileSearches'> {
  let web = 0;
  let file = 0;
  for (const it of items) {
    if (it.type === 'web_search_call') web++;
    else if (it.type === 'file_search_call') file++;
  }
  const out: Pick<Usage, 'webSearches' | 'fileSearches'> = {};
  if (web > 0) out.webSearches = web;
  if (file > 0) out.fileSearches = file;
  return out;
}

/** Builds an item from a full output item (from output_item.*, or a response's output). */
function itemFrom(out: JsonObject): Item {
  const type = typeof out.type === 'string' ? out.type : 'unknown';
  const it: Item = { type, parts: new Map(), summary: new Map(), args: '' };
  const callId = typeof out.call_id === 'string' ? out.call_id : typeof out.id === 'string' && type === 'mcp_call' ? out.id : undefined;
  if (callId !== undefined) it.callId = callId;
  if (typeof out.name === 'string' && out.name !== '') it.name = out.name;
  if (type === 'function_call' || type === 'mcp_call') it.args = typeof out.arguments === 'string' ? out.arguments : '';
  else if (type === 'custom_tool_call') it.args = typeof out.input === 'string' ? out.input : '';
  // Codex's built-in shell tool: the action (command, cwd…) is what it asked to run.
  else if (type === 'local_shell_call') it.args = out.action === undefined ? '' : JSON.stringify(out.action);
  if (type === 'local_shell_call') it.name ??= 'local_shell';
  readTextList(out.content, it.parts, (part) => (part.type === 'output_text' || part.type === 'reasoning_text' ? part.text : undefined));
  readTextList(out.summary, it.summary, (part) => part.text);
  return it;
}

/** The final item wins, except where it is empty and the deltas were not (servers that send a bare done item). */
function mergeItem(streamed: Item, final: Item): Item {
  return {
    ...final,
    parts: final.parts.size > 0 ? final.parts : streamed.parts,
    summary: final.summary.size > 0 ? final.summary : streamed.summary,
    args: final.args !== '' ? final.args : streamed.args,
    callId: final.callId ?? streamed.callId,
    name: final.name ?? streamed.name,
  };
}

function readTextList(list: unknown, into: Map<number, string>, pick: (part: JsonObject) => unknown): void {
  if (!Array.isArray(list)) return;
  list.forEach((raw, index) => {
    const part = asObject(raw);
    const text = part ? pick(part) : undefined;
    if (typeof text === 'string') into.set(index, text);
  });
}

function appendPart(it: Item, event: JsonObject, delta: string): void {
  const at = partIndex(event, 'content_index');
  it.parts.set(at, (it.parts.get(at) ?? '') + delta);
}

function partIndex(event: JsonObject, key: string): number {
  const value = event[key];
  return typeof value === 'number' ? value : 0;
}

function joinParts(parts: Map<number, string>, separator: string): string {
  return [...parts.entries()].sort((a, b) => a[0] - b[0]).map(([, text]) => text).join(separator);
}

function lastIndex(items: Map<number, Item>): number {
  let last = 0;
  for (const key of items.keys()) last = Math.max(last, key);
  return last;
}

/**
 * `completed` when the answer finished; for `incomplete` the reason the server gives
 * (`max_output_tokens`, `content_filter`); otherwise the status (`failed`, `cancelled`).
 */
function stopReasonOf(response: JsonObject): string | undefined {
  const reason = asObject(response.incomplete_details)?.reason;
  if (response.status === 'incomplete' && typeof reason === 'string') return reason;
  return typeof response.status === 'string' ? response.status : undefined;
}

/** Responses usage: input/output tokens with cached and reasoning details (Azure, xAI, Codex alike). */
export function readResponsesUsage(raw: JsonObject | undefined): Usage | undefined {
  if (!raw) return undefined;
  const usage: Usage = {};
  const inputDetails = asObject(raw.input_tokens_details);
  const set = (key: keyof Usage, value: unknown): void => {
    if (typeof value === 'number' && Number.isFinite(value)) usage[key] = value;
  };
  set('inputTokens', raw.input_tokens);
  set('outputTokens', raw.output_tokens);
  set('cachedInputTokens', inputDetails?.cached_tokens);
  set('cacheCreationInputTokens', inputDetails?.cache_write_tokens);
  const outputDetails = asObject(raw.output_tokens_details);
  set('reasoningTokens', outputDetails?.reasoning_tokens);
  // Realtime's audio parts (its details renamed to these by the WebSocket reducer).
  set('inputAudioTokens', inputDetails?.audio_tokens);
  set('cachedAudioTokens', asObject(inputDetails?.cached_tokens_details)?.audio_tokens);
  set('outputAudioTokens', outputDetails?.audio_tokens);
  return Object.keys(usage).length > 0 ? usage : undefined;
}
