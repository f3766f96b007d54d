import type { Reassembled, Usage } from '../exchange.js';
import { asObject } from '../providers/json.js';

/** Counts the tokens of a text (the tokenizer, passed in so this stays pure and testable). */
export type TokenCounter = (text: string) => number;

/**
 * Token overheads of a Chat Completions prompt as OpenAI documents counting them: each
 * message is wrapped in 3 tokens (role and separators), a `name` adds 1, and the reply is
 * primed with 3 more.
 */
const PER_MESSAGE = 3;
const PER_NAME = 1;
const REPLY_PRIMING = 3;

/**
 * Usage estimated from the text of a Chat Completions exchange whose answer reported none
 * (a stream sent without `stream_options.include_usage`, which the OpenAI SDKs do not ask
 * for; a stream cut before its usage chunk; a compatible server that reports nothing).
 * What no text shows is not counted: images and audio in the prompt, and reasoning a
 * model does not stream (o-series, gpt-5), so an estimate errs low for those. Undefined
 * when the request is not a Chat Completions body.
 */
export function estimateChatUsage(request: unknown, answer: Answer | undefined, count: TokenCounter): Usage | undefined {
  const input = estimatePromptTokens(request, count);
  return input === undefined ? undefined : { inputTokens: input, outputTokens: answer ? estimateAnswerTokens(answer, count) : 0 };
}

/** The answer's text, thinking and tool calls (names and arguments). */
type Answer = Pick<Reassembled, 'text' | 'thinking' | 'toolCalls'>;

/** A Chat Completions prompt's tokens: every message's text, names and tool calls, and the tool definitions. */
export function estimatePromptTokens(request: unknown, count: TokenCounter): number | undefined {
  const body = asObject(request);
  if (!body || !Array.isArray(body.messages)) return undefined;
  let input = REPLY_PRIMING;
  for (const message of body.messages) {
    const m = asObject(message);
    if (!m) continue;
    input += PER_MESSAGE + textTokens(m.role, count) + textTokens(m.content, count);
    if (typeof m.name === 'string') input += PER_NAME + count(m.name);
    if (Array.isArray(m.tool_calls)) input += textTokens(m.tool_calls, count);
  }
  // Tool definitions are part of the prompt; counted as their JSON (the provider's own rendering is close to it).
  if (Array.isArray(body.tools) && body.tools.length > 0) input += count(JSON.stringify(body.tools));
  return input;
}

/** The answer's tokens: its text, thinking, and each tool call's name and arguments. */
export function estimateAnswerTokens(answer: Answer, count: TokenCounter): number {
  let output = countIf(answer.text, count) + countIf(answer.thinking, count);
  for (const call of answer.toolCalls) output += count(call.name) + count(call.arguments);
  return output;
}

/** Tokens of a message field: a string, text parts (`{type:"text", text}`), tool calls' names and arguments. */
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
