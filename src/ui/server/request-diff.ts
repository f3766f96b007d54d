import type { ExchangeRow } from '../../recorder/db.js';
import { readConversation, type Conversation, type ConversationMessage } from '../../sessions/conversation.js';

/**
 * What a thread's request changed since the thread's previous request: the messages
 * added, and the previous request's removed or rewritten ones (those both keep are not
 * listed), the system prompt, the tools offered. The previous answer normally comes
 * back as an added assistant message; a compaction or edit shows as removed messages.
 */
export interface RequestDiff {
  previousExchangeId: string;
  /** Messages both requests hold unchanged, in the same order (a longest common subsequence). */
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
  const { kept, removed, added } = messageDiff(before.messages, after.messages);
  const diff: RequestDiff = {
    previousExchangeId, kept, added, removed,
    toolsAdded: after.tools.filter((t) => !before.tools.includes(t)), toolsRemoved: before.tools.filter((t) => !after.tools.includes(t)),
  };
  if ((before.system ?? null) !== (after.system ?? null)) diff.system = { before: before.system ?? null, after: after.system ?? null };
  return diff;
}

/**
 * The messages of `before` not in `after` and the other way round, around the longest run
 * of messages both keep in order: a normal turn keeps the whole history and adds at the
 * end; a compaction or an edit rewrites some messages and keeps others, which are not
 * listed as removed and added again. The common prefix and suffix are taken off first, so
 * the table is built over the rewritten middle only (and never over more than a bounded
 * number of cells: past that, the middle is all removed and added).
 */
function messageDiff(before: readonly ConversationMessage[], after: readonly ConversationMessage[]): { kept: number; removed: ConversationMessage[]; added: ConversationMessage[] } {
  const a = before.map(keyOf);
  const b = after.map(keyOf);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
  const midA = a.slice(start, a.length - end);
  const midB = b.slice(start, b.length - end);
  const inCommon = midA.length * midB.length <= MAX_CELLS ? commonSubsequence(midA, midB) : { a: new Set<number>(), b: new Set<number>() };
  return {
    kept: start + end + inCommon.a.size,
    removed: before.slice(start, before.length - end).filter((_, i) => !inCommon.a.has(i)),
    added: after.slice(start, after.length - end).filter((_, i) => !inCommon.b.has(i)),
  };
}

const MAX_CELLS = 4_000_000;

/** Positions in `a` and in `b` of one longest common subsequence (dynamic programming, lengths from the end). */
function commonSubsequence(a: readonly string[], b: readonly string[]): { a: Set<number>; b: Set<number> } {
  const width = b.length + 1;
  const lengths = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i * width + j] = a[i] === b[j] ? lengths[(i + 1) * width + j + 1]! + 1 : Math.max(lengths[(i + 1) * width + j]!, lengths[i * width + j + 1]!);
    }
  }
  const inA = new Set<number>();
  const inB = new Set<number>();
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    if (a[i] === b[j]) {
      inA.add(i++);
      inB.add(j++);
    } else if (lengths[(i + 1) * width + j]! >= lengths[i * width + j + 1]!) i++;
    else j++;
  }
  return { a: inA, b: inB };
}

function keyOf(m: ConversationMessage): string {
  return `${m.role}\u0000${JSON.stringify(m.blocks)}`;
}

function parseJson(body: Buffer | null): unknown {
  if (body === null) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
