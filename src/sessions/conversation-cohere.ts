import { cohereV1Messages } from '../providers/cohere-v1-request.js';
import { asObject, type JsonObject } from '../providers/json.js';
import type { Conversation } from './conversation.js';
import { readChatCompletions } from './conversation-openai.js';
import { str } from './conversation-util.js';

/**
 * Cohere Chat API v2 (/v2/chat): `messages` as Chat Completions has them (system, user,
 * assistant with `tool_calls`, tool with `tool_call_id`), read by the same reader once
 * Cohere's own parts are put in its terms: an assistant's `thinking` parts and
 * `tool_plan` become its thinking (in the order the answer's reducer reports them,
 * providers/cohere.ts), and a tool result's `document` parts their data as text.
 */
export function readCohereChat(request: JsonObject): Conversation | undefined {
  if (!Array.isArray(request.messages)) return undefined;
  return readChatCompletions({ ...request, messages: request.messages.map((m) => cohereMessage(asObject(m)) ?? m) });
}

function cohereMessage(message: JsonObject | undefined): JsonObject | undefined {
  if (!message) return undefined;
  if (message.role === 'tool' && Array.isArray(message.content)) return { ...message, content: message.content.map(documentAsText) };
  if (message.role !== 'assistant') return message;
  const thoughts: string[] = [];
  let content = message.content;
  if (Array.isArray(content)) {
    content = content.filter((raw) => {
      const part = asObject(raw);
      if (part?.type !== 'thinking') return true;
      const text = str(part.thinking);
      if (text) thoughts.push(text);
      return false;
    });
  }
  const plan = str(message.tool_plan);
  if (plan) thoughts.push(plan);
  const { tool_plan: _plan, ...rest } = message;
  return thoughts.length === 0 ? { ...rest, content } : { ...rest, content, thinking: thoughts.join('\n\n') };
}

/** `{type: "document", document: {data}}` → a text part of its data (a string, or an object as JSON). */
function documentAsText(raw: unknown): unknown {
  const part = asObject(raw);
  if (part?.type !== 'document') return raw;
  const data = asObject(part.document)?.data;
  return { type: 'text', text: typeof data === 'string' ? data : JSON.stringify(data ?? null) };
}

/** Cohere's legacy Chat API (/v1/chat): its preamble, history, tool results and message as Chat v2 messages (providers/cohere-v1-request.ts). */
export function readCohereChatV1(request: JsonObject): Conversation | undefined {
  const messages = cohereV1Messages(request);
  return messages ? readCohereChat({ tools: request.tools, messages }) : undefined;
}
