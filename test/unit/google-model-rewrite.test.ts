import { describe, expect, it } from 'vitest';
import { googleModelSegment, rewriteGoogleBody, rewriteGooglePath } from '../../src/policy/google-model-rewrite.js';
import type { Hop } from '../../src/policy/routing.js';
import { requestForHop, type BaseRequest } from '../../src/proxy/hop-request.js';

const route = (path: string, model: string): string | undefined => {
  const segment = googleModelSegment(path);
  return segment && rewriteGooglePath(path, segment, model);
};

describe('a route model on Google model paths', () => {
  it('the model segment changes; method, query and every other segment stay', () => {
    expect(route('/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=k', 'gemini-2.5-flash')).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=k');
    expect(route('/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:predict', 'models/text-embedding-005')).toBe('/v1/projects/p/locations/l/publishers/google/models/text-embedding-005:predict');
    // A Vertex Claude id keeps its @; anything else unsafe in a segment is escaped.
    expect(route('/v1/projects/p/locations/l/publishers/anthropic/models/claude-x@1:rawPredict', 'claude-y@2')).toBe('/v1/projects/p/locations/l/publishers/anthropic/models/claude-y@2:rawPredict');
    expect(route('/v1beta/models/a:generateContent', 'b/c:d')).toBe('/v1beta/models/b%2Fc%3Ad:generateContent');
    for (const path of ['/v1/chat/completions', '/v1internal:generateContent', '/v1beta/models/a', '/model/x/converse']) expect(googleModelSegment(path)).toBeUndefined();
  });

  it('the body\'s model and each requests[].model, in their resource form, by splicing bytes', () => {
    const batch = '{ "requests" : [ {"model":"models/text-embedding-004","content":{"parts":[{"text":"a \\"model\\""}]}}, {"content":{},"model": "models/text-embedding-004"} ], "model":"text-embedding-004"}';
    expect(rewriteGoogleBody(Buffer.from(batch), 'gemini-embedding-001')!.toString()).toBe(batch.replace(/models\/text-embedding-004/g, 'models/gemini-embedding-001').replace('"model":"text-embedding-004"', '"model":"gemini-embedding-001"'));
    const vertex = '{"model":"projects/p/locations/l/publishers/google/models/a","instances":[]}';
    expect(rewriteGoogleBody(Buffer.from(vertex), 'b')!.toString()).toBe('{"model":"projects/p/locations/l/publishers/google/models/b","instances":[]}');
    // Nothing names the model (generateContent's body), or not JSON: the body goes as sent.
    for (const raw of ['{"contents":[{"model":"x"}]}', '{"requests":[{"model":3}]}', 'not json', '']) expect(rewriteGoogleBody(Buffer.from(raw), 'b')).toBeUndefined();
  });

  it('requestForHop: path rewritten, body as sent when it names no model; a body llmtap could not decode changes neither', () => {
    const body = Buffer.from('{"contents":[]}');
    const base: BaseRequest = { method: 'POST', path: '/v1beta/models/gemini-2.5-pro:generateContent', body, chunked: true, identity: body, headers: ['Content-Type', 'application/json'] };
    const hop: Hop = { origin: { tls: true, host: 'generativelanguage.googleapis.com', port: 443, label: 'https://generativelanguage.googleapis.com' }, model: 'gemini-2.5-flash', explicit: false };
    const r = requestForHop(base, hop);
    expect([r.path, r.body, r.chunked, r.modelNotRewritten]).toEqual(['/v1beta/models/gemini-2.5-flash:generateContent', body, true, undefined]);
    const coded = requestForHop({ ...base, identity: undefined }, hop);
    expect([coded.path, coded.body, coded.modelNotRewritten]).toEqual([base.path, body, expect.stringMatching(/could not be read/)]);
  });
});
