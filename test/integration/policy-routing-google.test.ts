import { GoogleGenAI } from '@google/genai';
import { fetch as undiciFetch, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { GEMINI_TEXT } from '../helpers/fake-google.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const API_KEY = 'AIzaSyFAKEFAKEFAKEFAKEFAKEFAKEFAKE0123456';
const VERTEX = 'us-east5-aiplatform.googleapis.com';

/**
 * A route's model on Google's APIs, which read the model from the path: the path's
 * model segment changes (and a model the body names, such as batchEmbedContents'
 * `requests[].model`, with it), the route records the model sent, and the cost is that
 * model's. With @google/genai (generateContent, its stream, embedContent) and a Vertex AI
 * request, against the fake Google endpoints.
 */
describe('route model rewrites on Gemini and Vertex AI paths', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  let previous: Dispatcher;

  beforeAll(async () => {
    fake = await startFakeProvider();
    const policy = loadPolicyText(`rules:
  - {id: cheaper, match: {model: gemini-2.5-pro}, route: {model: gemini-2.5-flash}}
  - {id: embed, match: {model: text-embedding-004}, route: {model: gemini-embedding-001}}
`, 'policy.yaml');
    tp = await startTestProxy(fake, { policy, connectTo: ['generativelanguage.googleapis.com', VERTEX].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)) });
    previous = getGlobalDispatcher();
    setGlobalDispatcher(tp.agent);
  });
  afterAll(async () => {
    setGlobalDispatcher(previous);
    await tp?.close();
    await fake?.close();
  });

  const recorded = (pick: (e: ReturnType<typeof exported>[number]) => boolean, n: number) => eventually(() => {
    const found = exported(tp).filter(pick);
    if (found.length < n) throw new Error(`${found.length}/${n}`);
    return found;
  });

  it('generateContent and its stream go to the routed model\'s path, recorded and priced as it', async () => {
    const seen = fake.seen.length;
    const ai = new GoogleGenAI({ apiKey: API_KEY });
    const once = await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'route me' });
    expect([once.text, once.modelVersion]).toEqual([GEMINI_TEXT, 'gemini-2.5-flash']);
    let streamed = '';
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-pro', contents: 'route me' })) streamed += chunk.text ?? '';
    expect(streamed).toBe(GEMINI_TEXT);
    expect(fake.seen.slice(seen).map((s) => s.url)).toEqual([
      '/v1beta/models/gemini-2.5-flash:generateContent',
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    ]);
    const recs = await recorded((e) => e.request?.body?.includes('route me') === true, 2);
    for (const e of recs) {
      // The archive keeps what the client asked for; the route says what went.
      expect([e.model, e.path.includes('gemini-2.5-pro')]).toEqual(['gemini-2.5-pro', true]);
      expect(e.policy).toMatchObject({ route: { from: { model: 'gemini-2.5-pro' }, to: { model: 'gemini-2.5-flash' } } });
      // gemini-2.5-flash: $0.30 per million input, $2.50 output (2.5 Pro: $1.25 and $10).
      expect(e.cost_usd).toBeCloseTo(9 * 0.3e-6 + 12 * 2.5e-6, 12);
    }
  });

  it('embedContent (batchEmbedContents): the path and every requests[].model name the routed model', async () => {
    const seen = fake.seen.length;
    const ai = new GoogleGenAI({ apiKey: API_KEY });
    const out = await ai.models.embedContent({ model: 'text-embedding-004', contents: ['hi', 'there'] });
    expect(out.embeddings).toHaveLength(2);
    const sent = fake.seen[seen]!;
    expect(sent.url).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    const body = JSON.parse(sent.body.toString()) as { requests: Array<{ model: string }> };
    expect(body.requests.map((r) => r.model)).toEqual(['models/gemini-embedding-001', 'models/gemini-embedding-001']);
    expect(Number(sent.rawHeaders[sent.rawHeaders.findIndex((h) => h.toLowerCase() === 'content-length') + 1])).toBe(sent.body.length);
    const [rec] = await recorded((e) => e.path.includes('text-embedding-004'), 1);
    expect([rec!.status, rec!.model, rec!.api]).toEqual([200, 'text-embedding-004', 'embeddings']);
    expect(rec!.policy).toMatchObject({ route: { to: { model: 'gemini-embedding-001' } } });
  });

  it('Vertex AI: the publisher model in the path changes, the project and location stay', async () => {
    const seen = fake.seen.length;
    const path = '/v1/projects/my-proj/locations/us-east5/publishers/google/models/gemini-2.5-pro:generateContent';
    const res = await undiciFetch(`https://${VERTEX}${path}`, {
      method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json', authorization: 'Bearer ya29.fake-vertex-token' },
      body: '{"contents":[{"role":"user","parts":[{"text":"vertex route"}]}]}',
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { modelVersion: string }).modelVersion).toBe('gemini-2.5-flash');
    expect(fake.seen[seen]!.url).toBe('/v1/projects/my-proj/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent');
    expect(fake.seen[seen]!.body.toString()).toBe('{"contents":[{"role":"user","parts":[{"text":"vertex route"}]}]}');
    const [rec] = await recorded((e) => e.request?.body?.includes('vertex route') === true, 1);
    expect([rec!.provider, rec!.model]).toEqual(['vertex-ai', 'gemini-2.5-pro']);
    expect(rec!.policy).toMatchObject({ route: { to: { model: 'gemini-2.5-flash' } } });
  });
});
