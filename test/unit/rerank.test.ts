import { describe, expect, it } from 'vitest';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { unpricedReason, type UnpricedRow } from '../../src/cost/unpriced-reason.js';
import { makeExchange } from '../../src/exchange.js';
import { exchangeSpan } from '../../src/otel/span-attributes.js';
import { BUILT_IN_DETECTORS } from '../../src/policy/detectors.js';
import { Placeholders, redactRequest } from '../../src/policy/redact-body.js';
import { identifyRequest, parserFor } from '../../src/providers/registry.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { readConversation } from '../../src/sessions/conversation.js';

/**
 * Rerank in the shape Cohere made and others copied: {model, query, documents, top_n} in;
 * ranked results by index with a relevance score out. Cohere bills search units
 * (meta.billed_units.search_units), Jina and Voyage tokens (usage.total_tokens).
 */
const request = { model: 'rerank-v3.5', query: 'Who wrote to a@x.io?', documents: ['Mail from b@x.io', 'Weather report', { text: 'Note for c@x.io' }], top_n: 2 };

function reduce(answer: unknown) {
  const reducer = parserFor('rerank')!.createReducer('application/json');
  const bytes = Buffer.from(typeof answer === 'string' ? answer : JSON.stringify(answer));
  reducer.push(bytes.subarray(0, 9));
  reducer.push(bytes.subarray(9));
  return reducer.finish();
}

describe('rerank', () => {
  it('is identified on Cohere (v1, v2), Jina, Voyage, Together and a listed local server', () => {
    expect(identifyRequest('api.cohere.com', 443, '/v2/rerank')).toEqual({ provider: 'cohere', api: 'rerank' });
    expect(identifyRequest('api.cohere.com', 443, '/v1/rerank')).toEqual({ provider: 'cohere', api: 'rerank' });
    expect(identifyRequest('api.jina.ai', 443, '/v1/rerank')).toEqual({ provider: 'jina', api: 'rerank' });
    expect(identifyRequest('api.voyageai.com', 443, '/v1/rerank')).toEqual({ provider: 'voyage', api: 'rerank' });
    expect(identifyRequest('api.together.xyz', 443, '/v1/rerank')).toEqual({ provider: 'together', api: 'rerank' });
    // vLLM and Infinity on the --intercept list: /rerank and /v1/rerank.
    expect(identifyRequest('gpu-box.internal', 8000, '/rerank')).toEqual({ provider: 'openai-compatible', api: 'rerank' });
    expect(identifyRequest('gpu-box.internal', 8000, '/v1/rerank')).toEqual({ provider: 'openai-compatible', api: 'rerank' });
    // Jina's and Voyage's embeddings are OpenAI's shape.
    expect(identifyRequest('api.voyageai.com', 443, '/v1/embeddings')).toEqual({ provider: 'voyage', api: 'embeddings' });
  });

  it('reads the model; the answer\'s ranking is its text; Cohere\'s search units are no tokens, Jina\'s and Voyage\'s tokens are input', () => {
    expect(parserFor('rerank')!.parseRequest(Buffer.from(JSON.stringify(request)))).toEqual({ model: 'rerank-v3.5' });
    const cohere = reduce({ id: 'r1', results: [{ index: 2, relevance_score: 0.98 }, { index: 0, relevance_score: 0.5 }], meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } } });
    expect(cohere).toMatchObject({ text: '#2 0.98\n#0 0.5', toolCalls: [] });
    expect(cohere.usage).toBeUndefined();
    expect(cohere.model).toBeUndefined();
    const jina = reduce({ model: 'jina-reranker-v2-base-multilingual', usage: { total_tokens: 815 }, results: [{ index: 1, relevance_score: 0.7, document: { text: 'x' } }] });
    expect(jina).toMatchObject({ model: 'jina-reranker-v2-base-multilingual', text: '#1 0.7', usage: { inputTokens: 815 } });
    // Voyage names its list `data`.
    const voyage = reduce({ object: 'list', data: [{ relevance_score: 0.4, index: 0 }], model: 'rerank-2', usage: { total_tokens: 26 } });
    expect(voyage).toMatchObject({ model: 'rerank-2', text: '#0 0.4', usage: { inputTokens: 26 } });
    expect(reduce('<html>bad gateway</html>')).toMatchObject({ text: '', toolCalls: [] });
  });

  it('is priced by tokens when the price list knows the model; Cohere\'s search units are unpriced, and say so', () => {
    const at = Date.parse('2026-01-01');
    // Voyage is the price list's `voyageai`: its embeddings are priced (voyage-3 at $0.06 per million).
    expect(priceExchange({ provider: 'voyage', host: 'api.voyageai.com', api: 'embeddings', model: 'voyage-3', usage: { inputTokens: 1_000_000 }, at, subscription: false }))
      .toMatchObject({ usd: 0.06, matchedProvider: 'voyageai' });
    expect(priceExchange({ provider: 'voyage', host: 'api.voyageai.com', api: 'rerank', model: 'rerank-2', usage: { inputTokens: 26 }, at, subscription: false }))
      .toMatchObject({ usd: null, reason: 'unknown model "rerank-2" for voyageai' });
    const row: UnpricedRow = {
      cost_usd: null, cost_source: null, status: 200, provider: 'cohere', host: 'api.cohere.com', port: 443, tls: 1, path: '/v2/rerank', api: 'rerank',
      model: 'rerank-v3.5', policy: null, started_at: at, input_tokens: null, output_tokens: null, cached_input_tokens: null, reasoning_tokens: null,
      cache_creation_input_tokens: null, input_audio_tokens: null, cached_audio_input_tokens: null, output_audio_tokens: null,
    };
    expect(unpricedReason(row, (input) => priceExchange(input))).toMatch(/^Cohere bills rerank in search units .*which llmtap does not price/);
  });

  it('redaction reads the query and the documents\' text; the model and top_n stay', () => {
    const body = structuredClone(request);
    const hits = redactRequest('rerank', body, Object.values(BUILT_IN_DETECTORS), new Placeholders(), true);
    expect(hits.map((h) => h.at).sort()).toEqual(['documents[0]', 'documents[2].text', 'query']);
    expect(JSON.stringify(body)).not.toMatch(/[abc]@x\.io/);
    expect([body.model, body.top_n]).toEqual(['rerank-v3.5', 2]);
  });

  it('show reads the query as the user\'s text and the document count; a rerank operation in OpenTelemetry', () => {
    expect(readConversation('rerank', request)).toEqual({ tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: 'Who wrote to a@x.io?' }, { type: 'other', kind: '3 documents, top 2' }] }] });
    const ex = makeExchange({
      provider: 'cohere', api: 'rerank', target: { host: 'api.cohere.com', port: 443, tls: true }, request: { method: 'POST', path: '/v2/rerank', model: 'rerank-v3.5' },
      response: { status: 200, headers: [], body: { bytes: Buffer.from('{}'), size: 2, truncated: false }, reassembled: { text: '#0 1', toolCalls: [], events: 0 } },
      outcome: 'completed', timings: { start: 1000, end: 1100 },
    });
    expect(exchangeSpan(ex, { content: false, redactor: createRedactor([]) }).attributes).toMatchObject({ 'gen_ai.operation.name': 'rerank' });
  });
});
