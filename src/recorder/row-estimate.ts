import { decodeBody } from '../content-encoding.js';
import { headerValue, type Exchange } from '../exchange.js';
import { lazyRequire } from '../lazy-require.js';
import { ESTIMATED_APIS, estimateAnswerTokens, estimatePromptTokens, type TokenCounter } from '../cost/usage-estimate.js';
import { answeredFromCache } from '../cache/answered-from-cache.js';
import { parseJson } from '../providers/json.js';

/**
 * OpenAI's o200k_base tokenizer (gpt-4o, gpt-4.1, o-series, gpt-5), loaded in the writer
 * thread on the first exchange that needs an estimate: it takes ~0.5-1 s and ~40-70 MB,
 * which the proxy's event loop and every archive without such traffic are spared.
 */
const tokenizer = lazyRequire<{ countTokens: (text: string, options: { disallowedSpecial: Set<string> }) => number }>('gpt-tokenizer/encoding/o200k_base');

/**
 * Tokens of a text, exactly. A special token's text (`<|endoftext|>` in a prompt asking what
 * it means) is counted as the ordinary text it is in a message, as OpenAI does; by default
 * the tokenizer throws on it, which would leave such an exchange unestimated and uncharged.
 */
export const countTokens: TokenCounter = (text) => tokenizer().countTokens(text, { disallowedSpecial: NO_SPECIAL });
const NO_SPECIAL = new Set<string>();

/** Characters of one exchange counted exactly (~12 ms); the rest at the rate they gave. An agent's prompt can be megabytes (~190 ms per MB counted). */
const EXACT_CHARS = 64 * 1024;

/**
 * A counter for one exchange: exact for its first `budget` characters, across all its
 * texts, then each further character at the tokens per character those gave. It bounds
 * the writer thread's work per exchange (records queue behind it).
 */
export function budgetedCounter(count: TokenCounter = countTokens, budget = EXACT_CHARS): TokenCounter {
  let chars = 0;
  let tokens = 0;
  const rate = (): number => (chars > 0 ? tokens / chars : 0.25);
  return (text) => {
    const left = budget - chars;
    if (left <= 0) return Math.round(text.length * rate());
    const head = text.length <= left ? text : text.slice(0, left);
    const n = count(head);
    chars += head.length;
    tokens += n;
    return n + Math.round((text.length - head.length) * rate());
  };
}

/**
 * In the writer thread, once the exchange's row is committed (estimate-pass.ts amends it):
 * a Chat Completions, Responses, text Completions or Cohere Chat (v2, v1) exchange whose answer (2xx, read by the parser)
 * reported no usage (a Cohere stream only in its last event: cut before it, none) gets its usage estimated from the text (cost/usage-estimate.ts),
 * flagged `usageEstimated`, so its tokens and cost are in the archive as estimates rather
 * than missing. Returns true when it estimated.
 */
export function estimateMissingUsage(ex: Exchange, count: TokenCounter = budgetedCounter()): boolean {
  const res = ex.response;
  if (!res?.reassembled || !mayEstimateUsage(ex)) return false;
  const reported = ex.usage ?? res.reassembled.usage;
  if (reported) {
    // An Anthropic stream cut before message_delta: message_start reported the input (kept as
    // is), the output is what the text, thinking and tool calls received come to with OpenAI's
    // tokenizer (Claude's own is not public: an approximation), never below what was reported.
    ex.usage = { ...reported, outputTokens: Math.max(reported.outputTokens ?? 0, estimateAnswerTokens(res.reassembled, count)) };
    return estimated(ex, 'output');
  }
  const body = ex.request.body;
  if (body.size === 0 || body.bytes.length === 0) return false;
  const decoded = decodeBody(body.bytes, headerValue(ex.request.headers, 'content-encoding'));
  if (!decoded) return false;
  const inputTokens = body.truncated
    // Cut at the capture limit (no longer JSON): the captured text's tokens scaled to the whole body.
    ? Math.round((count(decoded.toString('utf8')) / Math.max(1, decoded.length)) * body.size)
    : estimatePromptTokens(ex.api!, parseJson(decoded.toString('utf8')), count);
  if (inputTokens === undefined) return false;
  ex.usage = { inputTokens, outputTokens: estimateAnswerTokens(res.reassembled, count) };
  return estimated(ex, 'all');
}

function estimated(ex: Exchange, part: 'all' | 'output'): true {
  ex.usageEstimated = part;
  // A price the main thread put on the exchange (budgets) is of the usage it ended with.
  delete ex.price;
  return true;
}

/**
 * Whether the writer will estimate this exchange's usage (estimateMissingUsage, short of
 * reading the body): an answer (2xx, read by the parser, not from the response cache, not
 * ended by the provider's error) of Chat Completions, Responses, text Completions or Cohere Chat (v2, v1) that reported no usage,
 * or of Anthropic Messages streamed and cut before its final usage (message_start's input
 * alone; Claude on Bedrock InvokeModel's stream likewise). The proxy's main thread asks it too, to hold the exchange's policy charges and
 * Prometheus series until the estimate is reported.
 */
export function mayEstimateUsage(ex: Exchange): boolean {
  const res = ex.response;
  const answer = res?.reassembled;
  if (ex.api === undefined || ex.websocket || !answer) return false;
  // An answer the provider ended with an error (response.failed, an error event) is not billed as one that was cut.
  if (answer.failed || res.status < 200 || res.status > 299) return false;
  const usage = ex.usage ?? answer.usage;
  const missing = ESTIMATED_APIS.has(ex.api)
    ? usage === undefined
    // Not an answer captured only in part (--capture-limit): its final usage may have come after the cut.
    // Claude on Bedrock's invoke-with-response-stream carries the same events (its final metrics come after message_delta).
    : (ex.api === 'messages' || ex.api === 'bedrock.invoke') && answer.usagePartial === true && usage?.inputTokens !== undefined && !res.body.truncated;
  return missing && !answeredFromCache(ex);
}
