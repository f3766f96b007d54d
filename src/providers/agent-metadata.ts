import { headerValue, type RawHeaders } from '../exchange.js';
import { asObject, parseJson, type JsonObject } from './json.js';

/**
 * What an agent says about where a request belongs: the ids the next stages group
 * sessions and threads by. Only what the wire shows; nothing is guessed here.
 */
export interface AgentMetadata {
  /** Claude Code's session (header or metadata.user_id), Codex's session id. */
  sessionId?: string;
  /** Claude Code subagent id (`x-claude-code-agent-id`). */
  agentId?: string;
  /** Codex thread id. */
  threadId?: string;
  /** Codex turn metadata (`x-codex-turn-metadata`): turn id and request kind. */
  turnId?: string;
  requestKind?: string;
  /** OpenAI Responses chaining and caching fields, and Conversations API ids. */
  previousResponseId?: string;
  promptCacheKey?: string;
  conversationId?: string;
  /** The client's own request id, for matching against its logs. */
  clientRequestId?: string;
}

/** Older Claude Code user ids end in `_session_<uuid>`; newer ones are a JSON text with `session_id`. */
const LEGACY_SESSION = /_session_([0-9a-f-]{36})$/i;

/**
 * Reads agent metadata from the request headers and its (already parsed) JSON body.
 * Header names as Claude Code and Codex send them; body fields as the Messages and
 * Responses APIs define them. Returns undefined when there is nothing.
 */
export function readAgentMetadata(headers: RawHeaders, body: JsonObject | undefined): AgentMetadata | undefined {
  const out: AgentMetadata = {};
  const set = (key: keyof AgentMetadata, value: unknown): void => {
    if (typeof value === 'string' && value !== '' && out[key] === undefined) out[key] = value.slice(0, 256);
  };
  set('sessionId', headerValue(headers, 'x-claude-code-session-id'));
  set('sessionId', claudeUserSession(asObject(body?.metadata)?.user_id));
  set('sessionId', headerValue(headers, 'session_id') ?? headerValue(headers, 'session-id'));
  set('agentId', headerValue(headers, 'x-claude-code-agent-id'));
  set('threadId', headerValue(headers, 'thread-id') ?? headerValue(headers, 'thread_id'));
  set('conversationId', headerValue(headers, 'conversation_id') ?? headerValue(headers, 'conversation-id'));
  // Parsed only when sent: JSON.parse('') throws, and a thrown error per request was a
  // measurable share of the proxy's CPU (this runs two or three times per exchange).
  const turnHeader = headerValue(headers, 'x-codex-turn-metadata');
  const turn = turnHeader === undefined ? undefined : asObject(parseJson(turnHeader));
  set('turnId', turn?.turn_id ?? turn?.turnId);
  set('requestKind', turn?.request_kind ?? turn?.kind);
  set('previousResponseId', body?.previous_response_id);
  set('promptCacheKey', body?.prompt_cache_key);
  set('conversationId', typeof body?.conversation === 'string' ? body.conversation : asObject(body?.conversation)?.id);
  set('clientRequestId', headerValue(headers, 'x-client-request-id') ?? headerValue(headers, 'x-request-id'));
  return Object.keys(out).length > 0 ? out : undefined;
}

function claudeUserSession(userId: unknown): string | undefined {
  if (typeof userId !== 'string') return undefined;
  if (userId.startsWith('{')) {
    const session = asObject(parseJson(userId))?.session_id;
    return typeof session === 'string' ? session : undefined;
  }
  return LEGACY_SESSION.exec(userId)?.[1];
}
