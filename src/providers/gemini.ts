import type { Reassembled, ToolCall, Usage } from '../exchange.js';
import { addModalityTokens } from './gemini-modalities.js';
import { asObject, parseJson, parseJsonBody, type JsonObject } from './json.js';
import { createSseReader, isEventStream } from './sse.js';
import type { ProviderParser, RequestFacts, ResponseReducer } from './types.js';

/**
 * Gemini `generateContent` / `streamGenerateContent` as the Gemini API
 * (generativelanguage.googleapis.com), Vertex AI (publishers/google/models/…) and
 * Gemini CLI's Code Assist endpoint (cloudcode-pa.googleapis.com/v1internal:…) speak
 * it. The model and the stream flag are in the path (see registry.modelFromPath);
 * Code Assist wraps the request as `{model, project, request}` and each answer as
 * `{response: …}`.
 *
 * Three answer shapes: one JSON object (generateContent), SSE with one
 * GenerateContentResponse per event (`?alt=sse`), or — streamGenerateContent
 * without alt=sse — one JSON array whose elements arrive over time. Every element
 * or event is a chunk: text and thought parts append, functionCall parts are tool
 * calls, the last finishReason and usageMetadata win; a blocked prompt's
 * promptFeedback.blockReason stands in for the finishReason it never gets.
 */
export const gemini: ProviderParser = {
  parseRequest(body): RequestFacts {
    const request = asObject(parseJsonBody(body));
    // Code Assist names the model in its wrapper; the public API only in the path.
    return typeof request?.model === 'string' ? { model: request.model } : {};
  },
  createReducer: (contentType) => (isEventStream(contentType) ? createSseChunkReducer() : createJsonChunkReducer()),
};

/** countTokens: the model is in the path; the answer counts tokens but spends none. */
export const geminiCountTokens: ProviderParser = {
  parseRequest: gemini.parseRequest,
  createReducer: () => createJsonChunkReducer(),
};

class ChunkAccumulator {
  private text = '';
  private thinking = '';
  private readonly toolCalls: ToolCall[] = [];
  private model?: string;
  private usage?: Usage;
  private stopReason?: string;
  private failed = false;

  /** `streamed`: one element or event of a stream, where an `error` ends an answer already under way. */
  add(raw: unknown, streamed = false): void {
    const outer = asObject(raw);
    // Code Assist: {response: GenerateContentResponse, traceId}.
    const chunk = asObject(outer?.response) ?? outer;
    if (!chunk) return;
    // An error sent inside a stream whose 200 is already out: `{error: {code, message, status}}`.
    // (A whole error body comes with an error status and says nothing about how an answer stopped.)
    const error = streamed ? asObject(chunk.error) : undefined;
    if (error) {
      this.stopReason = typeof error.status === 'string' ? error.status : 'error';
      this.failed = true;
      return;
    }
    if (typeof chunk.modelVersion === 'string') this.model = chunk.modelVersion;
    const candidate = asObject(Array.isArray(chunk.candidates) ? chunk.candidates[0] : undefined);
    const parts = asObject(candidate?.content)?.parts;
    if (Array.isArray(parts)) for (const part of parts) this.addPart(asObject(part));
    if (typeof candidate?.finishReason === 'string') this.stopReason = candidate.finishReason;
    // A prompt the safety filters refuse gets no candidate at all, only promptFeedback.blockReason.
    const blocked = asObject(chunk.promptFeedback)?.blockReason;
    if (typeof blocked === 'string' && this.stopReason === undefined) this.stopReason = blocked;
    const usage = readGeminiUsage(asObject(chunk.usageMetadata));
    if (usage) this.usage = usage;
  }

  private addPart(part: JsonObject | undefined): void {
    if (!part) return;
    if (typeof part.text === 'string') {
      if (part.thought === true) this.thinking += part.text;
      else this.text += part.text;
    }
    const call = asObject(part.functionCall);
    if (call && typeof call.name === 'string') {
      const toolCall: ToolCall = { name: call.name, arguments: JSON.stringify(call.args ?? {}) };
      if (typeof call.id === 'string') toolCall.id = call.id;
      this.toolCalls.push(toolCall);
    }
  }

  result(events: number): Reassembled {
    const out: Reassembled = { text: this.text, toolCalls: this.toolCalls, events };
    if (this.model !== undefined) out.model = this.model;
    if (this.thinking !== '') out.thinking = this.thinking;
    if (this.usage) out.usage = this.usage;
    if (this.stopReason !== undefined) out.stopReason = this.stopReason;
    if (this.failed) out.failed = true;
    return out;
  }
}

/**
 * usageMetadata: candidates exclude thoughts, which Gemini counts apart (thoughtsTokenCount).
 * The prompt Gemini builds for a built-in tool (Google Search grounding, code execution,
 * URL context) is counted apart too (toolUsePromptTokenCount) and billed as input, so it
 * is added to the prompt's count, as @pydantic/genai-prices' own Google reader does. Audio,
 * images and video, billed at their own rates, are read from the per-modality details.
 */
export function readGeminiUsage(raw: JsonObject | undefined): Usage | undefined {
  if (!raw) return undefined;
  const usage: Usage = {};
  const set = (key: keyof Usage, value: unknown): void => {
    if (typeof value === 'number' && Number.isFinite(value)) usage[key] = value;
  };
  const { promptTokenCount: prompt, toolUsePromptTokenCount: toolPrompt } = raw;
  set('inputTokens', typeof prompt === 'number' && typeof toolPrompt === 'number' ? prompt + toolPrompt : prompt);
  set('outputTokens', raw.candidatesTokenCount);
  set('cachedInputTokens', raw.cachedContentTokenCount);
  set('reasoningTokens', raw.thoughtsTokenCount);
  if (Object.keys(usage).length === 0) return undefined;
  addModalityTokens(raw, usage);
  return usage;
}

function createSseChunkReducer(): ResponseReducer {
  const acc = new ChunkAccumulator();
  let events = 0;
  const reader = createSseReader(({ data }) => {
    events++;
    acc.add(parseJson(data), true);
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
 * A JSON object, or a JSON array streamed element by element. The body is read
 * whole at the end; a cut-off array still yields every element that arrived
 * complete (scanJsonObjects), so a client that left mid-stream keeps its part.
 */
function createJsonChunkReducer(): ResponseReducer {
  const chunks: Buffer[] = [];
  return {
    push: (chunk) => void chunks.push(chunk),
    finish() {
      const text = Buffer.concat(chunks).toString('utf8');
      const acc = new ChunkAccumulator();
      const whole = parseJson(text);
      if (Array.isArray(whole)) {
        whole.forEach((element) => acc.add(element, true));
        return acc.result(whole.length);
      }
      if (whole !== undefined) {
        acc.add(whole);
        return acc.result(0);
      }
      const elements = scanJsonObjects(text);
      for (const element of elements) acc.add(element, true);
      return acc.result(elements.length);
    },
  };
}

/** The complete top-level objects of a (possibly cut-off) JSON array text, in order. */
export function scanJsonObjects(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b) {
      if (depth++ === 0) start = i;
    } else if (c === 0x7d && depth > 0 && --depth === 0) {
      const element = parseJson(text.slice(start, i + 1));
      if (element !== undefined) out.push(element);
    }
  }
  return out;
}
