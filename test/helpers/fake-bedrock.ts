import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { FAIL_MID_STREAM, HOLD_AFTER_TEXT } from './fake-faults.js';

/**
 * The fake provider's Amazon Bedrock runtime endpoints in their documented wire
 * formats: Converse (JSON), ConverseStream and InvokeModelWithResponseStream (binary
 * application/vnd.amazon.eventstream frames made by AWS's own encoder), InvokeModel
 * with Claude's Messages format (Meta Llama's `generation` format for meta.llama ids,
 * Mistral's `outputs` for mistral and cohere ids, with Bedrock's token-count headers).
 * Used with the real @aws-sdk/client-bedrock-runtime.
 */
export const BEDROCK_TEXT = 'Bedrock from the fake — hallå 🌊';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One eventstream frame as Bedrock sends it. */
export function eventFrame(type: string, payload: object): Uint8Array {
  return codec.encode({
    headers: { ':event-type': { type: 'string', value: type }, ':content-type': { type: 'string', value: 'application/json' }, ':message-type': { type: 'string', value: 'event' } },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/**
 * Converse usage: a request with a `cachePoint` wrote 3000 tokens to the prompt cache,
 * split by TTL in `cacheDetails` as Bedrock reports it (the point's `ttl`, else 5 minutes).
 */
function converseUsage(request: Record<string, unknown>): Record<string, unknown> {
  const usage = { inputTokens: 14, outputTokens: 11, totalTokens: 25 };
  const asked = JSON.stringify(request);
  if (!asked.includes('"cachePoint"')) return usage;
  const ttl = asked.includes('"ttl":"1h"') ? '1h' : '5m';
  return { ...usage, totalTokens: 3025, cacheWriteInputTokens: 3000, cacheDetails: [{ ttl, inputTokens: 3000 }] };
}

/** ConverseStream's events for BEDROCK_TEXT and one tool call. */
export function converseStreamFrames(usage: Record<string, unknown> = { inputTokens: 14, outputTokens: 11, totalTokens: 25, cacheReadInputTokens: 4 }): Uint8Array[] {
  const half = BEDROCK_TEXT.indexOf('—');
  return [
    eventFrame('messageStart', { role: 'assistant', p: 'abc' }),
    eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: BEDROCK_TEXT.slice(0, half) }, p: 'ab' }),
    eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: BEDROCK_TEXT.slice(half) }, p: 'abcd' }),
    eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
    eventFrame('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather' } } }),
    eventFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } }),
    eventFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '"Oslo"}' } } }),
    eventFrame('contentBlockStop', { contentBlockIndex: 1 }),
    eventFrame('messageStop', { stopReason: 'tool_use' }),
    eventFrame('metadata', { usage, metrics: { latencyMs: 120 } }),
  ];
}

/**
 * InvokeModelWithResponseStream for Claude: each chunk carries one Messages event, base64.
 * A request with a `cache_control` block wrote 3000 tokens to the prompt cache, split by
 * TTL in `cache_creation` as Anthropic reports it (the block's `ttl`, else 5 minutes).
 */
export function claudeInvokeFrames(model: string, request: Record<string, unknown> = {}): Uint8Array[] {
  const asked = JSON.stringify(request);
  const hour = asked.includes('"ttl":"1h"');
  const writes = asked.includes('"cache_control"')
    ? { cache_creation_input_tokens: 3000, cache_creation: { ephemeral_5m_input_tokens: hour ? 0 : 3000, ephemeral_1h_input_tokens: hour ? 3000 : 0 } }
    : {};
  const events = [
    { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: claudeAnswerModel(model), content: [], usage: { input_tokens: 14, output_tokens: 1, ...writes } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: BEDROCK_TEXT } },
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 11 } },
    { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 14, outputTokenCount: 11, invocationLatency: 300, firstByteLatency: 90 } },
  ];
  return events.map((e) => eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(e)).toString('base64') }));
}

/** Models answered in Mistral's native shape, whose body counts no tokens (Mistral; Cohere here too). */
function isNativeCountless(modelId: string): boolean {
  return /(^|\.)(mistral|cohere)\./.test(modelId);
}

/** InvokeModelWithResponseStream for Mistral: text in `outputs`, Bedrock's counts on the last chunk. */
export function mistralInvokeFrames(): Uint8Array[] {
  const half = BEDROCK_TEXT.indexOf('—');
  const chunks = [
    { outputs: [{ text: BEDROCK_TEXT.slice(0, half), stop_reason: null }] },
    { outputs: [{ text: BEDROCK_TEXT.slice(half), stop_reason: 'stop' }], 'amazon-bedrock-invocationMetrics': { inputTokenCount: 14, outputTokenCount: 11, invocationLatency: 300, firstByteLatency: 90 } },
  ];
  return chunks.map((c) => eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(c)).toString('base64') }));
}

/**
 * The model a Claude answer on Bedrock names: Anthropic's own id, without the Bedrock
 * prefix, inference-profile scope, ARN or version (`global.anthropic.claude-x-20250929-v1:0`
 * answers as `claude-x-20250929`).
 */
export function claudeAnswerModel(modelId: string): string {
  return modelId.slice(modelId.lastIndexOf('/') + 1).replace(/^(?:[a-z]+\.)?anthropic\./, '').replace(/-v\d+(?::\d+)?$/, '');
}

/** ConverseStream cut by an exception frame (`:message-type: exception`), as Bedrock ends a failing stream. */
function failingConverseFrames(): Uint8Array[] {
  return [eventFrame('messageStart', { role: 'assistant' }), eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Bedrock' } }), exceptionFrame('modelStreamErrorException')];
}

/** The exception frame (`:message-type: exception`) Bedrock ends a failing stream with. */
export function exceptionFrame(type: string): Uint8Array {
  return codec.encode({
    headers: { ':exception-type': { type: 'string', value: type }, ':content-type': { type: 'string', value: 'application/json' }, ':message-type': { type: 'string', value: 'exception' } },
    body: fromUtf8(JSON.stringify({ message: 'The model failed mid-stream.', originalStatusCode: 500 })),
  });
}

const PATH = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/;

/** Handles the request when it is a Bedrock runtime endpoint; false otherwise. */
export async function bedrockRoute(_req: IncomingMessage, res: ServerResponse, pathname: string, request: Record<string, unknown> = {}): Promise<boolean> {
  const m = PATH.exec(pathname);
  if (!m) return false;
  const model = decodeURIComponent(m[1]!);
  const failing = m[2] === 'converse-stream' && JSON.stringify(request.messages ?? []).includes(FAIL_MID_STREAM);
  const cached = JSON.stringify(request).includes('"cachePoint"');
  const frames = failing ? failingConverseFrames() : m[2] === 'converse-stream' ? converseStreamFrames(cached ? converseUsage(request) : undefined)
    : m[2] === 'invoke-with-response-stream' ? (isNativeCountless(model) ? mistralInvokeFrames() : claudeInvokeFrames(model, request)) : undefined;
  if (frames) {
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'fake-request' });
    if (m[2] === 'invoke-with-response-stream' && JSON.stringify(request.messages ?? []).includes(HOLD_AFTER_TEXT)) {
      // message_start, content_block_start and the text, then the model "thinks" until the client leaves.
      for (const frame of frames.slice(0, 3)) res.write(frame);
      await new Promise((resolve) => {
        res.once('close', resolve);
        setTimeout(resolve, 5000).unref();
      });
      res.end();
      return true;
    }
    for (const frame of frames) {
      res.write(frame);
      await new Promise((r) => setImmediate(r));
    }
    res.end();
    return true;
  }
  const body = m[2] === 'converse'
    ? { output: { message: { role: 'assistant', content: [{ text: BEDROCK_TEXT }] } }, stopReason: 'end_turn', usage: converseUsage(request), metrics: { latencyMs: 100 } }
    : /(^|\.)meta\.llama/.test(model)
      // Meta Llama's native InvokeModel answer: its own token counts, no invocation metrics.
      ? { generation: BEDROCK_TEXT, prompt_token_count: 14, generation_token_count: 11, stop_reason: 'stop' }
      : isNativeCountless(model)
        // Mistral's native answer (Cohere's and AI21's alike): no token counts in the body.
        ? { outputs: [{ text: BEDROCK_TEXT, stop_reason: 'stop' }] }
        : { id: 'msg_2', type: 'message', role: 'assistant', model: claudeAnswerModel(model), content: [{ type: 'text', text: BEDROCK_TEXT }], stop_reason: 'end_turn', usage: { input_tokens: 14, output_tokens: 11 } };
  const payload = JSON.stringify(body);
  // Bedrock's own counts of every InvokeModel answer, whatever its body says.
  const counts = m[2] === 'invoke' ? { 'x-amzn-bedrock-input-token-count': '14', 'x-amzn-bedrock-output-token-count': '11', 'x-amzn-bedrock-invocation-latency': '300' } : {};
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-amzn-requestid': 'fake-request', ...counts });
  res.end(payload);
  return true;
}
