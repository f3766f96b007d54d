import { randomUUID } from 'node:crypto';
import { newId } from './ids.js';
import type { PriceResult } from './cost/price-exchange.js';
import type { PolicyRecord } from './policy/types.js';
import type { AgentMetadata } from './providers/agent-metadata.js';
import type { Quota } from './providers/quota-headers.js';
import type { ToolIdentity } from './providers/tool-identity.js';

/** Raw header list as on the wire: [name, value, name, value, …], original case and order. */
export type RawHeaders = string[];

export type ProviderId = 'openai' | 'anthropic' | 'gemini' | 'mistral' | 'groq' | 'deepseek' | 'xai' | 'openrouter' | 'together' | 'cohere' | 'fireworks' | 'azure-openai'
  // OpenAI family: more compatible hosts, Codex with ChatGPT sign-in, and local servers on the user's list.
  | 'cerebras' | 'perplexity' | 'github-copilot' | 'chatgpt' | 'ollama' | 'openai-compatible'
  // Google's other front doors, and Amazon Bedrock.
  | 'gemini-code-assist' | 'vertex-ai' | 'bedrock'
  // Embeddings and rerank sellers.
  | 'jina' | 'voyage'
  | 'other';

/** Which API of a provider a request speaks; decides which parser reads it. */
export type ApiKind = 'chat.completions' | 'messages' | 'responses' | 'embeddings'
  // Anthropic's token counting (/v1/messages/count_tokens; Vertex AI's count-tokens:rawPredict): a Messages body in, a count out.
  | 'messages.countTokens'
  // OpenAI's legacy text Completions (…/completions, Copilot's …/engines/{engine}/completions): a prompt in, text out.
  | 'completions'
  // Ollama's native /api/chat and /api/generate (NDJSON streams).
  | 'ollama.chat' | 'ollama.generate'
  // Gemini generateContent/streamGenerateContent (Gemini API, Vertex AI, Code Assist) and countTokens.
  | 'gemini.generateContent' | 'gemini.countTokens'
  // Gemini Live over WebSocket (BidiGenerateContent: Gemini API, ephemeral tokens, Vertex AI).
  | 'gemini.live'
  // Amazon Bedrock runtime: Converse (JSON, eventstream) and InvokeModel (model-native bodies).
  | 'bedrock.converse' | 'bedrock.invoke'
  // Bedrock's CountTokens (/model/{modelId}/count-tokens): a Converse or InvokeModel input in, a count out.
  | 'bedrock.countTokens'
  // OpenAI Realtime over WebSocket (/v1/realtime).
  | 'realtime'
  // Cohere's Chat API v2 (/v2/chat on api.cohere.com).
  | 'cohere.chat'
  // Cohere's legacy Chat API (/v1/chat): `message`, `chat_history` and `preamble` in, NDJSON events when streamed.
  | 'cohere.chat.v1'
  // Rerank (Cohere /v1|v2/rerank and the many copies of its shape: Jina, Voyage, Together, vLLM, Infinity).
  | 'rerank'
  // OpenAI's Moderations API (/v1/moderations): input in, a verdict per input out, free.
  | 'moderations'
  // OpenAI's Image API (/v1/images/generations, /edits, /variations): a prompt (or an upload) in, images out.
  | 'images'
  // OpenAI's Audio API: speech to text (/v1/audio/transcriptions, /translations: multipart uploads) and text to speech (/v1/audio/speech).
  | 'audio.transcriptions' | 'audio.speech'
  | 'other';

export type Outcome = 'completed' | 'client_aborted' | 'upstream_error' | 'blocked' | 'proxy_error';

/** A body as captured: the bytes (possibly only a prefix) and what they are. */
export interface Captured {
  /** The bytes as they crossed the wire (still content-encoded), capped at the capture limit. */
  bytes: Buffer;
  /** Total bytes seen on the wire, even past the cap. */
  size: number;
  /** True when `bytes` holds only a prefix of what was sent. */
  truncated: boolean;
}

export interface ToolCall {
  id?: string;
  name: string;
  /** Arguments as the model produced them (a JSON text for both providers). */
  arguments: string;
}

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
  cacheCreationInputTokens?: number;
  /** The part of cacheCreationInputTokens written with the 1-hour TTL (Anthropic), dearer than 5-minute writes. */
  cacheCreation1hTokens?: number;
  /** Web searches the provider ran for the answer (Anthropic's web_search tool, OpenAI Responses' web_search_call items), billed per search. */
  webSearches?: number;
  /** File searches the provider ran for the answer (OpenAI Responses' file_search_call items), billed per call. */
  fileSearches?: number;
  reasoningTokens?: number;
  /** Realtime: the audio part of inputTokens (cached audio included), priced at audio rates. */
  inputAudioTokens?: number;
  /** Realtime: the audio part of cachedInputTokens. */
  cachedAudioTokens?: number;
  /** Realtime: the audio part of outputTokens. */
  outputAudioTokens?: number;
  /**
   * GPT image models and Gemini: the image part of inputTokens (an edit's input images, a
   * prompt's pictures and PDF pages) and of outputTokens (images drawn), priced at image
   * rates. The archive's input/output columns hold the totals; these parts are kept in
   * its usage_parts column (archive/usage-parts.ts), as are the other parts below that
   * have no column of their own (video, audio seconds, searches, 1-hour cache writes).
   */
  inputImageTokens?: number;
  outputImageTokens?: number;
  /** Gemini: the video part of inputTokens (a video in the prompt, Live's camera or screen frames), priced at video rates. */
  inputVideoTokens?: number;
  /** whisper-1: seconds of audio transcribed (its usage is a duration, billed per minute). */
  inputAudioSeconds?: number;
}

/** What a provider parser made of a response body (JSON or SSE). */
export interface Reassembled {
  model?: string;
  /** The answer's own id where later requests chain to it (OpenAI Responses `previous_response_id`). */
  responseId?: string;
  text: string;
  thinking?: string;
  toolCalls: ToolCall[];
  usage?: Usage;
  stopReason?: string;
  /**
   * The provider ended the answer with an error inside a 2xx (a stream's `error`
   * event, a Responses `response.failed`): what arrived is recorded, but it is not
   * an answer to replay from the response cache.
   */
  failed?: true;
  /**
   * A stream that ended before its final usage (Anthropic's `message_delta`: the client
   * pressed Ctrl-C, say): `usage` is the opening's (`message_start`: the input, an output
   * count of a token or so), though the provider bills all the output it generated.
   */
  usagePartial?: true;
  /** Number of SSE events seen (0 for a JSON answer). */
  events: number;
  /** A WebSocket session's responses (one per `response.create`): each is priced at its own model. */
  responses?: ResponsePart[];
  /** A WebSocket session's turns when read back: a Responses session's `response.create` requests, answered or not; a Gemini Live session's model turns. */
  requests?: number;
}

/** One response of a WebSocket session: the model that answered it and what it used. */
export interface ResponsePart {
  model?: string;
  usage?: Usage;
}

/** One WebSocket message as recorded (payload inflated, capped at the capture limit). */
export interface WsMessageRecord {
  /** Order within the session, across both directions, from 0. */
  seq: number;
  direction: 'client' | 'server';
  /** Epoch ms when its last byte passed the proxy. */
  at: number;
  opcode: number;
  /** Payload bytes on the wire (the compressed size when compressed). */
  size: number;
  compressed: boolean;
  truncated: boolean;
  /** Text messages (opcode 1): the payload as UTF-8. */
  text?: string;
  /** Every other opcode: the payload bytes, base64. */
  base64?: string;
  /** Why the payload could not be read (inflate failed, unknown extension bits). */
  error?: string;
}

/** A WebSocket session on an exchange whose upgrade was answered 101. */
export interface WebSocketCapture {
  /** Messages not yet handed to the recorder on their own (long sessions are recorded in batches). */
  messages: WsMessageRecord[];
  /** Messages in the whole session. */
  count: number;
  bytesUp: number;
  bytesDown: number;
}

export interface Exchange {
  id: string;
  /** Groups keep-alive requests of one client connection. */
  connectionId: string;
  /** `label`: the run label a client sent as its proxy credential (`llmtap run --label`, run-label.ts). */
  client: { address: string; user?: string; label?: string; userAgent?: string };
  target: { host: string; port: number; sni?: string; tls: boolean };
  provider?: ProviderId;
  api?: ApiKind;
  request: {
    method: string;
    path: string;
    headers: RawHeaders;
    body: Captured;
    model?: string;
    stream?: boolean;
  };
  response?: {
    status: number;
    headers: RawHeaders;
    body: Captured;
    reassembled?: Reassembled;
    /**
     * The upstream sent trailer fields after a chunked body: they went on to the client
     * (relay.ts) but are not kept (the archive has no place for them), and a cache does not
     * keep such an answer, since it could not send them again.
     */
    hadTrailers?: boolean;
  };
  usage?: Usage;
  /** `usage` was counted by llmtap from the text (recorder/row-estimate.ts): all of it (the answer reported none), or the output of a stream cut after its input was reported. */
  usageEstimated?: 'all' | 'output';
  websocket?: WebSocketCapture;
  /** Epoch milliseconds (fractional, from performance.timeOrigin + now()). */
  timings: { start: number; requestEnd?: number; upstreamHeaders?: number; firstByte?: number; end?: number };
  outcome?: Outcome;
  /** Stable code of the error llmtap made or saw (see errors.ts), when the outcome is not `completed`. */
  errorCode?: string;
  /** The program that sent the request (User-Agent and known headers). */
  tool?: ToolIdentity;
  /** Session, thread and chaining ids the agent put on the wire. */
  agent?: AgentMetadata;
  /** Rate-limit and subscription-quota headers of the answer. */
  quota?: Quota;
  /** Sent with a subscription sign-in (OAuth) rather than an API key: priced as API-equivalent. */
  subscription?: boolean;
  /** What the policy decided (rule, action, enforced or monitor, what changed); absent when no rule matched. */
  policy?: PolicyRecord;
  /**
   * Its price, once something in the proxy needed it before the record was handed over
   * (a budget, the Prometheus cost counter, the live UI): the archive writes this one
   * instead of pricing the exchange again (row-cost.ts priceOf). Only `usd` and `source`
   * travel to the writer thread (record-codec.ts).
   */
  price?: PriceResult;
}

/** Epoch time in fractional milliseconds, monotonic within the process. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function emptyCapture(): Captured {
  return { bytes: Buffer.alloc(0), size: 0, truncated: false };
}

/** Builds an Exchange with defaults; tests pass the parts they care about. */
export function makeExchange(parts: Omit<Partial<Exchange>, 'request'> & { request?: Partial<Exchange['request']> } = {}): Exchange {
  const { request, ...rest } = parts;
  return {
    id: newId(),
    connectionId: randomUUID(),
    client: { address: '127.0.0.1' },
    target: { host: 'api.openai.com', port: 443, tls: true },
    timings: { start: now() },
    ...rest,
    request: { method: 'POST', path: '/', headers: [], body: emptyCapture(), ...request },
  };
}

/** A raw CONNECT tunnel: never decrypted, recorded only as host, bytes and duration. */
export interface TunnelRecord {
  id: string;
  clientAddress: string;
  clientUser?: string;
  host: string;
  port: number;
  start: number;
  end: number;
  bytesUp: number;
  bytesDown: number;
  /** 'closed' normally; an error code when the tunnel failed. */
  outcome: string;
}

/** Case-insensitive lookup of the first value of a header in a raw list. */
export function headerValue(headers: RawHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  // Lower-casing only names of the right length: this runs a dozen times per exchange
  // (agent metadata, tool identity), and a lowered copy of every name each time was garbage.
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const h = headers[i]!;
    if (h.length === lower.length && (h === lower || h.toLowerCase() === lower)) return headers[i + 1];
  }
  return undefined;
}

/**
 * Headers for a body llmtap rewrote (redaction, a clamp, a model rewrite): it goes up
 * identity-encoded with its own length, never a stale Content-Length or coding.
 */
export function withBodyLength(raw: RawHeaders, length: number): RawHeaders {
  const out: RawHeaders = [];
  let placed = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'content-encoding' || name === 'transfer-encoding') continue;
    if (name === 'content-length') {
      if (!placed) out.push(raw[i]!, String(length));
      placed = true;
      continue;
    }
    out.push(raw[i]!, raw[i + 1]!);
  }
  if (!placed) out.push('content-length', String(length));
  return out;
}
