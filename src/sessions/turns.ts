import type { ExchangeRow, WsMessageRow } from '../recorder/db.js';
import type { SessionDetail, ThreadSummary } from '../archive/store.js';
import { routingLines } from '../policy/routing-lines.js';
import { outputTokens, reportedPromptTokens } from '../providers/usage-totals.js';
import { readConversation, type Block, type Conversation, type ConversationMessage } from './conversation.js';
import { imageUploadRequest } from './conversation-media.js';
import { firstDivergence } from './divergence.js';
import { isResponsesSession, recordPerTurn, sessionRequestTurns } from './ws-turns.js';
import { isLiveSession, liveSessionTurns } from './live-turns.js';
import { parsePolicy } from '../policy/parse-record.js';
import type { PolicyRecord } from '../policy/types.js';
import type { PriceInput, PriceResult } from '../cost/price-exchange.js';
import { unpricedReason } from '../cost/unpriced-reason.js';
import { errorStopReason } from './error-answer.js';
import { usageUnknownReason } from '../cost/usage-unknown.js';
import { estimatedPart, type EstimatedPart } from '../archive/estimated-part.js';
import { rowBreakdown, type UsageBreakdown } from '../archive/usage-parts.js';

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
  /** Null when the answer reported none: unknown, written `–`, not the 0 a total counts it as. */
  promptTokens: number | null;
  cachedTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  apiEquivalent: boolean;
  /** What the counts were made of besides text (audio, image, video tokens) and what else was billed (searches, seconds of audio), when any was: archive/usage-parts.ts. */
  usageParts?: UsageBreakdown;
  /** The tokens (and the cost priced from them) were estimated by llmtap: all (the answer reported no usage), or the output only (a stream cut after its input was reported). */
  estimated?: EstimatedPart;
  /** Why the turn counted tokens but has no cost (unknown model, a local model…): cost/unpriced-reason.ts. */
  costUnknown?: string;
  /** Why an answer cut short has no tokens at all (a Claude stream cut before message_start…): cost/usage-unknown.ts. */
  usageUnknown?: string;
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

/**
 * What a Codex session (Responses over WebSocket) is read request by request from: its
 * message log, and a price function to share its recorded cost among its requests by
 * their own prices (without one, a session of several requests shows no cost per request).
 */
export interface SessionReading {
  messagesOf?: (exchangeId: string) => readonly WsMessageRow[];
  price?: (input: PriceInput) => PriceResult;
}

export function sessionThreads(detail: SessionDetail, reading: SessionReading = {}): ThreadView[] {
  const byThread = new Map<string, ExchangeRow[]>();
  for (const row of detail.exchanges) {
    // A token count names its session and thread but no turn (sessions/group-aside.ts): not a turn to show.
    if (isAsideRow(row)) continue;
    const key = row.thread_id ?? '';
    let list = byThread.get(key);
    if (!list) byThread.set(key, (list = []));
    list.push(row);
  }
  const views = new Map<string, ThreadView>();
  for (const thread of detail.threads) views.set(thread.id, { thread, turns: threadTurns(byThread.get(thread.id) ?? [], reading), children: [] });

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

/** A row in a session without a turn: a token count asked in it (older archives have none). */
export function isAsideRow(row: Pick<ExchangeRow, 'session_id' | 'turn'>): boolean {
  return row.session_id !== null && row.turn === null;
}

/**
 * The turns of one thread's exchanges, in order. Given a WebSocket session's message log
 * (`reading.messagesOf`), a Codex session is one turn per request in it (ws-turns.ts), a
 * Gemini Live session one per model turn (live-turns.ts), numbered on from the exchange's
 * own turn, instead of one turn.
 */
export function threadTurns(rows: ExchangeRow[], reading: SessionReading = {}): TurnView[] {
  const { messagesOf, price } = reading;
  const turns: TurnView[] = [];
  let previous: { conversation?: Conversation; answer: Block[]; cached: number; context: string } | undefined;
  // Turns a session's requests added beyond its one exchange: later turns are numbered after them.
  let extra = 0;
  const push = (view: TurnView, conversation: Conversation | undefined): void => {
    const contextKey = JSON.stringify([conversation?.system ?? null, conversation?.tools ?? []]);
    view.added = addedMessages(previous?.conversation, conversation);
    if (conversation && (!previous || previous.context !== contextKey)) view.context = { system: conversation.system, tools: conversation.tools };
    // A turn that read no prompt at all (refused, failed) says nothing about the cache: compared neither way.
    const read = (view.promptTokens ?? 0) > 0;
    const cached = view.cachedTokens ?? 0;
    if (read && previous && previous.cached > 0 && cached < previous.cached * CACHE_DROP) {
      view.cacheNote = cacheNote(previous.cached, cached, previous.conversation, previous.answer, conversation);
    }
    turns.push(view);
    previous = { conversation, answer: answerBlocks(view.answer), cached: read ? cached : previous?.cached ?? 0, context: contextKey };
  };
  for (const row of rows) {
    const first = (row.turn ?? turns.length + 1) + extra;
    const requests = !messagesOf ? undefined
      : isResponsesSession(row) ? sessionRequestTurns(row, messagesOf(row.id), price)
        : isLiveSession(row) ? liveSessionTurns(row, messagesOf(row.id), price) : undefined;
    const record = parsePolicy(row.policy);
    const routing = routingLines(row.policy);
    if (requests) {
      const records = record ? recordPerTurn(record, requests) : [];
      requests.forEach((r, i) => push(viewOf(row, {
        turn: first + i, startedAt: r.startedAt, model: r.model, latencyMs: r.latencyMs, ttftMs: null, promptTokens: r.promptTokens,
        cachedTokens: r.cachedTokens, outputTokens: r.outputTokens, costUsd: r.costUsd, answer: r.answer,
      }, records[i], i === 0 ? routing : []), r.conversation));
      extra += requests.length - 1;
      continue;
    }
    push(viewOf(row, {
      turn: first, startedAt: row.started_at, model: row.model,
      latencyMs: row.ended_at === null ? null : row.ended_at - row.started_at,
      ttftMs: row.first_byte_at === null ? null : row.first_byte_at - row.started_at, promptTokens: reportedPromptTokens(row), cachedTokens: row.cached_input_tokens,
      outputTokens: outputTokens(row), costUsd: row.cost_usd, answer: answerOf(row), usageParts: rowBreakdown(row),
    }, record, routing, price), readConversation(row.api ?? undefined, requestOf(row)));
  }
  return turns;
}

type TurnFigures = Pick<TurnView, 'turn' | 'startedAt' | 'model' | 'latencyMs' | 'ttftMs' | 'promptTokens' | 'cachedTokens' | 'outputTokens' | 'costUsd' | 'answer' | 'usageParts'>;

/** A turn of `row` with these figures, and the policy decisions and routing lines shown on it. */
function viewOf(row: ExchangeRow, f: TurnFigures, policy: PolicyRecord | undefined, routing: string[], price?: SessionReading['price']): TurnView {
  const view: TurnView = {
    exchangeId: row.id, threadId: row.thread_id ?? '', turn: f.turn, startedAt: f.startedAt, model: f.model, status: row.status, outcome: row.outcome,
    latencyMs: f.latencyMs, ttftMs: f.ttftMs, promptTokens: f.promptTokens, cachedTokens: f.cachedTokens, outputTokens: f.outputTokens,
    costUsd: f.costUsd, apiEquivalent: row.cost_source === 'api_equivalent', added: [], answer: f.answer,
  };
  if (f.usageParts) view.usageParts = f.usageParts;
  const estimated = estimatedPart(row.usage_estimated);
  if (estimated) view.estimated = estimated;
  const unknown = price && unpricedReason(row, price);
  if (unknown) view.costUnknown = unknown;
  const noUsage = usageUnknownReason(row);
  if (noUsage) view.usageUnknown = noUsage;
  if (policy) view.policy = policy;
  if (routing.length > 0) view.routing = routing;
  return view;
}

/** An answer as blocks, for finding where the next request first differs from it. */
function answerBlocks(answer: TurnView['answer']): Block[] {
  return [
    ...(answer.text ? [{ type: 'text' as const, text: answer.text }] : []),
    ...answer.toolCalls.map((c) => ({ type: 'tool_call' as const, id: c.id ?? undefined, name: c.name, arguments: c.arguments })),
  ];
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
  return { text: row.response_text ?? '', thinking: row.response_thinking, toolCalls, stopReason: row.stop_reason ?? errorStopReason(row) ?? null };
}

/** The request as readConversation reads it: its JSON, or an image edit's upload fields. */
function requestOf(row: ExchangeRow): unknown {
  const json = parseBody(row.request_body);
  return json === undefined && row.api === 'images' && row.request_body !== null ? imageUploadRequest(row.request_body, row.request_headers) : json;
}

function parseBody(body: Buffer | null): unknown {
  if (body === null) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
