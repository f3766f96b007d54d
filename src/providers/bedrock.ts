import { lazyRequire } from '../lazy-require.js';
import { headerValue, type RawHeaders, type Reassembled, type ToolCall, type Usage } from '../exchange.js';
import { MessageAccumulator } from './anthropic.js';
import { readNativeChunk } from './bedrock-native.js';
import { asObject, parseJson, parseJsonBody, type JsonObject } from './json.js';
import type { ProviderParser, ResponseReducer } from './types.js';
import { mediaType } from './media-type.js';

/**
 * Amazon Bedrock runtime: Converse (`/model/{id}/converse`, `converse-stream`) and
 * InvokeModel (`/model/{id}/invoke`, `invoke-with-response-stream`). The model id is
 * in the path (registry.factsFromPath). Streams use the binary
 * `application/vnd.amazon.eventstream` framing, decoded with AWS's own codec
 * (@smithy/eventstream-codec, which also checks each frame's CRCs).
 *
 * InvokeModel bodies are the model family's native format, told apart by shape:
 * Anthropic Messages (Claude: answers and stream chunks with a `type`), the
 * Converse-like shape of Amazon Nova (`output.message`, `contentBlockDelta`…), and the
 * other families' own shapes (bedrock-native.ts: Llama, Mistral, Titan, Cohere, AI21).
 * Where a body counts no tokens, Bedrock's do: the last streamed chunk's
 * `amazon-bedrock-invocationMetrics`, a whole answer's `x-amzn-bedrock-*-token-count` headers.
 */
export const bedrockConverse: ProviderParser = {
  parseRequest: () => ({}),
  createReducer: (contentType) => (isEventStreamFraming(contentType) ? eventStreamReducer(new ConverseAccumulator()) : wholeBody((json) => {
    const acc = new ConverseAccumulator();
    acc.addResponse(json);
    return acc.result(0);
  })),
};

export const bedrockInvoke: ProviderParser = {
  parseRequest(body) {
    // Claude on Bedrock says `anthropic_version` and `stream` nowhere; the path decides streaming.
    const request = asObject(parseJsonBody(body));
    return request && typeof request.model === 'string' ? { model: request.model } : {};
  },
  createReducer: (contentType) => (isEventStreamFraming(contentType) ? eventStreamReducer(new InvokeAccumulator()) : wholeBody((json) => {
    const acc = new InvokeAccumulator();
    acc.addChunk(json);
    return acc.result(0);
  })),
  usageFromHeaders: invocationHeaders,
};

/**
 * Bedrock's own counts of a (non-streamed) InvokeModel answer, in headers for every model
 * family: the only usage of those whose native body reports none (Mistral, Cohere, AI21…).
 */
export function invocationHeaders(headers: RawHeaders): Usage | undefined {
  const usage: Usage = {};
  const input = tokenCount(headerValue(headers, 'x-amzn-bedrock-input-token-count'));
  const output = tokenCount(headerValue(headers, 'x-amzn-bedrock-output-token-count'));
  if (input !== undefined) usage.inputTokens = input;
  if (output !== undefined) usage.outputTokens = output;
  return Object.keys(usage).length > 0 ? usage : undefined;
}

function tokenCount(raw: string | undefined): number | undefined {
  return raw !== undefined && /^\s*\d{1,12}\s*$/.test(raw) ? Number(raw) : undefined;
}

export function isEventStreamFraming(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'application/vnd.amazon.eventstream';
}

interface EventSink {
  /** One decoded event: its `:event-type` header and JSON payload. */
  addEvent(type: string, payload: JsonObject): void;
  result(events: number): Reassembled;
}

/** The AWS event-stream codec and its UTF-8 helpers: loaded on the first Bedrock stream, not by every proxy at start. */
const smithyCodec = lazyRequire<typeof import('@smithy/eventstream-codec')>('@smithy/eventstream-codec');
const smithyUtf8 = lazyRequire<typeof import('@smithy/util-utf8')>('@smithy/util-utf8');

/** Frames split anywhere: each frame's first four bytes give its total length. */
function eventStreamReducer(sink: EventSink): ResponseReducer {
  const { toUtf8, fromUtf8 } = smithyUtf8();
  const codec = new (smithyCodec().EventStreamCodec)(toUtf8, fromUtf8);
  let pending: Buffer = Buffer.alloc(0);
  let events = 0;
  let broken = false;
  /** An exception frame (modelStreamErrorException, throttlingException…) ends the stream. */
  let exception: string | undefined;
  return {
    push(chunk) {
      if (broken) return;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readUInt32BE(0);
        if (length < 16) {
          broken = true; // not eventstream framing: keep what was read
          return;
        }
        if (pending.length < length) return;
        const frame = pending.subarray(0, length);
        pending = pending.subarray(length);
        try {
          const message = codec.decode(frame);
          const type = message.headers[':event-type']?.value;
          const thrown = message.headers[':exception-type']?.value;
          if (message.headers[':message-type']?.value === 'exception') exception = typeof thrown === 'string' ? thrown : 'exception';
          const payload = asObject(parseJson(toUtf8(message.body)));
          events++;
          if (typeof type === 'string' && payload) sink.addEvent(type, payload);
        } catch {
          broken = true; // a CRC mismatch: the rest cannot be trusted to line up
          return;
        }
      }
    },
    finish() {
      const out = sink.result(events);
      // What arrived before the exception stays the result; the exception is why it stopped.
      if (exception !== undefined) Object.assign(out, { stopReason: exception, failed: true });
      return out;
    },
  };
}

function wholeBody(read: (json: JsonObject | undefined) => Reassembled): ResponseReducer {
  const chunks: Buffer[] = [];
  return {
    push: (chunk) => void chunks.push(chunk),
    finish: () => read(asObject(parseJson(Buffer.concat(chunks).toString('utf8')))),
  };
}

interface Block {
  kind: 'text' | 'thinking' | 'tool';
  content: string;
  id?: string;
  name?: string;
}

/** Converse answers and converse-stream events (also Amazon Nova's invoke format). */
class ConverseAccumulator implements EventSink {
  private readonly blocks = new Map<number, Block>();
  private usage?: Usage;
  private stopReason?: string;

  addResponse(json: JsonObject | undefined): void {
    const content = asObject(asObject(json?.output)?.message)?.content;
    if (Array.isArray(content)) {
      content.forEach((raw, index) => {
        const item = asObject(raw);
        if (!item) return;
        const tool = asObject(item.toolUse);
        const reasoning = asObject(asObject(item.reasoningContent)?.reasoningText);
        if (typeof item.text === 'string') this.blocks.set(index, { kind: 'text', content: item.text });
        else if (tool) this.blocks.set(index, { kind: 'tool', content: JSON.stringify(tool.input ?? {}), ...ids(tool) });
        else if (typeof reasoning?.text === 'string') this.blocks.set(index, { kind: 'thinking', content: reasoning.text });
      });
    }
    if (typeof json?.stopReason === 'string') this.stopReason = json.stopReason;
    this.readUsage(asObject(json?.usage));
  }

  addEvent(type: string, payload: JsonObject): void {
    const index = typeof payload.contentBlockIndex === 'number' ? payload.contentBlockIndex : 0;
    switch (type) {
      case 'contentBlockStart': {
        const tool = asObject(asObject(payload.start)?.toolUse);
        if (tool) this.blocks.set(index, { kind: 'tool', content: '', ...ids(tool) });
        return;
      }
      case 'contentBlockDelta': {
        const delta = asObject(payload.delta);
        if (typeof delta?.text === 'string') this.append(index, 'text', delta.text);
        const input = asObject(delta?.toolUse)?.input;
        if (typeof input === 'string') this.append(index, 'tool', input);
        const reasoning = asObject(delta?.reasoningContent)?.text;
        if (typeof reasoning === 'string') this.append(index, 'thinking', reasoning);
        return;
      }
      case 'messageStop':
        if (typeof payload.stopReason === 'string') this.stopReason = payload.stopReason;
        return;
      case 'metadata':
        this.readUsage(asObject(payload.usage));
        return;
      default:
    }
  }

  private append(index: number, kind: Block['kind'], text: string): void {
    const block = this.blocks.get(index) ?? { kind, content: '' };
    block.content += text;
    this.blocks.set(index, block);
  }

  private readUsage(raw: JsonObject | undefined): void {
    if (!raw) return;
    const usage: Usage = {};
    const set = (key: keyof Usage, value: unknown): void => {
      if (typeof value === 'number' && Number.isFinite(value)) usage[key] = value;
    };
    set('inputTokens', raw.inputTokens);
    set('outputTokens', raw.outputTokens);
    set('cachedInputTokens', raw.cacheReadInputTokens);
    set('cacheCreationInputTokens', raw.cacheWriteInputTokens);
    // cacheDetails splits the writes by TTL (`1h`, `5m`), as Anthropic's cache_creation does:
    // 1-hour writes cost more than 5-minute ones.
    if (Array.isArray(raw.cacheDetails)) {
      let hour = 0;
      for (const detail of raw.cacheDetails) {
        const entry = asObject(detail);
        if (entry?.ttl === '1h' && typeof entry.inputTokens === 'number' && Number.isFinite(entry.inputTokens)) hour += entry.inputTokens;
      }
      usage.cacheCreation1hTokens = hour;
    }
    if (Object.keys(usage).length > 0) this.usage = usage;
  }

  result(events: number): Reassembled {
    let text = '';
    let thinking = '';
    const toolCalls: ToolCall[] = [];
    for (const [, block] of [...this.blocks.entries()].sort(([a], [b]) => a - b)) {
      if (block.kind === 'text') text += block.content;
      else if (block.kind === 'thinking') thinking += block.content;
      else toolCalls.push(block.id === undefined ? { name: block.name ?? 'tool', arguments: block.content } : { id: block.id, name: block.name ?? 'tool', arguments: block.content });
    }
    const out: Reassembled = { text, toolCalls, events };
    if (thinking !== '') out.thinking = thinking;
    if (this.usage) out.usage = this.usage;
    if (this.stopReason !== undefined) out.stopReason = this.stopReason;
    return out;
  }
}

function ids(tool: JsonObject): { id?: string; name?: string } {
  const out: { id?: string; name?: string } = {};
  if (typeof tool.toolUseId === 'string') out.id = tool.toolUseId;
  if (typeof tool.name === 'string') out.name = tool.name;
  return out;
}

const CONVERSE_EVENTS = ['messageStart', 'contentBlockStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata'];

/**
 * InvokeModel answers and `chunk` events (`{bytes: base64 of one native chunk}`),
 * handed to the reader the chunk's shape calls for.
 */
class InvokeAccumulator implements EventSink {
  private readonly claude = new MessageAccumulator();
  private readonly converse = new ConverseAccumulator();
  private text = '';
  private family?: 'claude' | 'converse' | 'native';
  /** Bedrock's own counts (amazon-bedrock-invocationMetrics): only on the last streamed chunk. */
  private metrics?: Usage;
  /** The counts a family's own body carries (Llama, Titan, AI21); a non-streamed answer's others come in headers. */
  private readonly counted: Usage = {};
  private stopReason?: string;

  addEvent(type: string, payload: JsonObject): void {
    if (type !== 'chunk' || typeof payload.bytes !== 'string') return;
    this.addChunk(asObject(parseJson(Buffer.from(payload.bytes, 'base64').toString('utf8'))), true);
  }

  addChunk(chunk: JsonObject | undefined, streamed = false): void {
    if (!chunk) return;
    // Bedrock adds its own token counts to the last chunk of every family.
    const metrics = asObject(chunk['amazon-bedrock-invocationMetrics']);
    if (metrics) this.metrics = { inputTokens: num(metrics.inputTokenCount), outputTokens: num(metrics.outputTokenCount) };
    if (typeof chunk.type === 'string') {
      this.family = 'claude';
      if (streamed) this.claude.addEvent(chunk.type, chunk);
      else this.claude.addMessage(chunk);
      return;
    }
    const converseType = CONVERSE_EVENTS.find((name) => asObject(chunk[name]));
    if (converseType || chunk.output) {
      this.family = 'converse';
      if (converseType) this.converse.addEvent(converseType, asObject(chunk[converseType])!);
      else this.converse.addResponse(chunk);
      return;
    }
    const piece = readNativeChunk(chunk);
    if (piece) {
      this.family = 'native';
      this.text += piece.text;
      if (piece.stopReason !== undefined) this.stopReason = piece.stopReason;
      // The prompt count comes once (null after); the output count is a running total.
      if (piece.inputTokens !== undefined) this.counted.inputTokens = piece.inputTokens;
      if (piece.outputTokens !== undefined) this.counted.outputTokens = piece.outputTokens;
    }
  }

  result(events: number): Reassembled {
    let out: Reassembled;
    if (this.family === 'claude') out = this.claude.result(events);
    else if (this.family === 'converse') out = this.converse.result(events);
    else {
      out = { text: this.text, toolCalls: [], events };
      if (this.stopReason !== undefined) out.stopReason = this.stopReason;
    }
    // The family's own usage first (Claude, Nova); else the metrics, their gaps filled from the body's counts.
    if (!out.usage) {
      const usage = { ...this.counted, ...stripUndefined(this.metrics ?? {}) };
      if (Object.keys(usage).length > 0) out.usage = usage;
    }
    return out;
  }
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function stripUndefined(usage: Usage): Usage {
  return Object.fromEntries(Object.entries(usage).filter(([, v]) => v !== undefined)) as Usage;
}
