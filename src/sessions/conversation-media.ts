import { asObject, type JsonObject } from '../providers/json.js';
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
