import { asObject, type JsonObject } from '../providers/json.js';
import type { Block, Conversation, ConversationMessage, Role } from './conversation.js';
import { partsText, pushMessage, str, toolCall, toolNames, toolResult } from './conversation-util.js';

/**
 * Chat Completions: `messages` with string or part-list content, assistant `tool_calls`
 * (and the legacy `function_call`), `tool`/`function` results. Leading system/developer
 * messages become `system`; later ones stay in place.
 */
export function readChatCompletions(request: JsonObject): Conversation | undefined {
  if (!Array.isArray(request.messages)) return undefined;
  const tools = toolNames(request.tools);
  if (tools.length === 0) tools.push(...toolNames(request.functions));
  return withLeadingSystem(request.messages.map((m) => chatMessage(asObject(m))).filter((m) => m !== undefined), tools);
}

/**
 * Text Completions (Copilot's inline suggestions, FIM): one user message, the prompt (a
 * string or strings) and, where the answer is to fit between, the suffix as a text labelled
 * `suffix`. A prompt of token ids has no text to show: undefined, as for an API without one.
 */
export function readTextCompletions(request: JsonObject): Conversation | undefined {
  const prompts = typeof request.prompt === 'string' ? [request.prompt] : Array.isArray(request.prompt) ? request.prompt.filter((p): p is string => typeof p === 'string') : [];
  if (prompts.length === 0) return undefined;
  const blocks: Block[] = prompts.map((text) => ({ type: 'text', text }));
  if (typeof request.suffix === 'string' && request.suffix !== '') blocks.push({ type: 'text', text: request.suffix, label: 'suffix' });
  return { tools: [], messages: [{ role: 'user', blocks }] };
}

/** Ollama /api/chat: the Chat Completions shape with object arguments, `thinking` and `images`. */
export function readOllamaChat(request: JsonObject): Conversation | undefined {
  return readChatCompletions(request);
}

function chatMessage(message: JsonObject | undefined): ConversationMessage | undefined {
  if (!message) return undefined;
  const role = str(message.role) ?? 'user';
  if (role === 'tool' || role === 'function') {
    // Ollama names the tool (`tool_name`) instead of an id.
    return { role: 'tool', blocks: [toolResult(partsText(message.content), message.tool_call_id ?? message.tool_name ?? message.name)] };
  }
  const blocks: Block[] = [];
  // DeepSeek's reasoning_content, Ollama's thinking, OpenRouter's reasoning.
  const thinking = str(message.reasoning_content) ?? str(message.thinking) ?? str(message.reasoning);
  if (thinking) blocks.push({ type: 'thinking', text: thinking });
  blocks.push(...contentBlocks(message.content));
  if (typeof message.refusal === 'string' && message.refusal !== '') blocks.push({ type: 'text', text: message.refusal });
  if (Array.isArray(message.tool_calls)) {
    for (const raw of message.tool_calls) {
      const call = asObject(raw);
      const fn = asObject(call?.function);
      if (fn && typeof fn.name === 'string') blocks.push(toolCall(fn.name, fn.arguments, call?.id));
    }
  }
  const legacy = asObject(message.function_call);
  if (legacy && typeof legacy.name === 'string') blocks.push(toolCall(legacy.name, legacy.arguments, undefined));
  if (Array.isArray(message.images)) for (let i = 0; i < message.images.length; i++) blocks.push({ type: 'other', kind: 'image' });
  return { role: role === 'assistant' ? 'assistant' : role === 'system' || role === 'developer' ? 'system' : 'user', blocks };
}

/** String content or a part list: text parts as text, the rest (images, audio, files) as `other`. */
function contentBlocks(content: unknown): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const out: Block[] = [];
  for (const raw of content) {
    const part = asObject(raw);
    if (!part) continue;
    const type = str(part.type) ?? 'text';
    const text = str(part.text) ?? (type === 'refusal' ? str(part.refusal) : undefined);
    if (text !== undefined) out.push({ type: 'text', text });
    else out.push({ type: 'other', kind: type });
  }
  return out;
}

function withLeadingSystem(messages: ConversationMessage[], tools: string[]): Conversation {
  let lead = 0;
  while (lead < messages.length && messages[lead]!.role === 'system') lead++;
  const conversation: Conversation = { tools, messages: messages.slice(lead) };
  if (lead > 0) conversation.system = messages.slice(0, lead).map((m) => blocksText(m.blocks)).join('\n\n');
  return conversation;
}

function blocksText(blocks: Block[]): string {
  return blocks.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

/**
 * Responses API: `instructions` is the system prompt; `input` is a string or a list of
 * items. Consecutive model-side items (assistant messages, function calls, reasoning)
 * fold into one assistant message, as Chat Completions and the reassembled answer
 * show them; each call output is one tool message. Item `id`s, `status` and
 * `encrypted_content` are dropped: Codex resends items with and without them.
 */
export function readResponses(request: JsonObject): Conversation | undefined {
  const conversation: Conversation = { tools: toolNames(request.tools), messages: [] };
  if (typeof request.instructions === 'string') conversation.system = request.instructions;
  const input = request.input;
  if (typeof input === 'string') {
    conversation.messages.push({ role: 'user', blocks: [{ type: 'text', text: input }] });
    return conversation;
  }
  if (!Array.isArray(input)) return request.instructions === undefined && request.previous_response_id === undefined ? undefined : conversation;
  for (const raw of input) {
    const item = asObject(raw);
    if (item) readItem(item, conversation.messages);
  }
  return conversation;
}

function readItem(item: JsonObject, into: ConversationMessage[]): void {
  const type = str(item.type) ?? (item.role !== undefined ? 'message' : 'unknown');
  switch (type) {
    case 'message': {
      const role = responsesRole(str(item.role));
      pushMessage(into, role, contentBlocks(item.content), role === 'assistant');
      return;
    }
    case 'function_call':
      pushMessage(into, 'assistant', [toolCall(str(item.name) ?? '', item.arguments, item.call_id ?? item.id)], true);
      return;
    case 'custom_tool_call':
      pushMessage(into, 'assistant', [toolCall(str(item.name) ?? '', item.input, item.call_id ?? item.id)], true);
      return;
    case 'local_shell_call':
      pushMessage(into, 'assistant', [toolCall('local_shell', item.action, item.call_id ?? item.id)], true);
      return;
    case 'function_call_output':
    case 'custom_tool_call_output':
    case 'local_shell_call_output':
      into.push({ role: 'tool', blocks: [toolResult(partsText(item.output), item.call_id ?? item.id)] });
      return;
    case 'reasoning': {
      const summary = Array.isArray(item.summary) ? partsText(item.summary) : '';
      const content = Array.isArray(item.content) ? partsText(item.content) : '';
      pushMessage(into, 'assistant', [{ type: 'thinking', text: [summary, content].filter((t) => t !== '').join('\n') }], true);
      return;
    }
    default:
      // web_search_call, image_generation_call, item_reference, compaction…: the model's side unless it says otherwise.
      pushMessage(into, type.endsWith('_call') ? 'assistant' : 'user', [{ type: 'other', kind: type }], type.endsWith('_call'));
  }
}

function responsesRole(role: string | undefined): Role {
  if (role === 'assistant') return 'assistant';
  if (role === 'system' || role === 'developer') return 'system';
  return 'user';
}
