import type { ExchangeRow } from '../recorder/db.js';
import type { SessionDetail, ThreadSummary } from '../archive/store.js';
import { routingLines } from '../policy/routing-lines.js';
import { promptTokens } from '../providers/usage-totals.js';
import { readConversation, type Block, type Conversation, type ConversationMessage } from './conversation.js';
import { firstDivergence } from './divergence.js';
import { parsePolicy } from '../policy/parse-record.js';
import type { PolicyRecord } from '../policy/types.js';

/**
 * A session as people read it: per thread, turn by turn, each turn showing only what
 * is new in it (the user's words, tool results) and the answer, with subagent threads
 * placed under the turn whose tool call spawned them. Pure: built from stored rows.
 */
export interface TurnView {
  exchangeId: string;
  threadId: string;
  turn: number;
  startedAt: number;
  model: string | null;
  status: number | null;
  outcome: string | null;
  latencyMs: number | null;
  ttftMs: number | null;
  promptTokens: number;
  cachedTokens: number;
  outputTokens: number | null;
  costUsd: number | null;
  apiEquivalent: boolean;
  /** The system prompt and tools, on a thread's first turn and whenever they change. */
  context?: { system?: string; tools: string[] };
  /** Request messages new since the thread's previous turn (all of them on the first). */
  added: ConversationMessage[];
  answer: { text: string; thinking: string | null; toolCalls: { id: string | null; name: string; arguments: string }[]; stopReason: string | null };
  /** Why fewer prompt tokens came from the cache than on the previous turn, when that happened. */
  cacheNote?: string;
  /** What the policy decided on this exchange (the archive's policy column), when any rule did. */
  policy?: PolicyRecord;
  /** Where a policy route or fallback sent the request (`routed: …`, `attempts: …`), when one did. */
  routing?: string[];
}

export interface ThreadView {
  thread: ThreadSummary;
  turns: TurnView[];
  /** Subagent threads, each after the turn (index into `turns`) whose answer spawned it. */
  children: { afterTurn: number; toolCallId: string | null; view: ThreadView }[];
}

/** A cache read this much below the previous turn's counts as a drop worth explaining. */
const CACHE_DROP = 0.9;

export function sessionThreads(detail: SessionDetail): ThreadView[] {
  const byThread = new Map<string, ExchangeRow[]>();
  for (const row of detail.exchanges) {
    const key = row.thread_id ?? '';
    let list = byThread.get(key);
    if (!list) byThread.set(key, (list = []));
    list.push(row);
  }
  const views = new Map<string, ThreadView>();
  for (const thread of detail.threads) views.set(thread.id, { thread, turns: threadTurns(byThread.get(thread.id) ?? []), children: [] });

  const roots: ThreadView[] = [];
  for (const view of views.values()) {
    const parent = view.thread.parentThreadId ? views.get(view.thread.parentThreadId) : undefined;
    if (!parent) {
      roots.push(view);
      continue;
    }
    const spawn = view.thread.spawnedByToolCallId;
    let afterTurn = spawn ? parent.turns.findIndex((t) => t.answer.toolCalls.some((c) => c.id === spawn)) : -1;
    // Without a link on the wire: after the parent's last turn that started before it.
    if (afterTurn < 0) afterTurn = Math.max(0, parent.turns.filter((t) => t.startedAt <= view.thread.startedAt).length - 1);
    parent.children.push({ afterTurn, toolCallId: spawn, view });
  }
  return roots;
}

export function threadTurns(rows: ExchangeRow[]): TurnView[] {
  const turns: TurnView[] = [];
  let previous: { conversation?: Conversation; answer: Block[]; cached: number; context: string } | undefined;
  for (const row of rows) {
    const conversation = readConversation(row.api ?? undefined, parseBody(row.request_body));
    const answer = answerOf(row);
    const answerBlocks: Block[] = [
      ...(answer.text ? [{ type: 'text' as const, text: answer.text }] : []),
      ...answer.toolCalls.map((c) => ({ type: 'tool_call' as const, id: c.id ?? undefined, name: c.name, arguments: c.arguments })),
    ];
    const cached = row.cached_input_tokens ?? 0;
    const contextKey = JSON.stringify([conversation?.system ?? null, conversation?.tools ?? []]);
    const view: TurnView = {
      exchangeId: row.id, threadId: row.thread_id ?? '', turn: row.turn ?? turns.length + 1, startedAt: row.started_at, model: row.model,
      status: row.status, outcome: row.outcome, latencyMs: row.ended_at === null ? null : row.ended_at - row.started_at,
      ttftMs: row.first_byte_at === null ? null : row.first_byte_at - row.started_at, promptTokens: promptTokens(row), cachedTokens: cached,
      outputTokens: row.output_tokens, costUsd: row.cost_usd, apiEquivalent: row.cost_source === 'api_equivalent',
      added: addedMessages(previous?.conversation, conversation),
      answer,
    };
    const policy = parsePolicy(row.policy);
    if (policy) view.policy = policy;
    const routing = routingLines(row.policy);
    if (routing.length > 0) view.routing = routing;
    if (conversation && (!previous || previous.context !== contextKey)) view.context = { system: conversation.system, tools: conversation.tools };
    if (previous && previous.cached > 0 && cached < previous.cached * CACHE_DROP) {
      view.cacheNote = cacheNote(previous.cached, cached, previous.conversation, previous.answer, conversation);
    }
    turns.push(view);
    previous = { conversation, answer: answerBlocks, cached, context: contextKey };
  }
  return turns;
}

/** The request's messages past what the previous turn sent plus its answer (one assistant message). */
function addedMessages(prev: Conversation | undefined, cur: Conversation | undefined): ConversationMessage[] {
  if (!cur) return [];
  if (!prev) return cur.messages;
  const from = prev.messages.length + 1;
  // The thread went somewhere else (compaction, an edit): show the whole request.
  if (cur.messages.length < from) return cur.messages;
  return cur.messages.slice(from);
}

function cacheNote(before: number, after: number, prev: Conversation | undefined, prevAnswer: Block[], cur: Conversation | undefined): string {
  const head = `cache read fell from ${before} to ${after} tokens`;
  if (!prev || !cur) return head;
  const d = firstDivergence(prev, prevAnswer, cur);
  if (!d) return `${head}; the request extends the previous one unchanged (the cache entry may have expired)`;
  return `${head}; the request first differs from the previous turn at ${d.detail}`;
}

function answerOf(row: ExchangeRow): TurnView['answer'] {
  let toolCalls: TurnView['answer']['toolCalls'] = [];
  if (row.tool_calls !== null) {
    try {
      const parsed = JSON.parse(row.tool_calls) as { id?: string; name?: string; arguments?: string }[];
      toolCalls = parsed.map((c) => ({ id: c.id ?? null, name: c.name ?? '', arguments: c.arguments ?? '' }));
    } catch {
      toolCalls = [];
    }
  }
  return { text: row.response_text ?? '', thinking: row.response_thinking, toolCalls, stopReason: row.stop_reason };
}

function parseBody(body: Buffer | null): unknown {
  if (body === null) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
