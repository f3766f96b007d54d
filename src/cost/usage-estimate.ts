import type { Reassembled } from '../exchange.js';
import { cohereV1Messages } from '../providers/cohere-v1-request.js';
import { asObject, type JsonObject } from '../providers/json.js';

/** Counts the tokens of a text (the tokenizer, passed in so this stays pure and testable). */
export type TokenCounter = (text: string) => number;

/** The APIs whose usage llmtap estimates when an answer reports none (recorder/row-estimate.ts). */
export const ESTIMATED_APIS: ReadonlySet<string> = new Set(['chat.completions', 'responses', 'completions', 'cohere.chat', 'cohere.chat.v1']);

/**
 * Token overheads of a prompt as OpenAI documents counting them for Chat Completions: each
 * message is wrapped in 3 tokens (role and separators), a `name` adds 1, and the reply is
 * primed with 3 more. Used for Responses input items alike.
 */
const PER_MESSAGE = 3;
const PER_NAME = 1;
const REPLY_PRIMING = 3;

/**
 * The prompt tokens of a request whose answer reported no usage: a Chat Completions
 * stream sent without `stream_options.include_usage` (the OpenAI SDKs' default), a stream
 * cut before its usage (Chat Completions, Responses), a compatible server that reports
 * nothing. What no text shows is not counted: images and audio, encrypted reasoning
 * handed back, and a Responses `previous_response_id`'s earlier turns (held by the
 * provider), so the estimate errs low there. A text Completions request (GitHub
 * Copilot's inline suggestions, which never ask for usage) counts its prompt and
 * suffix. Cohere's Chat v2, which reports usage only in a stream's last event, counts as
 * Chat Completions plus its tool plans and grounding documents; its Chat v1 likewise, once
 * its preamble, history and message are put as messages. Undefined when the body
 * is not one of these APIs' requests.
 */
export function estimatePromptTokens(api: string, request: unknown, count: TokenCounter): number | undefined {
  const body = asObject(request);
  if (!body) return undefined;
  if (api === 'completions') return completionsPrompt(body, count);
  if (api === 'cohere.chat') return cohereChatPrompt(body, count);
  if (api === 'cohere.chat.v1') {
    // Chat v1's preamble, history and message, as Chat Completions messages, plus its documents.
    const messages = cohereV1Messages(body);
    return messages ? cohereChatPrompt({ messages, tools: body.tools, documents: body.documents }, count) : undefined;
  }
  return api === 'responses' ? responsesPrompt(body, count) : chatPrompt(body, count);
}

/** Text Completions (Copilot's inline suggestions): the prompt and the fill-in-the-middle suffix, as the model reads them, with no message wrapping. */
function completionsPrompt(body: JsonObject, count: TokenCounter): number | undefined {
  const { prompt } = body;
  const suffix = typeof body.suffix === 'string' ? countIf(body.suffix, count) : 0;
  if (typeof prompt === 'string') return countIf(prompt, count) + suffix;
  if (!Array.isArray(prompt)) return undefined;
  let tokens = suffix;
  // Several prompts (strings), or prompts already tokenized: a list of ids, or lists of them.
  for (const item of prompt) {
    if (typeof item === 'string') tokens += countIf(item, count);
    else if (typeof item === 'number') tokens += 1;
    else if (Array.isArray(item)) tokens += item.length;
  }
  return tokens;
}

/** The answer's text, thinking and tool calls (names and arguments): reasoning a model does not stream is not in them. */
export function estimateAnswerTokens(answer: Pick<Reassembled, 'text' | 'thinking' | 'toolCalls'>, count: TokenCounter): number {
  let output = countIf(answer.text, count) + countIf(answer.thinking, count);
  for (const call of answer.toolCalls) output += count(call.name) + count(call.arguments);
  return output;
}

/** Chat Completions: every message's role, text, name and tool calls, and the tool definitions. */
function chatPrompt(body: JsonObject, count: TokenCounter): number | undefined {
  if (!Array.isArray(body.messages)) return undefined;
  let input = REPLY_PRIMING + toolsTokens(body.tools, count);
  for (const message of body.messages) {
    const m = asObject(message);
    if (!m) continue;
    input += PER_MESSAGE + textTokens(m.role, count) + textTokens(m.content, count);
    if (typeof m.name === 'string') input += PER_NAME + count(m.name);
    if (Array.isArray(m.tool_calls)) input += textTokens(m.tool_calls, count);
  }
  return input;
}

/** Cohere Chat v2: its messages read as Chat Completions ones, plus each assistant message's `tool_plan` and the top-level `documents`. */
function cohereChatPrompt(body: JsonObject, count: TokenCounter): number | undefined {
  const chat = chatPrompt(body, count);
  if (chat === undefined) return undefined;
  let extra = 0;
  for (const message of body.messages as unknown[]) extra += textTokens(asObject(message)?.tool_plan, count);
  if (Array.isArray(body.documents)) for (const doc of body.documents) extra += typeof doc === 'string' ? countIf(doc, count) : count(JSON.stringify(doc));
  return chat + extra;
}

/** Responses: the instructions, the input (a string or items: messages, tool calls and their outputs), and the tool definitions. */
function responsesPrompt(body: JsonObject, count: TokenCounter): number | undefined {
  const { input } = body;
  if (typeof input !== 'string' && !Array.isArray(input)) return undefined;
  let tokens = REPLY_PRIMING + toolsTokens(body.tools, count) + countIf(typeof body.instructions === 'string' ? body.instructions : undefined, count);
  if (typeof input === 'string') return tokens + PER_MESSAGE + count(input);
  for (const entry of input) {
    const item = asObject(entry);
    if (!item) continue;
    if (item.type === undefined || item.type === 'message') tokens += PER_MESSAGE + textTokens(item.role, count) + textTokens(item.content, count);
    else if (item.type === 'function_call') tokens += PER_MESSAGE + textTokens(item.name, count) + textTokens(item.arguments, count);
    else if (item.type === 'function_call_output') tokens += PER_MESSAGE + textTokens(item.output, count);
    else if (item.type === 'reasoning') tokens += textTokens(item.summary, count); // encrypted_content cannot be counted
    else {
      // Other tool calls and outputs (custom tools, shell, web search …): their JSON, as near as can be told.
      const { encrypted_content: _hidden, ...visible } = item;
      tokens += PER_MESSAGE + count(JSON.stringify(visible));
    }
  }
  return tokens;
}

/** Tool definitions are part of the prompt; counted as their JSON (the provider's own rendering is close to it). */
function toolsTokens(tools: unknown, count: TokenCounter): number {
  return Array.isArray(tools) && tools.length > 0 ? count(JSON.stringify(tools)) : 0;
}

/** Tokens of a field: a string, text parts (`{type:"text"|"input_text"|…, text}`), tool calls' names and arguments. */
function textTokens(value: unknown, count: TokenCounter): number {
  if (typeof value === 'string') return countIf(value, count);
  if (!Array.isArray(value)) return 0;
  let n = 0;
  for (const part of value) {
    const p = asObject(part);
    if (!p) continue;
    if (typeof p.text === 'string') n += countIf(p.text, count);
    const fn = asObject(p.function);
    if (fn) n += countIf(typeof fn.name === 'string' ? fn.name : undefined, count) + countIf(typeof fn.arguments === 'string' ? fn.arguments : undefined, count);
  }
  return n;
}

function countIf(text: string | undefined, count: TokenCounter): number {
  return text ? count(text) : 0;
}
