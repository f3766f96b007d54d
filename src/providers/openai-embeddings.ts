import type { Reassembled, Usage } from '../exchange.js';
import { asObject, parseJson, parseJsonBody, wholeJsonReducer } from './json.js';
import type { ProviderParser, RequestFacts } from './types.js';

/**
 * OpenAI Embeddings (POST …/embeddings), as OpenAI, Azure, Mistral, Together and
 * local servers answer it: no text worth keeping (vectors stay in the stored body),
 * only the model and `usage.prompt_tokens` (which `total_tokens` repeats).
 */
export const openaiEmbeddings: ProviderParser = {
  parseRequest(body): RequestFacts {
    const request = asObject(parseJsonBody(body));
    // Embeddings never stream; the flag is left unset rather than guessed.
    return request && typeof request.model === 'string' ? { model: request.model } : {};
  },
  createReducer: () => wholeJsonReducer((body) => {
    const result: Reassembled = { text: '', toolCalls: [], events: 0 };
    if (!body) return result;
    if (typeof body.model === 'string' && body.model !== '') result.model = body.model;
    const raw = asObject(body.usage);
    const input = raw?.prompt_tokens ?? raw?.total_tokens;
    if (typeof input === 'number' && Number.isFinite(input)) {
      const usage: Usage = { inputTokens: input };
      result.usage = usage;
    }
    return result;
  }),
};
