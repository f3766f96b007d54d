import type { Reassembled, ToolCall, Usage } from '../exchange.js';
import { doneTerminatedReducer, isEventStream } from './sse.js';
import { asObject, readModelAndStream, wholeJsonReducer, type JsonObject } from './json.js';
import type { ProviderParser, ResponseReducer } from './types.js';

/**
 * OpenAI Chat Completions (POST …/chat/completions), also spoken by most
 * OpenAI-compatible providers (Groq, Mistral, DeepSeek, OpenRouter, Azure, Ollama…).
 *
 * A streamed answer is a series of `data:` events, each a chat.completion.chunk,
 * ended by `data: [DONE]`; a plain answer is one chat.completion object. Both feed
 * the same accumulator: a non-streamed `message` is read as if it were one delta.
 */
export const openaiChat: ProviderParser = {
  parseRequest: readModelAndStream,
  createReducer: (contentType) => (isEventStream(contentType) ? createStreamReducer() : wholeJsonReducer((body) => {
    const acc = new ChatAccumulator(false);
    if (body) acc.addChunk(body);
    return acc.result(0);
  })),
};

function createStreamReducer(): ResponseReducer {
  const acc = new ChatAccumulator(true);
  return doneTerminatedReducer((chunk) => acc.addChunk(chunk), (events) => acc.result(events));
}

interface PendingCall {
  id?: string;
  name: string;
  arguments: string;
}

/** Folds chunks (or one whole completion) into a Reassembled; tolerant of any shape. */
class ChatAccumulator {
  private model: string | undefined;
  private text = '';
  private thinking = '';
  private stopReason: string | undefined;
  private usage: Usage | undefined;
  private failed = false;
  /** Keyed by tool-call index (or id/position when a provider sends no index), in arrival order. */
  private readonly calls = new Map<string, PendingCall>();

  /** `streamed`: chunks of an event stream, where an error says why the answer stopped. */
  constructor(private readonly streamed: boolean) {}

  addChunk(chunk: JsonObject): void {
    // An error instead of an answer: OpenAI's mid-stream `data: {"error": {…}}` after the 200
    // (its type, server_error…, is why the stream stopped), or a whole `{"error": …}` body (an
    // error status says it all, but a compatible server may send it with 200). Not an answer
    // to replay from the cache, nor one to estimate usage for.
    // OpenRouter sends its error beside a last choice (finish_reason `error`): the SDK throws on either.
    const error = asObject(chunk.error);
    if (error) {
      if (Array.isArray(chunk.choices)) this.addChunk({ ...chunk, error: undefined });
      if (this.streamed) this.stopReason = errorStopReason(error);
      this.failed = true;
      return;
    }
    // Azure's first chunk carries only prompt filter results and an empty model.
    if (this.model === undefined && typeof chunk.model === 'string' && chunk.model !== '') this.model = chunk.model;
    // Groq reports streamed usage under x_groq instead of on the final chunk.
    const usage = readUsage(asObject(chunk.usage)) ?? readUsage(asObject(asObject(chunk.x_groq)?.usage));
    // Last report wins: servers that repeat usage send running totals.
    if (usage) this.usage = usage;
    if (!Array.isArray(chunk.choices)) return;
    for (const item of chunk.choices) {
      const choice = asObject(item);
      // With n > 1 the choices interleave; like the rest of llmtap we keep the first.
      if (!choice || (typeof choice.index === 'number' && choice.index !== 0)) continue;
      if (typeof choice.finish_reason === 'string') this.stopReason = choice.finish_reason;
      const part = asObject(choice.delta) ?? asObject(choice.message);
      if (part) this.addPart(part);
    }
  }

  private addPart(part: JsonObject): void {
    this.text += contentText(part.content);
    // Mistral's Magistral streams its reasoning as `thinking` parts inside content.
    this.thinking += thinkingParts(part.content);
    // DeepSeek (and vLLM, SGLang) name it reasoning_content; OpenRouter and Groq say
    // reasoning. Some send both with the same text, so take only one.
    if (typeof part.reasoning_content === 'string') this.thinking += part.reasoning_content;
    else if (typeof part.reasoning === 'string') this.thinking += part.reasoning;
    if (Array.isArray(part.tool_calls)) {
      part.tool_calls.forEach((item, position) => {
        const call = asObject(item);
        if (call) this.addToolCall(call, position);
      });
    }
    // The deprecated functions API streams one unnamed-id call the same way.
    const legacy = asObject(part.function_call);
    if (legacy) this.mergeCall('function_call', undefined, legacy);
  }

  private addToolCall(call: JsonObject, position: number): void {
    // OpenAI sends index on every piece. Providers that omit it send whole calls,
    // so an id (or failing that the array position) identifies them instead.
    const id = typeof call.id === 'string' && call.id !== '' ? call.id : undefined;
    const key = typeof call.index === 'number' ? `index:${call.index}` : id !== undefined ? `id:${id}` : `position:${position}`;
    this.mergeCall(key, id, asObject(call.function) ?? {});
  }

  private mergeCall(key: string, id: string | undefined, fn: JsonObject): void {
    let pending = this.calls.get(key);
    if (!pending) {
      pending = { name: '', arguments: '' };
      this.calls.set(key, pending);
    }
    if (id !== undefined && pending.id === undefined) pending.id = id;
    // The name comes whole in the first piece; some servers repeat it, so never append.
    if (typeof fn.name === 'string' && fn.name !== '' && pending.name === '') pending.name = fn.name;
    if (typeof fn.arguments === 'string') pending.arguments += fn.arguments;
    // A few compatible servers send parsed arguments in non-streamed answers.
    else if (asObject(fn.arguments)) pending.arguments += JSON.stringify(fn.arguments);
  }

  result(events: number): Reassembled {
    const toolCalls: ToolCall[] = [...this.calls.values()].map((call) =>
      call.id === undefined ? { name: call.name, arguments: call.arguments } : { id: call.id, name: call.name, arguments: call.arguments },
    );
    const result: Reassembled = { text: this.text, toolCalls, events };
    if (this.model !== undefined) result.model = this.model;
    if (this.thinking !== '') result.thinking = this.thinking;
    if (this.usage) result.usage = { ...this.usage };
    if (this.stopReason !== undefined) result.stopReason = this.stopReason;
    if (this.failed) result.failed = true;
    return result;
  }
}

/** Message content is a string (or null); some compatible servers send a list of parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const item of content) {
    const part = asObject(item);
    if (part && part.type === 'text' && typeof part.text === 'string') text += part.text;
  }
  return text;
}

/** Mistral: `{type: 'thinking', thinking: [{type: 'text', text}]}` parts next to the text parts. */
function thinkingParts(content: unknown): string {
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const item of content) {
    const part = asObject(item);
    if (part?.type !== 'thinking') continue;
    if (typeof part.thinking === 'string') text += part.thinking;
    else text += contentText(part.thinking);
  }
  return text;
}

/** Why a stream an error ended stopped: the error's type (server_error…) or code, else `error`. */
export function errorStopReason(error: JsonObject): string {
  const kind = error.type ?? error.code;
  return typeof kind === 'string' && kind !== '' ? kind : 'error';
}

/** Chat Completions usage (also the legacy Completions API's): prompt, completion, cached, reasoning and audio tokens. */
export function readUsage(raw: JsonObject | undefined): Usage | undefined {
  if (!raw) return undefined;
  const usage: Usage = {};
  const input = asCount(raw.prompt_tokens);
  const output = asCount(raw.completion_tokens);
  // DeepSeek reports cache hits in its own field instead of prompt_tokens_details.
  const cached = asCount(asObject(raw.prompt_tokens_details)?.cached_tokens) ?? asCount(raw.prompt_cache_hit_tokens);
  // Perplexity puts reasoning_tokens at the top of usage.
  const reasoning = asCount(asObject(raw.completion_tokens_details)?.reasoning_tokens) ?? asCount(raw.reasoning_tokens);
  // OpenRouter reports prompt-cache writes (Anthropic/Gemini models behind it) here.
  const cacheWrite = asCount(asObject(raw.prompt_tokens_details)?.cache_write_tokens);
  if (input !== undefined) usage.inputTokens = input;
  if (output !== undefined) usage.outputTokens = output;
  if (cached !== undefined) usage.cachedInputTokens = cached;
  if (cacheWrite !== undefined) usage.cacheCreationInputTokens = cacheWrite;
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  // Audio models (gpt-4o-audio-preview…): the audio parts, priced at audio rates.
  const audioIn = asCount(asObject(raw.prompt_tokens_details)?.audio_tokens);
  const audioOut = asCount(asObject(raw.completion_tokens_details)?.audio_tokens);
  if (audioIn) usage.inputAudioTokens = audioIn;
  if (audioOut) usage.outputAudioTokens = audioOut;
  return Object.keys(usage).length > 0 ? usage : undefined;
}

function asCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
