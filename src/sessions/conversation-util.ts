import { asObject } from '../providers/json.js';
import type { Block, ConversationMessage, Role } from './conversation.js';

/** Shared by the per-API readers. */

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Tool arguments as a JSON text: OpenAI sends a string already, the others an object. */
export function argumentsText(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined ? '{}' : JSON.stringify(value);
}

/**
 * Text of a tool result or message content that may be a string or a list of parts:
 * text parts joined by newlines, anything else named in brackets so it is not lost.
 */
export function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : JSON.stringify(content);
  const out: string[] = [];
  for (const raw of content) {
    const part = asObject(raw);
    if (!part) continue;
    const text = str(part.text) ?? str(part.output_text) ?? str(part.input_text);
    if (text !== undefined) out.push(text);
    else if (part.json !== undefined) out.push(JSON.stringify(part.json));
    else out.push(`[${str(part.type) ?? Object.keys(part)[0] ?? 'part'}]`);
  }
  return out.join('\n');
}

/** Adds a message, or appends its blocks to the previous one when both are the same role and `merge` asks for it. */
export function pushMessage(into: ConversationMessage[], role: Role, blocks: Block[], merge = false): void {
  const last = into[into.length - 1];
  if (merge && last?.role === role) last.blocks.push(...blocks);
  else into.push({ role, blocks });
}

export function toolCall(name: string, args: unknown, id: unknown): Block {
  const block: Block = { type: 'tool_call', name, arguments: argumentsText(args) };
  if (typeof id === 'string' && id !== '') block.id = id;
  return block;
}

export function toolResult(text: string, id: unknown, isError?: boolean): Block {
  const block: Block = { type: 'tool_result', text };
  if (typeof id === 'string' && id !== '') block.id = id;
  if (isError === true) block.isError = true;
  return block;
}

/** Names of offered tools, whatever the nesting: `{name}`, `{function: {name}}`, `{toolSpec: {name}}`, or a server tool's `type`. */
export function toolNames(tools: unknown): string[] {
  if (!Array.isArray(tools)) return [];
  const out: string[] = [];
  for (const raw of tools) {
    const tool = asObject(raw);
    if (!tool) continue;
    const name = str(tool.name) ?? str(asObject(tool.function)?.name) ?? str(asObject(tool.toolSpec)?.name) ?? str(tool.type);
    if (name !== undefined) out.push(name);
  }
  return out;
}
