import type { Reassembled, Usage } from '../exchange.js';
import { asObject, parseJsonBody, wholeJsonReducer, type JsonObject } from './json.js';
import type { ProviderParser, RequestFacts } from './types.js';

/**
 * OpenAI's Moderations API (POST /v1/moderations): `{model?, input}` in — a string, strings,
 * or text and image_url parts — and one result per input out, `{flagged, categories: {name:
 * bool}, category_scores}`. The answer's text is the verdict, short: `flagged: violence,
 * harassment` or `not flagged`, one line per input when there are several. OpenAI's answer
 * counts nothing (it is free: cost/unbilled-apis.ts); Mistral's moderation (the same shape,
 * billed per input token) counts its input in an OpenAI-style `usage` (`prompt_tokens`, with
 * `completion_tokens` 0), read as input tokens. The model is the answer's
 * (`omni-moderation-2024-09-26`), else the request's, when it names one.
 */
export const openaiModerations: ProviderParser = {
  parseRequest(body): RequestFacts {
    const request = asObject(parseJsonBody(body));
    // Moderations never stream; the flag is left unset rather than guessed.
    return request && typeof request.model === 'string' ? { model: request.model } : {};
  },
  createReducer: () => wholeJsonReducer(readVerdicts),
};

function readVerdicts(body: JsonObject | undefined): Reassembled {
  const result: Reassembled = { text: '', toolCalls: [], events: 0 };
  if (!body) return result;
  if (typeof body.model === 'string' && body.model !== '') result.model = body.model;
  const verdicts = (Array.isArray(body.results) ? body.results : []).map((entry) => verdictOf(asObject(entry)));
  result.text = verdicts.length === 1 ? verdicts[0]! : verdicts.map((verdict, index) => `#${index} ${verdict}`).join('\n');
  const usage = inputUsage(asObject(body.usage));
  if (usage) result.usage = usage;
  return result;
}

/** The input a moderation counted: `prompt_tokens`, else `total_tokens` (a moderation writes nothing). */
function inputUsage(usage: JsonObject | undefined): Usage | undefined {
  const tokens = usage?.prompt_tokens ?? usage?.total_tokens;
  return typeof tokens === 'number' && Number.isFinite(tokens) && tokens >= 0 ? { inputTokens: tokens } : undefined;
}

/**
 * `flagged: violence, harassment` (the categories flagged, as the answer lists them) or `not
 * flagged`. Mistral's results have no `flagged`: a category marked true is the verdict there.
 */
function verdictOf(entry: JsonObject | undefined): string {
  const categories = asObject(entry?.categories);
  const flagged = categories ? Object.keys(categories).filter((name) => categories[name] === true) : [];
  if (entry?.flagged === false || (entry?.flagged !== true && flagged.length === 0)) return 'not flagged';
  return flagged.length > 0 ? `flagged: ${flagged.join(', ')}` : 'flagged';
}
