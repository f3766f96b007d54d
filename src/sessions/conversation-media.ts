import { asObject, parseJson, type JsonObject } from '../providers/json.js';
import { multipartFields } from '../providers/multipart-fields.js';
import type { Block, Conversation } from './conversation.js';

/**
 * OpenAI's non-chat model APIs read for `show`, the session view and search: what the
 * user gave the model, as one user message.
 */

/** Moderations: the input (a string, strings, or text and image_url parts); an image is shown as such, never its data. */
export function readModerations(request: JsonObject): Conversation | undefined {
  const inputs = Array.isArray(request.input) ? request.input : [request.input];
  const blocks: Block[] = [];
  for (const input of inputs) {
    if (typeof input === 'string') blocks.push({ type: 'text', text: input });
    const part = asObject(input);
    if (part?.type === 'text' && typeof part.text === 'string') blocks.push({ type: 'text', text: part.text });
    else if (part?.type === 'image_url') blocks.push({ type: 'other', kind: 'image' });
  }
  return blocks.length > 0 ? { tools: [], messages: [{ role: 'user', blocks }] } : undefined;
}

/**
 * Image generation: the prompt as the user's words, then what was asked for
 * (`2 images, 1024x1024, high`). A JSON body, or an edit's upload read by imageUploadRequest.
 */
export function readImageRequest(request: JsonObject): Conversation | undefined {
  if (typeof request.prompt !== 'string') return undefined;
  const n = typeof request.n === 'number' ? request.n : 1;
  const asked = [`${n} image${n === 1 ? '' : 's'}`, ...[request.size, request.quality].filter((v): v is string => typeof v === 'string' && v !== '' && v !== 'auto')];
  return { tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: request.prompt }, { type: 'other', kind: asked.join(', ') }] }] };
}

/** Text to speech: the instructions as the system prompt, the text to speak as the user's words, then the voice. */
export function readSpeechRequest(request: JsonObject): Conversation | undefined {
  if (typeof request.input !== 'string') return undefined;
  const blocks: Block[] = [{ type: 'text', text: request.input }];
  if (typeof request.voice === 'string') blocks.push({ type: 'other', kind: `voice ${request.voice}` });
  const conversation: Conversation = { tools: [], messages: [{ role: 'user', blocks }] };
  if (typeof request.instructions === 'string' && request.instructions !== '') conversation.system = request.instructions;
  return conversation;
}

/**
 * An image edit's stored multipart upload as the request object readImageRequest reads:
 * its `prompt`, `n`, `size` and `quality` form fields (the images are skipped). Undefined
 * for anything but a multipart body (the stored headers, as recorded, name its type).
 */
export function imageUploadRequest(body: Buffer, headersJson: string): JsonObject | undefined {
  const pairs = parseJson(headersJson);
  if (!Array.isArray(pairs)) return undefined;
  const contentType = pairs.find((p): p is [string, string] => Array.isArray(p) && typeof p[0] === 'string' && p[0].toLowerCase() === 'content-type' && typeof p[1] === 'string')?.[1];
  const fields = multipartFields(body, contentType, ['prompt', 'n', 'size', 'quality']);
  if (fields.prompt === undefined) return undefined;
  const request: JsonObject = { ...fields };
  if (fields.n !== undefined && /^\d+$/.test(fields.n)) request.n = Number(fields.n);
  return request;
}
