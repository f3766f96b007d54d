import type { Block, Conversation, ConversationMessage } from './conversation.js';
import { canonicalBlocks, canonicalJson } from './message-hash.js';

export interface Divergence {
  what: 'system' | 'tools' | 'message';
  /** Index into the current request's messages. */
  index?: number;
  /** Index into that message's blocks, when one block differs. */
  blockIndex?: number;
  detail: string;
}

/**
 * Where the current request stops being the previous request + its answer: the first
 * thing a prompt cache (which matches tools, system, then messages, as a prefix)
 * could not reuse. Compared in the canonical form of the chain hashes but keeping
 * whitespace (the cache sees every byte of text): cache markers, ids and reasoning
 * payloads do not count as changes. Undefined when the current request extends the previous one.
 */
export function firstDivergence(prev: Conversation, prevAnswer: Block[] | undefined, cur: Conversation): Divergence | undefined {
  const tools = toolsChange(prev.tools, cur.tools);
  if (tools) return { what: 'tools', detail: tools };
  const before = prev.system ?? '';
  const after = cur.system ?? '';
  if (before !== after) return { what: 'system', detail: `system prompt differs from character ${firstDifference(before, after)} (${before.length} → ${after.length} characters)` };
  const expected = prevAnswer && canonicalBlocks(prevAnswer, true) !== undefined ? [...prev.messages, { role: 'assistant' as const, blocks: prevAnswer }] : prev.messages;
  const want = significant(expected);
  const have = significant(cur.messages);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i];
    if (!h) {
      return { what: 'message', index: cur.messages.length, detail: `the request has ${have.length} messages where the previous turn had ${want.length}: history truncated or compacted` };
    }
    if (w.canon === h.canon && w.message.role === h.message.role) continue;
    return { what: 'message', index: h.index, ...messageChange(w.message, h.message) };
  }
  return undefined;
}

interface Significant {
  index: number;
  message: ConversationMessage;
  canon: string;
}

/** Messages with a canonical form (reasoning-only messages are skipped on both sides). */
function significant(messages: ConversationMessage[]): Significant[] {
  const out: Significant[] = [];
  messages.forEach((message, index) => {
    const canon = canonicalBlocks(message.blocks, true);
    if (canon !== undefined) out.push({ index, message, canon });
  });
  return out;
}

function toolsChange(before: string[], after: string[]): string | undefined {
  if (before.length === after.length && before.every((t, i) => t === after[i])) return undefined;
  const added = after.filter((t) => !before.includes(t));
  const removed = before.filter((t) => !after.includes(t));
  if (added.length === 0 && removed.length === 0) return 'tools reordered';
  const parts: string[] = [];
  if (added.length > 0) parts.push(`added ${added.join(', ')}`);
  if (removed.length > 0) parts.push(`removed ${removed.join(', ')}`);
  return `tools changed: ${parts.join('; ')}`;
}

function messageChange(want: ConversationMessage, have: ConversationMessage): { blockIndex?: number; detail: string } {
  if (want.role !== have.role) return { detail: `role ${want.role} → ${have.role}` };
  const w = want.blocks.filter((b) => b.type !== 'thinking');
  const h = have.blocks.filter((b) => b.type !== 'thinking');
  const wText = w.filter((b) => b.type === 'text').map((b) => (b.type === 'text' ? b.text : '')).join('');
  const hText = h.filter((b) => b.type === 'text').map((b) => (b.type === 'text' ? b.text : '')).join('');
  if (wText !== hText) {
    const at = firstDifference(wText, hText);
    return withBlock(have, (b) => b.type === 'text', `${have.role} text differs from character ${at}: ${JSON.stringify(hText.slice(Math.max(0, at - 20), at + 40))}`);
  }
  const wCalls = w.filter((b) => b.type === 'tool_call');
  const hCalls = h.filter((b) => b.type === 'tool_call');
  for (let i = 0; i < Math.max(wCalls.length, hCalls.length); i++) {
    const a = wCalls[i];
    const b = hCalls[i];
    if (!a || !b) return { detail: `${have.role} has ${hCalls.length} tool calls where ${wCalls.length} were expected` };
    if (a.name !== b.name || canonicalJson(a.arguments) !== canonicalJson(b.arguments)) {
      return withBlock(have, (x) => x === b, a.name !== b.name ? `tool call ${a.name} → ${b.name}` : `arguments of tool call ${b.name} differ`);
    }
  }
  const wResults = w.filter((b) => b.type === 'tool_result');
  const hResults = h.filter((b) => b.type === 'tool_result');
  for (let i = 0; i < Math.max(wResults.length, hResults.length); i++) {
    const a = wResults[i];
    const b = hResults[i];
    if (!a || !b) return { detail: `${have.role} has ${hResults.length} tool results where ${wResults.length} were expected` };
    if (a.text !== b.text || a.isError !== b.isError) return withBlock(have, (x) => x === b, `tool result ${i + 1} differs`);
  }
  return { detail: `${have.role} content differs (${h.length} blocks, ${w.length} expected)` };
}

function withBlock(message: ConversationMessage, pick: (b: Block) => boolean, detail: string): { blockIndex?: number; detail: string } {
  const blockIndex = message.blocks.findIndex(pick);
  return blockIndex >= 0 ? { blockIndex, detail } : { detail };
}

function firstDifference(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}
