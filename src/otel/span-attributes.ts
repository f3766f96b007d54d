import {
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { decodeBody } from '../content-encoding.js';
import { effectiveUpstream } from '../cost/effective-upstream.js';
import { headerValue, type Exchange } from '../exchange.js';
import { isErrorStopReason } from '../failed-exchange.js';
import type { Redactor } from '../redact/redactor.js';
import { usageOutputTokens } from '../providers/usage-totals.js';

/**
 * The GenAI attribute names (OpenTelemetry semantic conventions, gen_ai.* — still
 * "development" status). Copied here rather than imported from the package's
 * `incubating` entry point, as the package itself advises: incubating names may move
 * in a minor release, and a span's attribute names are a contract with dashboards.
 */
export const GEN_AI = {
  system: 'gen_ai.system',
  providerName: 'gen_ai.provider.name',
  operationName: 'gen_ai.operation.name',
  requestModel: 'gen_ai.request.model',
  requestStream: 'gen_ai.request.stream',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read_input_tokens',
  cacheCreationTokens: 'gen_ai.usage.cache_creation_input_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning_output_tokens',
  conversationId: 'gen_ai.conversation.id',
  timeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  systemInstructions: 'gen_ai.system_instructions',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
} as const;

/** llmtap provider ids → the conventions' well-known gen_ai.provider.name values; the rest keep llmtap's id. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  gemini: 'gcp.gemini', 'vertex-ai': 'gcp.vertex_ai', 'gemini-code-assist': 'gcp.gen_ai', bedrock: 'aws.bedrock',
  'azure-openai': 'azure.ai.openai', mistral: 'mistral_ai', xai: 'x_ai',
};

/** llmtap API kinds → gen_ai.operation.name (well-known values where one fits). */
const OPERATIONS: Readonly<Record<string, string>> = {
  'chat.completions': 'chat', messages: 'chat', responses: 'chat', 'ollama.chat': 'chat', 'bedrock.converse': 'chat', 'bedrock.invoke': 'chat',
  embeddings: 'embeddings', 'ollama.generate': 'text_completion', completions: 'text_completion', 'gemini.generateContent': 'generate_content',
  'gemini.countTokens': 'count_tokens', 'messages.countTokens': 'count_tokens', 'bedrock.countTokens': 'count_tokens', realtime: 'realtime', 'gemini.live': 'realtime', 'cohere.chat': 'chat', 'cohere.chat.v1': 'chat', rerank: 'rerank',
  moderations: 'moderation', images: 'image_generation',
  'audio.transcriptions': 'transcription', 'audio.speech': 'speech',
};

export type AttributeValue = string | number | boolean | string[];

export interface SpanData {
  name: string;
  /** Epoch milliseconds. */
  startTime: number;
  endTime: number;
  attributes: Record<string, AttributeValue>;
  /** Set when the exchange failed: the span's status is ERROR with this message. */
  error?: string;
}

export interface SpanOptions {
  /** Prompt and answer text on the span (--otlp-content); always through the redactor. */
  content: boolean;
  redactor: Redactor;
}

/** One finished exchange as a GenAI client span. Pure: the exporter (otlp-export.ts) sends it. */
export function exchangeSpan(ex: Exchange, options: SpanOptions): SpanData {
  const { redactor } = options;
  const reassembled = ex.response?.reassembled;
  const operation = OPERATIONS[ex.api ?? ''] ?? ex.api ?? 'other';
  // A routed exchange is described where it went (the upstream that answered, the model sent), as it is priced.
  const routed = effectiveUpstream(ex);
  const providerId = routed ? routed.provider : ex.provider;
  const provider = PROVIDER_NAMES[providerId ?? ''] ?? providerId ?? 'other';
  const a: Record<string, AttributeValue> = {
    [GEN_AI.operationName]: operation,
    [GEN_AI.providerName]: provider,
    // The older name, which many backends still key their GenAI views on.
    [GEN_AI.system]: provider,
    [ATTR_HTTP_REQUEST_METHOD]: ex.request.method,
    [ATTR_SERVER_ADDRESS]: redactor.text(routed?.host ?? ex.target.host),
    [ATTR_SERVER_PORT]: routed?.port ?? ex.target.port,
    // Never the query: Gemini's ?key= travels there.
    [ATTR_URL_PATH]: redactor.logPath(ex.request.path),
    'llmtap.exchange.id': ex.id,
  };
  const set = (key: string, value: AttributeValue | undefined): void => {
    if (value !== undefined && value !== '') a[key] = value;
  };
  const text = (value: string | undefined): string | undefined => (value === undefined ? undefined : redactor.text(value));
  set(GEN_AI.requestModel, text(routed?.model ?? ex.request.model));
  if (routed) {
    // What the client asked for, when a rule sent it elsewhere.
    set('llmtap.route.requested_host', redactor.text(ex.target.host));
    if (routed.model !== undefined) set('llmtap.route.requested_model', text(ex.request.model));
  }
  set(GEN_AI.responseModel, text(reassembled?.model));
  set(GEN_AI.responseId, text(reassembled?.responseId));
  if (ex.request.stream !== undefined) set(GEN_AI.requestStream, ex.request.stream);
  if (reassembled?.stopReason) set(GEN_AI.finishReasons, [redactor.text(reassembled.stopReason)]);
  const usage = ex.usage ?? reassembled?.usage;
  set(GEN_AI.inputTokens, usage?.inputTokens);
  set(GEN_AI.outputTokens, usageOutputTokens(usage, ex.api, ex.provider));
  set(GEN_AI.cacheReadTokens, usage?.cachedInputTokens);
  set(GEN_AI.cacheCreationTokens, usage?.cacheCreationInputTokens);
  set(GEN_AI.reasoningTokens, usage?.reasoningTokens);
  // Counted by llmtap's archive from the text (the answer reported none, or a stream was cut): otel/span-hold.ts.
  if (ex.usageEstimated) {
    a['llmtap.usage_estimated'] = true;
    // `output`: the input tokens are the provider's, only the output was counted by llmtap.
    a['llmtap.usage_estimated_part'] = ex.usageEstimated;
  }
  set(GEN_AI.conversationId, text(ex.agent?.threadId ?? ex.agent?.conversationId ?? ex.agent?.sessionId));
  set('session.id', text(ex.agent?.sessionId));
  set('llmtap.tool.name', text(ex.tool?.name));
  set('llmtap.tool.version', text(ex.tool?.version));
  set('llmtap.outcome', ex.outcome);
  set('llmtap.client.user', text(ex.client.user));
  set('user_agent.original', text(ex.client.userAgent));
  if (ex.response && ex.response.status > 0) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = ex.response.status;
  const { start, firstByte, end } = ex.timings;
  if (ex.request.stream && firstByte !== undefined) a[GEN_AI.timeToFirstChunk] = Math.max(0, firstByte - start) / 1000;

  const status = ex.response?.status ?? 0;
  // The provider's own error inside a 2xx (a stream it ended with an error event) fails the span too, named by its kind.
  const stop = reassembled?.stopReason;
  const error = ex.errorCode ?? (ex.outcome !== undefined && ex.outcome !== 'completed' ? ex.outcome : status >= 400 ? String(status)
    : isErrorStopReason(stop) ? redactor.text(stop!) : undefined);
  if (error !== undefined) a[ATTR_ERROR_TYPE] = error;
  if (options.content) Object.assign(a, contentAttributes(ex, redactor));

  const model = reassembled?.model ?? routed?.model ?? ex.request.model;
  const span: SpanData = {
    name: model ? `${operation} ${redactor.text(model)}` : operation,
    startTime: start,
    endTime: Math.max(start, end ?? start),
    attributes: a,
  };
  if (error !== undefined) span.error = error;
  return span;
}

/** Request fields that carry the prompt, per wire API: system instructions apart, the conversation as sent. */
const SYSTEM_FIELDS = ['system', 'instructions', 'systemInstruction'];
const INPUT_FIELDS = ['messages', 'input', 'contents', 'prompt'];

/**
 * --otlp-content: the system instructions and input messages as the request sent
 * them (provider-native JSON: the conventions' message shape would need a converter
 * per API), and the answer in the conventions' output-message shape. Every text
 * goes through the redactor (credential keys, key shapes, the operator's patterns).
 */
function contentAttributes(ex: Exchange, redactor: Redactor): Record<string, string> {
  const out: Record<string, string> = {};
  const decoded = ex.request.body.bytes.length > 0 ? decodeBody(ex.request.body.bytes, headerValue(ex.request.headers, 'content-encoding')) : undefined;
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = decoded ? JSON.parse(decoded.toString('utf8')) : undefined;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // A truncated capture or a non-JSON body: no input content.
  }
  const pick = (fields: string[]): unknown => fields.map((f) => body?.[f]).find((v) => v !== undefined);
  const system = pick(SYSTEM_FIELDS);
  if (system !== undefined) out[GEN_AI.systemInstructions] = redactor.json(JSON.stringify(system));
  const input = pick(INPUT_FIELDS);
  if (input !== undefined) out[GEN_AI.inputMessages] = redactor.json(JSON.stringify(input));
  const reassembled = ex.response?.reassembled;
  if (reassembled) {
    const parts: Array<Record<string, string>> = [];
    if (reassembled.thinking) parts.push({ type: 'reasoning', content: reassembled.thinking });
    if (reassembled.text) parts.push({ type: 'text', content: reassembled.text });
    for (const call of reassembled.toolCalls) parts.push({ type: 'tool_call', ...(call.id ? { id: call.id } : {}), name: call.name, arguments: call.arguments });
    const message: Record<string, unknown> = { role: 'assistant', parts };
    if (reassembled.stopReason) message.finish_reason = reassembled.stopReason;
    out[GEN_AI.outputMessages] = redactor.json(JSON.stringify([message]));
  }
  return out;
}
