import type { Reassembled, ToolCall, Usage } from '../exchange.js';
import { isEventStream, typedEventReducer } from './sse.js';
import { asObject, readModelAndStream, wholeJsonReducer, type JsonObject } from './json.js';
import type { ProviderParser, ResponseReducer } from './types.js';

/**
 * Anthropic Messages (POST /v1/messages). A streamed answer is a sequence of named
 * events (message_start, content_block_start/delta/stop, message_delta,
 * message_stop, ping, error); a plain answer is one Message object. Both build the
 * same indexed content blocks, so text and thinking come out in block order.
 */
export const anthropicMessages: ProviderParser = {
  parseRequest: readModelAndStream,
  createReducer: (contentType) => (isEventStream(contentType) ? createStreamReducer() : wholeJsonReducer((body) => {
    const acc = new MessageAccumulator();
    if (body) acc.addMessage(body);
    return acc.result(0);
  })),
};

function createStreamReducer(): ResponseReducer {
  const acc = new MessageAccumulator();
  return typedEventReducer((type, payload) => acc.addEvent(type, payload), (events) => acc.result(events));
}

interface Block {
  kind: 'text' | 'thinking' | 'tool_use';
  /** Text, thinking, or the tool input's partial_json pieces joined. */
  content: string;
  id?: string;
  name?: string;
  /** content_block.input as given at the start; used when no input deltas follow. */
  input?: unknown;
}

/** Folds Messages answers and events; Bedrock reuses it for Claude on invoke-model. */
export class MessageAccumulator {
  private model: string | undefined;
  private stopReason: string | undefined;
  private usage: Usage | undefined;
  private failed = false;
  /** The final usage came (message_delta's, or a whole Message's); message_start's alone is partial. */
  private finalUsage = false;
  private readonly blocks = new Map<number, Block>();
  /** Blocks we do not report (redacted_thinking, server tools…), so their deltas are skipped too. */
  private readonly ignored = new Set<number>();
  /** Index of the latest block started, for events that leave the index out. */
  private lastIndex = -1;

  addMessage(message: JsonObject): void {
    this.readMessageFields(message);
    this.finalUsage = true;
    if (!Array.isArray(message.content)) return;
    message.content.forEach((item, index) => {
      const block = asObject(item);
      if (block) this.startBlock(index, block);
    });
  }

  addEvent(type: string, payload: JsonObject): void {
    switch (type) {
      case 'message_start': {
        const message = asObject(payload.message);
        if (message) this.readMessageFields(message);
        break;
      }
      case 'content_block_start': {
        const block = asObject(payload.content_block);
        if (block) this.startBlock(blockIndex(payload, this.lastIndex + 1), block);
        break;
      }
      case 'content_block_delta': {
        const delta = asObject(payload.delta);
        if (delta) this.applyDelta(blockIndex(payload, Math.max(this.lastIndex, 0)), delta);
        break;
      }
      case 'message_delta': {
        const delta = asObject(payload.delta);
        if (typeof delta?.stop_reason === 'string') this.stopReason = delta.stop_reason;
        if (asObject(payload.usage)) this.finalUsage = true;
        this.mergeUsage(asObject(payload.usage));
        break;
      }
      // An error event ends the stream early: what arrived before it stays the result, and
      // the error's type (overloaded_error, api_error…) is why it stopped.
      case 'error': {
        const kind = asObject(payload.error)?.type;
        this.stopReason = typeof kind === 'string' ? kind : 'error';
        this.failed = true;
        break;
      }
      // content_block_stop, message_stop and ping carry nothing we keep.
      default:
        break;
    }
  }

  private readMessageFields(message: JsonObject): void {
    if (typeof message.model === 'string' && message.model !== '') this.model = message.model;
    if (typeof message.stop_reason === 'string') this.stopReason = message.stop_reason;
    this.mergeUsage(asObject(message.usage));
  }

  private startBlock(index: number, block: JsonObject): void {
    this.lastIndex = index;
    switch (block.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text', content: typeof block.text === 'string' ? block.text : '' });
        return;
      case 'thinking':
        this.blocks.set(index, { kind: 'thinking', content: typeof block.thinking === 'string' ? block.thinking : '' });
        return;
      case 'tool_use': {
        const started: Block = { kind: 'tool_use', content: '', input: block.input };
        if (typeof block.id === 'string') started.id = block.id;
        if (typeof block.name === 'string') started.name = block.name;
        this.blocks.set(index, started);
        return;
      }
      default:
        this.ignored.add(index);
    }
  }

  private applyDelta(index: number, delta: JsonObject): void {
    if (this.ignored.has(index)) return;
    const kind = deltaKind(delta.type);
    if (!kind) return; // signature_delta, citations_delta…
    let block = this.blocks.get(index);
    if (!block) {
      // The stream lost its content_block_start (a capture cut in front of it);
      // the delta still says what the block is.
      block = { kind, content: '' };
      this.blocks.set(index, block);
    }
    if (block.kind !== kind) return;
    const piece = kind === 'text' ? delta.text : kind === 'thinking' ? delta.thinking : delta.partial_json;
    if (typeof piece === 'string') block.content += piece;
  }

  /** Fields present in a later report replace earlier ones; output_tokens is a running total. */
  private mergeUsage(raw: JsonObject | undefined): void {
    if (!raw) return;
    const usage: Usage = { ...this.usage };
    const fields = [
      ['input_tokens', 'inputTokens'],
      ['output_tokens', 'outputTokens'],
      ['cache_read_input_tokens', 'cachedInputTokens'],
      ['cache_creation_input_tokens', 'cacheCreationInputTokens'],
    ] as const;
    for (const [wire, ours] of fields) {
      const value = raw[wire];
      if (typeof value === 'number' && Number.isFinite(value)) usage[ours] = value;
    }
    // cache_creation splits the writes by TTL; 1-hour writes cost more than 5-minute ones.
    const hour = asObject(raw.cache_creation)?.ephemeral_1h_input_tokens;
    if (typeof hour === 'number' && Number.isFinite(hour)) usage.cacheCreation1hTokens = hour;
    // The server-side web_search tool is billed per search, on top of the tokens.
    const searches = asObject(raw.server_tool_use)?.web_search_requests;
    if (typeof searches === 'number' && Number.isFinite(searches)) usage.webSearches = searches;
    if (Object.keys(usage).length > 0) this.usage = usage;
  }

  result(events: number): Reassembled {
    let text = '';
    let thinking = '';
    const toolCalls: ToolCall[] = [];
    const ordered = [...this.blocks.entries()].sort(([a], [b]) => a - b);
    for (const [, block] of ordered) {
      if (block.kind === 'text') text += block.content;
      else if (block.kind === 'thinking') thinking += block.content;
      else toolCalls.push(toolCall(block));
    }
    const result: Reassembled = { text, toolCalls, events };
    if (this.model !== undefined) result.model = this.model;
    if (thinking !== '') result.thinking = thinking;
    if (this.usage) result.usage = { ...this.usage };
    if (this.stopReason !== undefined) result.stopReason = this.stopReason;
    if (this.failed) result.failed = true;
    else if (this.usage && !this.finalUsage) result.usagePartial = true;
    return result;
  }
}

function toolCall(block: Block): ToolCall {
  // Streamed input arrives as partial_json pieces (the first is often ""); with none,
  // the input given at the start is the whole input ({} for a tool without arguments).
  const args = block.content !== '' ? block.content : asObject(block.input) ? JSON.stringify(block.input) : '{}';
  const call: ToolCall = { name: block.name ?? '', arguments: args };
  return block.id === undefined ? call : { id: block.id, ...call };
}

function deltaKind(type: unknown): Block['kind'] | undefined {
  switch (type) {
    case 'text_delta': return 'text';
    case 'thinking_delta': return 'thinking';
    case 'input_json_delta': return 'tool_use';
    default: return undefined;
  }
}

/** The block index an event names; a missing one means the next (start) or current (delta) block. */
function blockIndex(payload: JsonObject, fallback: number): number {
  return typeof payload.index === 'number' && Number.isInteger(payload.index) ? payload.index : fallback;
}
