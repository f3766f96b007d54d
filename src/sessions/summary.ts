import type { Reassembled } from '../exchange.js';
import type { AgentMetadata } from '../providers/agent-metadata.js';
import { asObject, parseJson } from '../providers/json.js';
import { readConversation, readCountedConversation, readLookupRequest, type Block, type Conversation } from './conversation.js';
import { isLookup } from '../providers/api-kinds.js';
import type { ExchangeSummary } from './group.js';
import { chainHashes, hashText, systemHash, toolsHash } from './message-hash.js';

/** What the archive writer has for one exchange when it writes it. */
export interface GroupingInput {
  id: string;
  /** Epoch ms. */
  startedAt: number;
  client: { address: string; user?: string; label?: string };
  toolName?: string;
  api?: string;
  model?: string;
  agent?: AgentMetadata;
  /** The request body parsed as JSON (undefined when it was not JSON or was truncated). */
  request: unknown;
  answer?: Reassembled;
  /** The Responses API id of the answer (responseIdFromBody reads it from the body). */
  responseId?: string;
}

/** Tools that start a subagent with a prompt: Claude Code's Task (renamed Agent; dispatch_agent before), Codex's spawn_agent. */
export const SPAWN_TOOL_NAMES: ReadonlySet<string> = new Set(['Task', 'Agent', 'dispatch_agent', 'spawn_agent']);

/**
 * Builds the grouper's view of an exchange. Pass the conversation when the caller
 * has read it already (show and cache analysis read the same one).
 */
export function summarizeForGrouping(input: GroupingInput, conversation: Conversation | undefined = groupingConversation(input.api, input.request)): ExchangeSummary {
  const summary: ExchangeSummary = {
    id: input.id,
    startedAt: input.startedAt,
    clientAddress: input.client.address,
    chain: conversation ? chainHashes(conversation.messages) : [],
  };
  if (input.client.user !== undefined) summary.clientUser = input.client.user;
  if (input.client.label !== undefined) summary.clientLabel = input.client.label;
  if (input.toolName !== undefined) summary.toolName = input.toolName;
  if (input.api !== undefined) summary.api = input.api;
  if (input.model !== undefined) summary.model = input.model;
  if (input.agent !== undefined) summary.agent = input.agent;
  if (input.responseId !== undefined) summary.responseId = input.responseId;
  if (!conversation) return summary;
  const system = systemHash(conversation);
  if (system !== undefined) summary.systemHash = system;
  const tools = toolsHash(conversation);
  if (tools !== undefined) summary.toolsHash = tools;
  const spawns = spawnPrompts(conversation, input.answer);
  if (spawns.length > 0) summary.spawnPrompts = spawns;
  const first = conversation.messages.find((m) => m.role === 'user' && m.blocks.some((b) => b.type === 'text'));
  const firstText = first ? promptText(first.blocks.map((b) => (b.type === 'text' ? b.text : '')).join('\n')) : '';
  if (firstText !== '') summary.firstUserHash = promptHash(firstText);
  return summary;
}

/**
 * What the grouper hashes of a request: its conversation; a token count's too (it links
 * the count to the conversation it was asked about); a lookup's whole body (the same
 * request sent again is known, and nothing else is).
 */
function groupingConversation(api: string | undefined, request: unknown): Conversation | undefined {
  if (isLookup(api)) return readLookupRequest(request);
  return readConversation(api, request) ?? readCountedConversation(api, request);
}

/** The answer as blocks (for firstDivergence and for chaining an answer into the next request). */
export function answerBlocks(answer: Reassembled): Block[] {
  const blocks: Block[] = [];
  if (answer.thinking !== undefined && answer.thinking !== '') blocks.push({ type: 'thinking', text: answer.thinking });
  if (answer.text !== '') blocks.push({ type: 'text', text: answer.text });
  for (const call of answer.toolCalls) {
    const block: Block = { type: 'tool_call', name: call.name, arguments: call.arguments };
    if (call.id !== undefined) block.id = call.id;
    blocks.push(block);
  }
  return blocks;
}

/**
 * Spawning calls in the answer (the subagent starts right after it, so this is what
 * links it) and in the newest assistant message of the request (when the answer was
 * not read). Older assistant messages are not scanned: they were seen in earlier turns.
 */
function spawnPrompts(conversation: Conversation, answer: Reassembled | undefined): { toolCallId: string; promptHash: string }[] {
  const calls: { id?: string; name: string; arguments: string }[] = [...(answer?.toolCalls ?? [])];
  for (let i = conversation.messages.length - 1; i >= 0; i--) {
    const message = conversation.messages[i]!;
    if (message.role !== 'assistant') continue;
    for (const block of message.blocks) if (block.type === 'tool_call') calls.push(block);
    break;
  }
  const out: { toolCallId: string; promptHash: string }[] = [];
  for (const call of calls) {
    if (call.id === undefined || !SPAWN_TOOL_NAMES.has(call.name)) continue;
    const args = asObject(parseJson(call.arguments));
    const prompt = args?.prompt ?? args?.message ?? args?.task;
    if (typeof prompt !== 'string' || promptText(prompt) === '') continue;
    if (!out.some((o) => o.toolCallId === call.id)) out.push({ toolCallId: call.id, promptHash: promptHash(promptText(prompt)) });
  }
  return out;
}

/** Claude Code puts `<system-reminder>` blocks beside a subagent's prompt; they are not the prompt. */
function promptText(text: string): string {
  return text.replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, '').trim();
}

function promptHash(text: string): string {
  return hashText(`prompt\u0000${text}`);
}

/**
 * The Responses id of an answer body: a Response object (`{"id":"resp_…","object":"response"}`)
 * or an SSE stream, whose first event (response.created) carries `response.id`. Reads
 * at most the first 32 data lines, so a long stream costs nothing more. (Better: the
 * Responses event reducer could return it as Reassembled.responseId while it reads.)
 */
export function responseIdFromBody(text: string): string | undefined {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return idOf(asObject(parseJson(trimmed)));
  let seen = 0;
  for (const line of trimmed.split('\n', 2000)) {
    if (!line.startsWith('data:')) continue;
    const event = asObject(parseJson(line.slice(5).trim()));
    const id = idOf(asObject(event?.response));
    if (id !== undefined) return id;
    if (++seen >= 32) break;
  }
  return undefined;
}

function idOf(response: Record<string, unknown> | undefined): string | undefined {
  return typeof response?.id === 'string' && (response.object === 'response' || response.id.startsWith('resp')) ? response.id : undefined;
}
