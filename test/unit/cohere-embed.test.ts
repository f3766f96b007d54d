import { describe, expect, it } from 'vitest';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { BUILT_IN_DETECTORS } from '../../src/policy/detectors.js';
import { Placeholders, redactRequest } from '../../src/policy/redact-body.js';
import { identifyRequest, parserFor } from '../../src/providers/registry.js';

/** Cohere's Embed API (POST /v2/embed, and v1's /v1/embed) in its documented shapes. */
const v2Request = {
  model: 'embed-v4.0', input_type: 'search_document', embedding_types: ['float'],
  texts: ['hello a@x.io', 'goodbye'],
};
const v2Inputs = {
  model: 'embed-v4.0', input_type: 'search_document',
  inputs: [{ content: [{ type: 'text', text: 'caption for b@x.io' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }],
};
const v2Answer = {
  id: 'emb-1', embeddings: { float: [[0.1, 0.2], [0.3, 0.4]] }, texts: ['hello a@x.io', 'goodbye'], response_type: 'embeddings_by_type',
  meta: { api_version: { version: '2' }, billed_units: { input_tokens: 9 } },
};
const v1Answer = { id: 'emb-2', embeddings: [[0.1, 0.2]], texts: ['hi'], response_type: 'embeddings_floats', meta: { api_version: { version: '1' }, billed_units: { input_tokens: 1 } } };

function reduce(answer: unknown) {
  const reducer = parserFor('embeddings')!.createReducer('application/json');
  const bytes = Buffer.from(JSON.stringify(answer));
  reducer.push(bytes.subarray(0, 7));
  reducer.push(bytes.subarray(7));
  return reducer.finish();
}

describe('Cohere embeddings', () => {
  it('/v2/embed and /v1/embed on api.cohere.com are embeddings', () => {
    expect(identifyRequest('api.cohere.com', 443, '/v2/embed')).toEqual({ provider: 'cohere', api: 'embeddings' });
    expect(identifyRequest('api.cohere.com', 443, '/v1/embed')).toEqual({ provider: 'cohere', api: 'embeddings' });
  });

  it('reads the model from the request and the billed input tokens from meta.billed_units', () => {
    expect(parserFor('embeddings')!.parseRequest(Buffer.from(JSON.stringify(v2Request)))).toEqual({ model: 'embed-v4.0' });
    expect(reduce(v2Answer)).toMatchObject({ text: '', usage: { inputTokens: 9 } });
    expect(reduce(v1Answer).usage).toEqual({ inputTokens: 1 });
    // No model in Cohere's answer: the request's stays.
    expect(reduce(v2Answer).model).toBeUndefined();
  });

  it('is priced when the price list knows the model (embed-v4.0), else unpriced by the usual reason', () => {
    const at = Date.parse('2026-01-01');
    const known = priceExchange({ provider: 'cohere', host: 'api.cohere.com', api: 'embeddings', model: 'embed-v4.0', usage: { inputTokens: 1_000_000 }, at, subscription: false });
    expect([known.matchedProvider, known.usd]).toEqual(['cohere', 0.12]);
    const unknown = priceExchange({ provider: 'cohere', host: 'api.cohere.com', api: 'embeddings', model: 'embed-english-v3.0', usage: { inputTokens: 10 }, at, subscription: false });
    expect(unknown).toMatchObject({ usd: null, reason: 'unknown model "embed-english-v3.0" for cohere' });
  });

  it('redaction reads texts and the text parts of inputs; images, the model and input_type stay', () => {
    const texts = structuredClone(v2Request);
    const inputs = structuredClone(v2Inputs);
    const detectors = Object.values(BUILT_IN_DETECTORS);
    expect(redactRequest('embeddings', texts, detectors, new Placeholders(), true).map((h) => h.at)).toEqual(['texts[0]']);
    expect(redactRequest('embeddings', inputs, detectors, new Placeholders(), true).map((h) => h.at)).toEqual(['inputs[0].content[0].text']);
    expect(JSON.stringify([texts, inputs])).not.toMatch(/[ab]@x\.io/);
    expect(inputs.inputs[0]!.content[1]).toEqual(v2Inputs.inputs[0]!.content[1]);
    expect([texts.model, texts.input_type]).toEqual(['embed-v4.0', 'search_document']);
  });
});
