import type { ServerResponse } from 'node:http';

/**
 * The fake provider's APIs beside generation, in their documented wire formats:
 * Anthropic's token counting (POST /v1/messages/count_tokens, and Claude on Vertex AI's
 * …/publishers/anthropic/models/count-tokens:rawPredict): `{"input_tokens": N}`, and Bedrock's
 * (/model/{modelId}/count-tokens): `{"inputTokens": N}`; Cohere's
 * Embed API (/v2/embed: embeddings by type; /v1/embed: a list of floats), billing
 * COHERE_EMBED_TOKENS_PER_INPUT input tokens per text or input in `meta.billed_units`;
 * rerank (/v1/rerank, /v2/rerank, /rerank) ranking the documents by length, longest first:
 * Cohere's answer (`results`, one search unit billed) on its own host, Voyage's (`data`,
 * `usage.total_tokens`) on its, Jina's and vLLM's (`results`, `model`, `usage.total_tokens`)
 * on any other (the fake serves every host from one port: the Host header tells them apart).
 */
export const COUNTED_TOKENS = 2095;
export const COHERE_EMBED_TOKENS_PER_INPUT = 7;

export function auxRoute(res: ServerResponse, pathname: string, host: string, body: Record<string, unknown>): boolean {
  if (pathname === '/v1/messages/count_tokens' || /\/publishers\/anthropic\/models\/count-tokens:rawPredict$/.test(pathname)) {
    return json(res, { input_tokens: COUNTED_TOKENS });
  }
  // Bedrock's CountTokens: `{"inputTokens": N}`.
  if (/^\/model\/[^/]+\/count-tokens$/.test(pathname)) return json(res, { inputTokens: COUNTED_TOKENS });
  if (pathname === '/v2/embed' || pathname === '/v1/embed') return cohereEmbed(res, pathname, body);
  if (pathname.endsWith('/rerank')) return rerank(res, host, body);
  return false;
}

export const RERANK_TOKENS = 41;

function rerank(res: ServerResponse, host: string, body: Record<string, unknown>): true {
  const documents = Array.isArray(body.documents) ? body.documents : [];
  const length = (d: unknown): number => (typeof d === 'string' ? d : JSON.stringify(d)).length;
  const order = documents.map((d, index) => ({ index, score: length(d) })).sort((a, b) => b.score - a.score);
  const top = typeof body.top_n === 'number' ? order.slice(0, body.top_n) : order;
  const max = Math.max(1, ...order.map((o) => o.score));
  const results = top.map((o) => ({ index: o.index, relevance_score: Math.round((o.score / max) * 1000) / 1000 }));
  if (host.startsWith('api.cohere.com')) return json(res, { id: 'rr-fake', results, meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } } });
  if (host.startsWith('api.voyageai.com')) return json(res, { object: 'list', data: results, model: body.model, usage: { total_tokens: RERANK_TOKENS } });
  return json(res, { id: 'rr-fake', model: body.model, results, usage: { total_tokens: RERANK_TOKENS } });
}

function cohereEmbed(res: ServerResponse, pathname: string, body: Record<string, unknown>): true {
  const texts = Array.isArray(body.texts) ? body.texts : [];
  const count = texts.length + (Array.isArray(body.inputs) ? body.inputs.length : 0) + (Array.isArray(body.images) ? body.images.length : 0);
  const vectors = Array.from({ length: count }, (_, i) => [0.01 * i, -0.02, 0.03]);
  const v2 = pathname === '/v2/embed';
  return json(res, {
    id: `emb-fake-${count}`, texts, ...(v2 ? { embeddings: { float: vectors }, response_type: 'embeddings_by_type' } : { embeddings: vectors, response_type: 'embeddings_floats' }),
    meta: { api_version: { version: v2 ? '2' : '1' }, billed_units: { input_tokens: count * COHERE_EMBED_TOKENS_PER_INPUT } },
  });
}

function json(res: ServerResponse, body: unknown): true {
  const payload = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
  return true;
}
