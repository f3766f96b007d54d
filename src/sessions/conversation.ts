import { asObject, type JsonObject } from '../providers/json.js';
import { readAnthropicMessages, readBedrockConverse } from './conversation-anthropic.js';
import { readCohereChat, readCohereChatV1 } from './conversation-cohere.js';
import { readGeminiContents } from './conversation-gemini.js';
import { readChatCompletions, readOllamaChat, readResponses, readTextCompletions } from './conversation-openai.js';
import { readImageRequest, readModerations, readSpeechRequest } from './conversation-media.js';
import { readRerank } from './conversation-rerank.js';

/**
 * One request body seen the same way whatever API spoke it: the system prompt, the
 * names of the tools offered, and the messages as role + blocks. Grouping hashes it,
 * `llmtap show` renders it and cache analysis diffs it, so it keeps what the model
 * reads (text, tool calls and results) and drops what only steers delivery
 * (cache markers, ids of stored items, encrypted reasoning payloads).
 */
export interface Conversation {
  system?: string;
  /** Tool names in the order offered (server tools by their type, e.g. `web_search`). */
  tools: string[];
  messages: ConversationMessage[];
}

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ConversationMessage {
  role: Role;
  blocks: Block[];
}

export type Block =
  // `label` names a text that is not the speaker's message proper (a completion's suffix).
  | { type: 'text'; text: string; label?: string }
  | { type: 'thinking'; text: string }
  | { type: 'tool_call'; id?: string; name: string; arguments: string }
  | { type: 'tool_result'; id?: string; text: string; isError?: boolean }
  | { type: 'other'; kind: string };

/**
 * Reads a parsed request body as a Conversation for the API that carried it
 * (ApiKind in src/exchange.ts). Undefined for APIs without a conversation
 * (embeddings, countTokens, realtime) and for bodies of the wrong shape; never throws.
 */
export function readConversation(api: string | undefined, body: unknown): Conversation | undefined {
  const request = asObject(body);
  if (!request) return undefined;
  switch (api) {
    case 'chat.completions': return readChatCompletions(request);
    case 'ollama.chat': return readOllamaChat(request);
    // Each a prompt of its own, no chain to extend: a client's run of them is one session (group.ts rule 4).
    case 'completions': return readTextCompletions(request);
    case 'responses': return readResponses(request);
    // Claude on Vertex (rawPredict) is routed as `messages` already.
    case 'messages': return readAnthropicMessages(request);
    case 'gemini.generateContent': return readGeminiContents(codeAssistInner(request));
    case 'bedrock.converse': return readBedrockConverse(request);
    case 'bedrock.invoke': return readBedrockInvoke(request);
    case 'cohere.chat': return readCohereChat(request);
    case 'cohere.chat.v1': return readCohereChatV1(request);
    // The query as the user's words, the documents by their count.
    case 'rerank': return readRerank(request);
    case 'moderations': return readModerations(request);
    case 'images': return readImageRequest(request);
    case 'audio.speech': return readSpeechRequest(request);
    default: return undefined;
  }
}

/**
 * The conversation a token count counts, for grouping only (sessions/group-aside.ts links
 * a count to the conversation it was asked about; `show` reads no turn from a count):
 * Anthropic's is a Messages body, Gemini's `contents` (or a `generateContentRequest`
 * holding them), Bedrock's a Converse request under `input.converse`.
 */
export function readCountedConversation(api: string | undefined, body: unknown): Conversation | undefined {
  const request = asObject(body);
  if (!request) return undefined;
  switch (api) {
    case 'messages.countTokens': return readAnthropicMessages(request);
    case 'gemini.countTokens': return readGeminiContents(asObject(request.generateContentRequest) ?? codeAssistInner(request));
    case 'bedrock.countTokens': {
      const converse = asObject(asObject(request.input)?.converse);
      return converse ? readBedrockConverse(converse) : undefined;
    }
    default: return undefined;
  }
}

/**
 * A lookup request (rerank, embeddings), for grouping only: the whole body as one user
 * message, so that the same request sent again is known as such (a retry when the first
 * attempt failed: sessions/group.ts) and another query or document set is not. Key order
 * is the client's: an SDK resending a request writes it the same way.
 */
export function readLookupRequest(body: unknown): Conversation | undefined {
  const request = asObject(body);
  return request ? { tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: JSON.stringify(request) }] }] } : undefined;
}

/** Gemini CLI's Code Assist endpoint wraps the public request as `{model, project, request: {...}}`. */
function codeAssistInner(request: JsonObject): JsonObject {
  const inner = asObject(request.request);
  return inner && (Array.isArray(inner.contents) || inner.systemInstruction !== undefined) ? inner : request;
}

/**
 * InvokeModel bodies are the model family's own format: Claude's Messages
 * (`anthropic_version`, typed blocks or string content), Amazon Nova's Converse-like
 * messages (untyped `{text}` blocks), or a bare `prompt` (Llama, Mistral, Titan's `inputText`).
 */
function readBedrockInvoke(request: JsonObject): Conversation | undefined {
  if (Array.isArray(request.messages)) {
    const typed = request.anthropic_version !== undefined || request.messages.some((m) => {
      const content = asObject(m)?.content;
      return typeof content === 'string' || (Array.isArray(content) && content.some((b) => typeof asObject(b)?.type === 'string'));
    });
    return typed ? readAnthropicMessages(request) : readBedrockConverse(request);
  }
  const prompt = typeof request.prompt === 'string' ? request.prompt : typeof request.inputText === 'string' ? request.inputText : undefined;
  return prompt === undefined ? undefined : { tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: prompt }] }] };
}
