import type { AgentMetadata } from '../providers/agent-metadata.js';
import type { GroupIndex, GroupRecord } from './group-index.js';
import { isLookup } from '../providers/api-kinds.js';

/** What the grouper needs to know about one exchange (built by summarizeForGrouping). */
export interface ExchangeSummary {
  id: string;
  /** The turns this exchange stands for when more than one (a Codex WebSocket session: one per request); the session totals count them. */
  turns?: number;
  /** Every model that answered in it (a Codex WebSocket session switches models; its row names the last): the session lists them. */
  models?: string[];
  /** Epoch ms. */
  startedAt: number;
  clientAddress: string;
  clientUser?: string;
  /** Two `llmtap run --label` runs never share a session. */
  clientLabel?: string;
  toolName?: string;
  api?: string;
  model?: string;
  agent?: AgentMetadata;
  /** Chain hashes of the request's messages (message-hash.ts). */
  chain: string[];
  systemHash?: string;
  /** Hash of the offered tools' names; undefined when the request offers none. */
  toolsHash?: string;
  /** The Responses API id of the answer. */
  responseId?: string;
  /** Subagent-spawning tool calls (Claude Code's Task/Agent) in the answer and the newest assistant message. */
  spawnPrompts?: { toolCallId: string; promptHash: string }[];
  /** Hash of the first user message's text, matched against spawn prompts. */
  firstUserHash?: string;
  /** It failed or was cut (failed-exchange.ts): the same lookup sent again is a retry of it. */
  failed?: boolean;
}

export interface Grouping {
  sessionId: string;
  threadId: string;
  parentThreadId?: string;
  spawnedByToolCallId?: string;
  /** 1-based within the thread; a resent identical request keeps the turn it repeats. */
  turn: number;
}

export interface GroupOptions {
  /** How long a request without ids may continue an earlier one by prompt prefix (default 6 h). */
  chainWindowMs?: number;
  /** How long an identical resend counts as a retry of the same turn when no ids say so (default 10 min). */
  retryWindowMs?: number;
}

const HOUR = 3_600_000;

/**
 * Decides the session, thread and turn of one exchange from what earlier exchanges
 * left in the index, then records what later ones need. Rules, first that applies:
 * 1. `previous_response_id` known → the thread of that response.
 * 2. An explicit session id (Claude Code session, Codex session, conversation id;
 *    Codex's prompt_cache_key, which is its conversation id) → that session. Within it:
 *    `agentId` → the subagent's thread; a Codex thread id other than the session's →
 *    that thread (an identical resend in either is a retry: same turn); a request whose
 *    messages extend (or repeat) an earlier request of the session with the same tools
 *    → that request's thread; a first user message equal to a spawning tool call's
 *    prompt → a subagent thread named after that call; a request offering no tools,
 *    from Claude Code or in a session whose main thread offers tools → the session's
 *    side thread (title generation, quota probes, summaries); else the main thread
 *    (thread id = session id).
 * 3. No ids: the longest earlier request from the same client address + tool + user,
 *    offering the same tools, within chainWindowMs, whose chain is a strict prefix of
 *    this one → its thread; an identical request within retryWindowMs → its thread
 *    and turn (a retry).
 * 4. No ids, text Completions (api `completions`: Copilot's inline suggestions, one per
 *    pause in typing): the previous completion of the same client scope at most
 *    COMPLETIONS_IDLE_GAP_MS before → its session and thread, next turn.
 * 5. Else a new thread: a subagent thread when its first user message is the prompt of
 *    a spawning tool call seen in the same session or client scope, otherwise a new
 *    session. New ids are the exchange's id.
 * A lookup's identical resend (rerank, embeddings) is a retry only after a failed attempt
 * (resendIsRetry). Token counts take no turn: placeAside (group-aside.ts) places them.
 */
export function assignGroup(summary: ExchangeSummary, index: GroupIndex, options: GroupOptions = {}): Grouping {
  return placeExchange(summary, index, options).grouping;
}

/** assignGroup, and whether the request is a retry of its turn (the session's turn count leaves it out). */
export function placeExchange(summary: ExchangeSummary, index: GroupIndex, options: GroupOptions = {}): Decision {
  const explicit = ownSessionId(summary, index);
  const scope = explicit === undefined ? clientScope(summary) : `e:${explicit}`;
  const decision = decide(summary, index, explicit, scope, options);
  remember(summary, index, scope, decision);
  return decision;
}

export interface Decision {
  grouping: Grouping;
  /** A retry keeps the turn it repeats and does not move the thread on. */
  retry: boolean;
}

function decide(s: ExchangeSummary, index: GroupIndex, explicit: string | undefined, scope: string, options: GroupOptions): Decision {
  const previous = s.agent?.previousResponseId;
  if (previous !== undefined) {
    const found = index.get(`r:${previous}`);
    // Another proxy user's response id does not lead into their session (ownSessionId says why).
    const sameUser = found?.user === undefined || found.user === s.clientUser;
    if (found && sameUser && (explicit === undefined || found.sessionId === explicit)) return next(index, found.sessionId, found.threadId);
  }
  if (explicit !== undefined) {
    const agentId = s.agent?.agentId;
    if (agentId !== undefined) return openOrNext(index, s, scope, explicit, `${explicit}/agent/${agentId}`, explicit);
    const codexThread = s.agent?.threadId;
    if (codexThread !== undefined && codexThread !== explicit) return openOrNext(index, s, scope, explicit, `${explicit}/thread/${codexThread}`, undefined);
    const match = matchChain(index, scope, s, Infinity, Infinity);
    if (match) return match;
    // Subagents of clients that send no agent id: first user message = a spawning call's prompt.
    const spawn = spawnOf(index, s, scope, Infinity);
    if (spawn) return openOrNext(index, s, scope, explicit, `${explicit}/task/${spawn.spawnedByToolCallId!}`, explicit);
    const main = index.get(`t:${explicit}`);
    const side = s.toolsHash === undefined && (s.toolName === 'claude-code' || main?.tools === true);
    return side ? openOrNext(index, s, scope, explicit, `${explicit}/side`, explicit) : openOrNext(index, s, scope, explicit, explicit, undefined);
  }
  const match = matchChain(index, scope, s, options.chainWindowMs ?? 6 * HOUR, options.retryWindowMs ?? 10 * 60_000);
  if (match) return match;
  const run = completionsRun(index, s, scope);
  if (run) return next(index, run.sessionId, run.threadId);
  const spawn = spawnOf(index, s, scope, options.chainWindowMs ?? 6 * HOUR);
  if (spawn) return { grouping: { sessionId: spawn.sessionId, threadId: s.id, parentThreadId: spawn.threadId, spawnedByToolCallId: spawn.spawnedByToolCallId!, turn: 1 }, retry: false };
  return { grouping: { sessionId: s.id, threadId: s.id, turn: 1 }, retry: false };
}

/** Explicit ids, strongest first. prompt_cache_key only from Codex: other apps may share one key across all their users. */
function explicitSessionId(s: ExchangeSummary): string | undefined {
  const agent = s.agent;
  if (!agent) return undefined;
  return agent.sessionId ?? agent.conversationId ?? (s.toolName === 'codex' ? agent.promptCacheKey : undefined);
}

/**
 * A session id from the wire is whatever the client sends. On a gateway two proxy users
 * sending the same one (a copied id, or on purpose) must not share a session: each user
 * sees only their own sessions, and a shared one showed the first user's name and both
 * users' totals to each, and was missing from the second user's list. The first user to
 * send an id keeps it; another user's exchanges carrying it go to `ID@USER` — unless a
 * third user sent `ID@USER` itself first (with a tool whose id is the same for everyone,
 * to read USER's totals): then to `ID@USER@USER`, and so on, each derived id owned too.
 */
export function ownSessionId(s: ExchangeSummary, index: GroupIndex): string | undefined {
  const id = explicitSessionId(s);
  const user = s.clientUser;
  if (id === undefined || user === undefined) return id;
  let own = id;
  for (let hop = 0; ; hop++) {
    const owner = index.get(`u:${own}`);
    if (owner?.user === undefined || owner.user === user) break;
    // Past a few ids all claimed by others, this exchange stands alone rather than join theirs.
    if (hop === MAX_OWNER_HOPS) return `${id}@${user}@${s.id}`;
    own = `${own}@${user}`;
  }
  // Written again with each exchange, so the record lives as long as the session's other keys.
  index.put(`u:${own}`, { sessionId: own, threadId: own, turn: 0, at: s.startedAt, user });
  return own;
}

/** How many ids claimed by other users ownSessionId steps past before giving up on grouping. */
const MAX_OWNER_HOPS = 8;

/**
 * How long a client may pause between text Completions and still be in the same session.
 * Each one is a suggestion for a pause in typing, with no ids and no shared history, so
 * as one session per request they buried the client's other sessions under hundreds of
 * one-turn ones a day. A gap this long is a break from the editor (a meeting, lunch):
 * what follows is another stretch of work, hence another session.
 */
export const COMPLETIONS_IDLE_GAP_MS = 30 * 60_000;

/** Text Completions from a client scope (not a session id: that wins, rule 2) join its latest run of them. */
function isCompletionsRun(s: ExchangeSummary, scope: string): boolean {
  return s.api === 'completions' && scope.startsWith('a:');
}

function completionsRunKey(scope: string): string {
  return `k:${scope}`;
}

/** The scope's latest text Completion, when it came at most the idle gap ago. */
function completionsRun(index: GroupIndex, s: ExchangeSummary, scope: string): GroupRecord | undefined {
  if (!isCompletionsRun(s, scope)) return undefined;
  const last = index.get(completionsRunKey(scope));
  return last && s.startedAt - last.at <= COMPLETIONS_IDLE_GAP_MS ? last : undefined;
}

/** Unlabelled traffic keeps the key it had before labels existed (group keys are stored). */
export function clientScope(s: ExchangeSummary): string {
  return `a:${s.clientAddress}|${s.toolName ?? ''}|${s.clientUser ?? ''}${s.clientLabel === undefined ? '' : `|label:${s.clientLabel}`}`;
}

/** The next turn of a known thread, keeping its parent link. */
function next(index: GroupIndex, sessionId: string, threadId: string): Decision {
  const thread = index.get(`t:${threadId}`);
  return { grouping: withLinks({ sessionId, threadId, turn: (thread?.turn ?? 0) + 1 }, thread), retry: false };
}

/** A named thread: its next turn when known, else its first turn, linked to the spawning tool call when the wire shows one. */
function openOrNext(index: GroupIndex, s: ExchangeSummary, scope: string, sessionId: string, threadId: string, defaultParent: string | undefined): Decision {
  const known = index.get(`t:${threadId}`);
  if (known) {
    // The same request again in the same thread (a retry after an overload or a dropped stream).
    const same = s.chain.length > 0 ? index.get(chainKey(scope, s, s.chain.length - 1)) : undefined;
    if (same && same.threadId === threadId && resendIsRetry(s, same)) return { grouping: withLinks({ sessionId, threadId, turn: same.turn }, known), retry: true };
    return next(index, sessionId, threadId);
  }
  const grouping: Grouping = { sessionId, threadId, turn: 1 };
  const spawn = spawnOf(index, s, scope, Infinity);
  if (spawn && spawn.threadId !== threadId) {
    grouping.parentThreadId = spawn.threadId;
    grouping.spawnedByToolCallId = spawn.spawnedByToolCallId!;
  } else if (defaultParent !== undefined && defaultParent !== threadId) {
    grouping.parentThreadId = defaultParent;
  }
  return { grouping, retry: false };
}

function spawnOf(index: GroupIndex, s: ExchangeSummary, scope: string, windowMs: number): GroupRecord | undefined {
  if (s.firstUserHash === undefined) return undefined;
  const found = index.get(`s:${scope}:${s.firstUserHash}`);
  return found && found.spawnedByToolCallId !== undefined && s.startedAt - found.at <= windowMs ? found : undefined;
}

/**
 * An identical earlier request (a retry) first, then the longest earlier request that
 * this one extends. Only each request's last chain hash is stored, so a hit at position
 * k means some request ended exactly at message k; the scan stops at the first hit
 * from the end, which for a continuing conversation is two or three lookups.
 */
function matchChain(index: GroupIndex, scope: string, s: ExchangeSummary, windowMs: number, retryMs: number): Decision | undefined {
  const chain = s.chain;
  if (chain.length === 0) return undefined;
  const same = index.get(chainKey(scope, s, chain.length - 1));
  if (same && s.startedAt - same.at <= retryMs && resendIsRetry(s, same)) {
    const thread = index.get(`t:${same.threadId}`);
    return { grouping: withLinks({ sessionId: same.sessionId, threadId: same.threadId, turn: same.turn }, thread), retry: true };
  }
  const found = newestUpTo(index, scope, s, chain.length - 2, windowMs);
  return found && next(index, found.sessionId, found.threadId);
}

/**
 * The newest earlier request of the scope (same tools) that ended at one of this one's
 * messages `from` down to the first, within `windowMs`: the request this one repeats or
 * extends. Every such request began with the same message: when none in the scope did,
 * the scan is skipped (a new conversation costs one lookup, not n).
 */
export function newestUpTo(index: GroupIndex, scope: string, s: ExchangeSummary, from: number, windowMs: number): GroupRecord | undefined {
  if (from < 0 || !index.get(openingKey(scope, s))) return undefined;
  for (let k = from; k >= 0; k--) {
    const found = index.get(chainKey(scope, s, k));
    if (found && s.startedAt - found.at <= windowMs) return found;
  }
  return undefined;
}

/**
 * Whether a request identical to an earlier one (`same`, its chain record) is a retry of
 * it. A conversation's request sent again asks for the same turn again. A lookup (rerank,
 * embeddings) is stateless: the same query sent twice is two lookups, each answered, so
 * it is a retry only when the attempt it repeats failed or was cut.
 */
function resendIsRetry(s: ExchangeSummary, same: GroupRecord): boolean {
  return !isLookup(s.api) || same.failed === true;
}

/**
 * Chain keys include the offered tools: a request with the same messages but another tool
 * set is another job (Claude Code's title and summary requests resend the user's
 * words without tools) and must neither continue nor overwrite the conversation's keys.
 */
function chainKey(scope: string, s: ExchangeSummary, k: number): string {
  return `c:${scope}:${s.toolsHash ?? '-'}:${s.chain[k]!}`;
}

function openingKey(scope: string, s: ExchangeSummary): string {
  return `o:${scope}:${s.toolsHash ?? '-'}:${s.chain[0]!}`;
}

function withLinks(grouping: Grouping, thread: GroupRecord | undefined): Grouping {
  if (thread?.parentThreadId !== undefined) grouping.parentThreadId = thread.parentThreadId;
  if (thread?.spawnedByToolCallId !== undefined) grouping.spawnedByToolCallId = thread.spawnedByToolCallId;
  return grouping;
}

function remember(s: ExchangeSummary, index: GroupIndex, scope: string, decision: Decision): void {
  const { grouping } = decision;
  const at = s.startedAt;
  const base: GroupRecord = { sessionId: grouping.sessionId, threadId: grouping.threadId, turn: grouping.turn, at };
  if (s.chain.length > 0) {
    index.put(chainKey(scope, s, s.chain.length - 1), s.failed === true ? { ...base, failed: true } : base);
    index.put(openingKey(scope, s), base);
  }
  if (!decision.retry) {
    const thread: GroupRecord = { ...base, tools: s.toolsHash !== undefined };
    if (grouping.parentThreadId !== undefined) thread.parentThreadId = grouping.parentThreadId;
    if (grouping.spawnedByToolCallId !== undefined) thread.spawnedByToolCallId = grouping.spawnedByToolCallId;
    index.put(`t:${grouping.threadId}`, thread);
  }
  if (isCompletionsRun(s, scope)) {
    // One key per client scope, rewritten by each completion (retries too: the client is still typing);
    // a completion that started before the one recorded (finished later) does not move the run's time back.
    const last = index.get(completionsRunKey(scope));
    const later = last !== undefined && last.sessionId === grouping.sessionId && last.at > at;
    index.put(completionsRunKey(scope), later ? { ...base, at: last.at } : base);
  }
  if (s.responseId !== undefined) index.put(`r:${s.responseId}`, s.clientUser === undefined ? base : { ...base, user: s.clientUser });
  for (const spawn of s.spawnPrompts ?? []) index.put(`s:${scope}:${spawn.promptHash}`, { ...base, spawnedByToolCallId: spawn.toolCallId });
}
