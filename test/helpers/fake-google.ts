import type { IncomingMessage, ServerResponse } from 'node:http';
import { FAIL_MID_STREAM } from './fake-faults.js';

/**
 * The fake provider's Google endpoints in their documented wire formats:
 * generateContent (one JSON object), streamGenerateContent (SSE with `alt=sse`, a
 * streamed JSON array without), countTokens, embedContent and batchEmbedContents — under the Gemini API's
 * /v1beta/models/{m}:…, Vertex AI's …/publishers/google/models/{m}:… and Gemini CLI's
 * Code Assist /v1internal:… (answers wrapped as `{response: …}`).
 */
export const GEMINI_TEXT = 'Gemini from the fake — grüß dich 🌤️';
/** A prompt containing this is answered as blocked by Gemini's safety filters. */
export const BLOCKED_PROMPT = 'a prompt the filters block';

const METHOD = /(?:\/models\/([^/:]+)|\/v1internal):(generateContent|streamGenerateContent|countTokens)$/;

/** embedContent and batchEmbedContents: the Gemini API counts no tokens in either answer. */
const EMBED = /\/models\/([^/:]+):(embedContent|batchEmbedContents)$/;

/** Handles the request when it is one of these endpoints; false otherwise. */
export async function googleRoute(req: IncomingMessage, res: ServerResponse, url: URL, body: Record<string, unknown>): Promise<boolean> {
  const embed = EMBED.exec(url.pathname);
  if (embed) {
    const values = [0.0123, -0.0456, 0.0789];
    const batch = Array.isArray(body.requests) ? body.requests : [];
    // A model the body names (each batch request's `model`, `models/{m}`) must be the path's.
    const named = [body.model, ...batch.map((r) => (r as { model?: unknown }).model)].filter((m) => m !== undefined);
    const other = named.find((m) => m !== `models/${embed[1]}`);
    if (other !== undefined) return json(res, { error: { code: 400, message: `model ${JSON.stringify(other)} does not match the path's models/${embed[1]}`, status: 'INVALID_ARGUMENT' } }, 400);
    return json(res, embed[2] === 'embedContent' ? { embedding: { values } } : { embeddings: batch.map(() => ({ values })) });
  }
  const m = METHOD.exec(url.pathname);
  if (!m) return false;
  const codeAssist = m[1] === undefined;
  const model = m[1] ?? (typeof body.model === 'string' ? body.model : 'gemini-2.5-pro');
  const wrap = (chunk: object): object => (codeAssist ? { response: chunk, traceId: 'trace-fake' } : chunk);
  if (m[2] === 'countTokens') return json(res, { totalTokens: 7 });
  // A prompt the safety filters refuse: no candidates, only promptFeedback.blockReason (also as the one chunk of a stream).
  const chunks = JSON.stringify(body.contents ?? '').includes(BLOCKED_PROMPT)
    ? [{ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 6, totalTokenCount: 6 }, modelVersion: model, responseId: 'resp-blocked' }]
    : geminiChunks(model, JSON.stringify(body.tools ?? []).includes('googleSearch'));
  // A stream that fails part-way: Gemini sends the error as one more chunk, the 200 long gone.
  if (JSON.stringify(body.contents ?? '').includes(FAIL_MID_STREAM)) chunks.splice(1, chunks.length - 1, { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } });
  if (m[2] === 'generateContent' && chunks.length === 1) return json(res, wrap(chunks[0]!));
  if (m[2] === 'generateContent') {
    const whole = { ...chunks[chunks.length - 1]!, candidates: [{ content: { role: 'model', parts: [{ text: GEMINI_TEXT }] }, finishReason: 'STOP', index: 0 }] };
    return json(res, wrap(whole));
  }
  if (url.searchParams.get('alt') === 'sse') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-goog-request-id': 'fake' });
    for (const chunk of chunks) {
      res.write(`data: ${JSON.stringify(wrap(chunk))}\r\n\r\n`);
      await new Promise((r) => setImmediate(r));
    }
    res.end();
    return true;
  }
  res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
  res.write('[');
  chunks.forEach((chunk, i) => res.write(`${i === 0 ? '' : ',\r\n'}${JSON.stringify(wrap(chunk), null, 2)}`));
  res.end(']');
  return true;
}

/** `grounded`: the request offered Google Search, whose prompt the usage counts apart (toolUsePromptTokenCount). */
function geminiChunks(model: string, grounded = false): object[] {
  const tool = grounded ? { toolUsePromptTokenCount: 150 } : {};
  const half = GEMINI_TEXT.indexOf('—');
  const part = (text: string) => ({ candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0 }], modelVersion: model, responseId: 'resp-fake' });
  return [
    { ...part(GEMINI_TEXT.slice(0, half)), usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 } },
    { ...part(GEMINI_TEXT.slice(half)), candidates: [{ content: { role: 'model', parts: [{ text: GEMINI_TEXT.slice(half) }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 12, ...tool, totalTokenCount: grounded ? 171 : 21 } },
  ];
}

function json(res: ServerResponse, value: unknown, status = 200): true {
  const payload = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
  return true;
}
