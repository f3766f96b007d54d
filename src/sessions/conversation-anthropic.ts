import { asObject, type JsonObject } from '../providers/json.js';
import type { Block, Conversation, ConversationMessage } from './conversation.js';
import { partsText, str, toolCall, toolNames, toolResult } from './conversation-util.js';

/**
 * Anthropic Messages (also Claude on Bedrock invoke and Vertex rawPredict): `system` as a
 * string or text blocks, `messages` whose content is a string or typed blocks.
 * `cache_control` is never read (Claude Code moves it every turn), nor thinking
 * `signature`s; string content and a single text block read alike.
 */
export function readAnthropicMessages(request: JsonObject): Conversation | undefined {
  if (!Array.isArray(request.messages)) return undefined;
  const conversation: Conversation = { tools: toolNames(request.tools), messages: [] };
  const system = systemText(request.system);
  if (system !== undefined) conversation.system = system;
  for (const raw of request.messages) {
    const message = asObject(raw);
    if (!message) continue;
    const role = message.role === 'assistant' ? 'assistant' : message.role === 'system' ? 'system' : 'user';
    conversation.messages.push({ role, blocks: anthropicBlocks(message.content) });
  }
  return conversation;
}

function systemText(system: unknown): string | undefined {
  if (typeof system === 'string') return system;
  if (!Array.isArray(system)) return undefined;
  return system.map((b) => str(asObject(b)?.text) ?? '').join('\n');
}

function anthropicBlocks(content: unknown): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const out: Block[] = [];
  for (const raw of content) {
    const block = asObject(raw);
    if (!block) continue;
    switch (block.type) {
      case 'text': out.push({ type: 'text', text: str(block.text) ?? '' }); break;
      case 'thinking': out.push({ type: 'thinking', text: str(block.thinking) ?? '' }); break;
      case 'redacted_thinking': out.push({ type: 'thinking', text: '' }); break;
      case 'tool_use':
      case 'server_tool_use':
      case 'mcp_tool_use':
        out.push(toolCall(str(block.name) ?? '', block.input, block.id));
        break;
      case 'tool_result':
      case 'mcp_tool_result':
        out.push(toolResult(partsText(block.content), block.tool_use_id, block.is_error === true));
        break;
      default: out.push({ type: 'other', kind: str(block.type) ?? 'unknown' });
    }
  }
  return out;
}

/**
 * Bedrock Converse (and Amazon Nova on invoke): `system` and message `content` are lists
 * of single-key blocks — text, image, document, toolUse, toolResult, reasoningContent,
 * cachePoint. cachePoint is a cache marker like `cache_control` and is skipped.
 */
export function readBedrockConverse(request: JsonObject): Conversation | undefined {
  if (!Array.isArray(request.messages)) return undefined;
  const tools = toolNames(asObject(request.toolConfig)?.tools);
  const conversation: Conversation = { tools, messages: [] };
  if (Array.isArray(request.system)) {
    const texts = request.system.map((b) => str(asObject(b)?.text)).filter((t) => t !== undefined);
    if (texts.length > 0) conversation.system = texts.join('\n');
  }
  for (const raw of request.messages) {
    const message = asObject(raw);
    if (message) conversation.messages.push(converseMessage(message));
  }
  return conversation;
}

function converseMessage(message: JsonObject): ConversationMessage {
  const blocks: Block[] = [];
  for (const raw of Array.isArray(message.content) ? message.content : []) {
    const block = asObject(raw);
    if (!block || block.cachePoint !== undefined) continue;
    const toolUse = asObject(block.toolUse);
    const result = asObject(block.toolResult);
    const reasoning = asObject(block.reasoningContent);
    if (typeof block.text === 'string') blocks.push({ type: 'text', text: block.text });
    else if (toolUse) blocks.push(toolCall(str(toolUse.name) ?? '', toolUse.input, toolUse.toolUseId));
    else if (result) blocks.push(toolResult(partsText(result.content), result.toolUseId, result.status === 'error'));
    else if (reasoning) blocks.push({ type: 'thinking', text: str(asObject(reasoning.reasoningText)?.text) ?? '' });
    else blocks.push({ type: 'other', kind: Object.keys(block)[0] ?? 'unknown' });
  }
  return { role: message.role === 'assistant' ? 'assistant' : 'user', blocks };
}
