import type { Reassembled, Usage } from '../exchange.js';
import { asObject, parseJsonBody, wholeJsonReducer, type JsonObject } from './json.js';
import type { ProviderParser, RequestFacts } from './types.js';

/**
 * Embeddings, whoever serves them: no text worth keeping (vectors stay in the stored
 * body), only the model and the prompt's tokens where the answer counts them —
 * OpenAI's `usage.prompt_tokens` (which `total_tokens` repeats; OpenAI, Azure, Mistral,
 * Together, local servers), Ollama's native /api/embed `prompt_eval_count`, Vertex AI's
 * embedContent `usageMetadata.promptTokenCount`, Cohere's /v2/embed and /v1/embed
 * `meta.billed_units.input_tokens` (what Cohere bills). The Gemini API's embedContent and
 * batchEmbedContents answers and Ollama's older /api/embeddings count nothing. The model
 * is in the body (OpenAI, Ollama) or, for Google, in the path (registry.factsFromPath).
 */
export const openaiEmbeddings: ProviderParser = {
  parseRequest(body): RequestFacts {
    const request = asObject(parseJsonBody(body));
    // Embeddings never stream; the flag is left unset rather than guessed. Google's body may
    // name the model as a resource (`models/gemini-embedding-001`), as its path does without the prefix.
    return request && typeof request.model === 'string' ? { model: request.model.replace(/^models\//, '') } : {};
  },
  createReducer: () => wholeJsonReducer((body) => {
    const result: Reassembled = { text: '', toolCalls: [], events: 0 };
    if (!body) return result;
    if (typeof body.model === 'string' && body.model !== '') result.model = body.model;
    const raw = asObject(body.usage);
    const input = raw?.prompt_tokens ?? raw?.total_tokens ?? body.prompt_eval_count ?? asObject(body.usageMetadata)?.promptTokenCount
      ?? cohereBilledInput(body);
    if (typeof input === 'number' && Number.isFinite(input)) {
      const usage: Usage = { inputTokens: input };
      result.usage = usage;
    }
    return result;
  }),
};

/** Cohere's Embed answers (v1 and v2) name no model and count what is billed in `meta.billed_units`. */
function cohereBilledInput(body: JsonObject): unknown {
  return asObject(asObject(body.meta)?.billed_units)?.input_tokens;
}
