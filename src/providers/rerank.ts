import type { Reassembled, Usage } from '../exchange.js';
import { asObject, parseJsonBody, wholeJsonReducer, type JsonObject } from './json.js';
import type { ProviderParser, RequestFacts } from './types.js';

/**
 * Rerank in the shape Cohere made and others copied (Cohere /v1/rerank and /v2/rerank,
 * Jina, Voyage, Together, vLLM and Infinity): `{model, query, documents, top_n}` in, the
 * documents' indexes ranked by relevance out — Cohere and the others as `results`, Voyage
 * as `data`. The ranking is the answer's text, one `#index score` a line, best first as
 * the answer lists them. Usage: Jina's, Voyage's and vLLM's `usage.total_tokens` (Together's
 * `prompt_tokens`) as input tokens; Cohere bills search units
 * (`meta.billed_units.search_units`), which are no tokens and stay in the stored body
 * (cost/unpriced-reason.ts says why such an exchange has no cost).
 */
export const rerank: ProviderParser = {
  parseRequest(body): RequestFacts {
    const request = asObject(parseJsonBody(body));
    // Rerank never streams; the flag is left unset rather than guessed.
    return request && typeof request.model === 'string' ? { model: request.model } : {};
  },
  createReducer: () => wholeJsonReducer(readRanking),
};

function readRanking(body: JsonObject | undefined): Reassembled {
  const result: Reassembled = { text: '', toolCalls: [], events: 0 };
  if (!body) return result;
  if (typeof body.model === 'string' && body.model !== '') result.model = body.model;
  const ranked = Array.isArray(body.results) ? body.results : Array.isArray(body.data) ? body.data : [];
  const lines: string[] = [];
  for (const entry of ranked) {
    const item = asObject(entry);
    if (typeof item?.index === 'number') lines.push(`#${item.index} ${typeof item.relevance_score === 'number' ? item.relevance_score : '?'}`);
  }
  result.text = lines.join('\n');
  const raw = asObject(body.usage);
  const input = raw?.prompt_tokens ?? raw?.total_tokens;
  if (typeof input === 'number' && Number.isFinite(input)) {
    const usage: Usage = { inputTokens: input };
    result.usage = usage;
  }
  return result;
}
