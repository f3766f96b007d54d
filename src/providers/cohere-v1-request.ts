import { asObject, type JsonObject } from './json.js';

/**
 * A Cohere Chat v1 request (/v1/chat) put as Chat v2 messages (Chat Completions ones plus an
 * assistant's `tool_plan`), so the readers of those (sessions' conversation, the usage
 * estimate) read it too: the `preamble` is the
 * system message; `chat_history` turns are USER, CHATBOT (`message`, `tool_calls` of
 * `{name, parameters}`), SYSTEM and TOOL (`tool_results` of `{call, outputs}`); then the
 * top-level `tool_results` (results sent for the last turn's calls) and `message`, the
 * user's new turn. v1 calls carry no ids, so the results name none. Undefined when the
 * body has neither a message nor a history.
 */
export function cohereV1Messages(request: JsonObject): JsonObject[] | undefined {
  const history = Array.isArray(request.chat_history) ? request.chat_history : undefined;
  if (typeof request.message !== 'string' && !history) return undefined;
  const messages: JsonObject[] = [];
  if (typeof request.preamble === 'string' && request.preamble !== '') messages.push({ role: 'system', content: request.preamble });
  for (const raw of history ?? []) {
    const turn = asObject(raw);
    if (!turn) continue;
    const role = typeof turn.role === 'string' ? turn.role.toUpperCase() : 'USER';
    if (role === 'TOOL') {
      messages.push(...toolMessages(turn.tool_results));
      continue;
    }
    const message: JsonObject = { role: role === 'CHATBOT' ? 'assistant' : role === 'SYSTEM' ? 'system' : 'user' };
    const calls = Array.isArray(turn.tool_calls) && turn.tool_calls.length > 0 ? turn.tool_calls : undefined;
    // A CHATBOT turn that calls tools says its plan in `message`: Chat v2's `tool_plan`, the
    // thinking the answer's reducer reports for it (cohere-v1.ts).
    if (typeof turn.message === 'string' && turn.message !== '') message[calls && role === 'CHATBOT' ? 'tool_plan' : 'content'] = turn.message;
    if (calls) message.tool_calls = calls.map(callAsChat);
    messages.push(message);
  }
  messages.push(...toolMessages(request.tool_results));
  if (typeof request.message === 'string' && request.message !== '') messages.push({ role: 'user', content: request.message });
  return messages;
}

function callAsChat(raw: unknown): JsonObject {
  const call = asObject(raw) ?? {};
  return { type: 'function', function: { name: typeof call.name === 'string' ? call.name : '', arguments: JSON.stringify(call.parameters ?? {}) } };
}

/** One tool message per result: its outputs (a list of objects) as JSON. */
function toolMessages(results: unknown): JsonObject[] {
  if (!Array.isArray(results)) return [];
  return results.map((raw) => ({ role: 'tool', content: JSON.stringify(asObject(raw)?.outputs ?? []) }));
}
