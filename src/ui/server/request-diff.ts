import type { ExchangeRow } from '../../recorder/db.js';
import { readConversation, type Conversation, type ConversationMessage } from '../../sessions/conversation.js';

/**
 * What a thread's request changed since the thread's previous request: the messages
 * past their common prefix (added, and removed or rewritten ones of the previous
 * request), the system prompt, the tools offered. The previous answer normally comes
 * back as an added assistant message; a compaction or edit shows as removed messages.
 */
export interface RequestDiff {
  previousExchangeId: string;
  /** Messages both requests start with, unchanged. */
  kept: number;
  added: ConversationMessage[];
  removed: ConversationMessage[];
  system?: { before: string | null; after: string | null };
  toolsAdded: string[];
  toolsRemoved: string[];
}

/** One diff per exchange that has an earlier request in its thread, keyed by exchange id (rows oldest first). */
export function threadRequestDiffs(rows: readonly ExchangeRow[]): Record<string, RequestDiff> {
  const diffs: Record<string, RequestDiff> = {};
  const last = new Map<string, { id: string; conversation: Conversation }>();
  for (const row of rows) {
    const conversation = readConversation(row.api ?? undefined, parseJson(row.request_body));
    if (!conversation) continue;
    const key = row.thread_id ?? row.id;
    const previous = last.get(key);
    if (previous) diffs[row.id] = requestDiff(previous.id, previous.conversation, conversation);
    last.set(key, { id: row.id, conversation });
  }
  return diffs;
}

export function requestDiff(previousExchangeId: string, before: Conversation, after: Conversation): RequestDiff {
  let kept = 0;
  while (kept < before.messages.length && kept < after.messages.length && same(before.messages[kept]!, after.messages[kept]!)) kept++;
  const diff: RequestDiff = {
    previousExchangeId, kept, added: after.messages.slice(kept), removed: before.messages.slice(kept),
    toolsAdded: after.tools.filter((t) => !before.tools.includes(t)), toolsRemoved: before.tools.filter((t) => !after.tools.includes(t)),
  };
  if ((before.system ?? null) !== (after.system ?? null)) diff.system = { before: before.system ?? null, after: after.system ?? null };
  return diff;
}

function same(a: ConversationMessage, b: ConversationMessage): boolean {
  return a.role === b.role && JSON.stringify(a.blocks) === JSON.stringify(b.blocks);
}

function parseJson(body: Buffer | null): unknown {
  if (body === null) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
