import { hash } from 'node:crypto';
import type { Block, Conversation, ConversationMessage } from './conversation.js';

/**
 * Canonical message hashes. Agents resend the whole conversation every turn, but not
 * byte for byte; what changes between resends of the same message, and is therefore
 * left out of the canonical form:
 * - cache markers: Anthropic `cache_control` (Claude Code moves it to the newest
 *   messages every turn), Bedrock `cachePoint` — never read by the readers;
 * - content spelling: a string vs one text block (Claude Code re-serialises messages
 *   on `--resume`), text split across several blocks, and whitespace (Claude Code has
 *   resent history with and without the newline after `</system-reminder>`,
 *   anthropics/claude-code#48734), so each text block is trimmed before joining
 *   (whitespace inside a block is kept: stripping it all costs ~5 µs per KB);
 * - ids: Responses items' `id` (present with store=true, stripped with store=false),
 *   tool call ids (Gemini CLI invents its own; OpenAI-compatible servers renumber);
 * - reasoning: thinking text and signatures, Responses `encrypted_content`, Gemini
 *   thought parts and `thoughtSignature`s (clients drop or substitute them);
 * - tool arguments' JSON spelling: key order and spacing (objects re-serialised).
 * A message that has nothing left (a reasoning-only item) gets no hash and no place in the chain.
 */

/**
 * 128 bits of SHA-256, base64url: short keys, no realistic collisions. One-shot
 * crypto.hash (Node 20.12+): a third of createHash's cost for these short texts, and
 * the writer thread hashes every message of every request.
 */
export function hashText(text: string): string {
  return hash('sha256', text, 'base64url').slice(0, 22);
}

/** The canonical text of a message, or undefined when nothing but volatile content is in it. */
export function canonicalMessage(message: ConversationMessage): string | undefined {
  const body = canonicalBlocks(message.blocks, false);
  return body === undefined ? undefined : `${message.role}\u0000${body}`;
}

/**
 * Blocks in canonical form: all text joined, then tool calls, tool results and other
 * parts in order. `exact` keeps whitespace: a prompt cache sees every byte of text, so
 * firstDivergence compares exactly, while grouping hashes trim each block.
 */
export function canonicalBlocks(blocks: Block[], exact: boolean): string | undefined {
  const squash = (text: string): string => (exact ? text : text.trim());
  let text = '';
  const calls: string[] = [];
  const results: string[] = [];
  const others: string[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'text': text += squash(block.text); break;
      case 'thinking': break;
      case 'tool_call': calls.push(`${block.name}\u0001${canonicalJson(block.arguments)}`); break;
      case 'tool_result': results.push(`${block.isError === true ? 'E' : 'R'}${squash(block.text)}`); break;
      case 'other': others.push(block.kind); break;
    }
  }
  text = squash(text);
  if (text.trim() === '' && calls.length === 0 && results.length === 0 && others.length === 0) return undefined;
  // Length-prefixed parts: unambiguous, and cheaper than JSON-escaping kilobytes of text.
  return [text, ...calls, '|', ...results, '|', ...others].map((part) => `${part.length}:${part}`).join('');
}

/** The hash of one message (undefined when it has no canonical content). */
export function messageHash(message: ConversationMessage): string | undefined {
  const canon = canonicalMessage(message);
  return canon === undefined ? undefined : hashText(canon);
}

/**
 * Chain hashes h_i = H(h_{i-1} ‖ canon(m_i)) over the messages that have a canonical
 * form: request B extends request A exactly when A's last chain hash is in B's chain.
 */
export function chainHashes(messages: ConversationMessage[]): string[] {
  const chain: string[] = [];
  let previous = '';
  for (const message of messages) {
    const canon = canonicalMessage(message);
    if (canon === undefined) continue;
    // One string, the same bytes as updating with each part: `previous` is base64url, so no
    // surrogate pair can straddle a boundary.
    previous = hashText(`${previous}\u0002${canon}`);
    chain.push(previous);
  }
  return chain;
}

/** The system prompt's hash (undefined when there is none), apart from the chain. */
export function systemHash(conversation: Conversation): string | undefined {
  const system = conversation.system?.trim();
  return system === undefined || system === '' ? undefined : hashText(system);
}

/** The offered tools' hash by name, in order (undefined when none are offered). */
export function toolsHash(conversation: Conversation): string | undefined {
  return conversation.tools.length === 0 ? undefined : hashText(conversation.tools.join('\u0000'));
}

/** A JSON text with object keys sorted and no spacing; other text trimmed as is. */
export function canonicalJson(text: string): string {
  try {
    return stableStringify(JSON.parse(text));
  } catch {
    return text.trim();
  }
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
