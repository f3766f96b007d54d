import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { COHERE_EMBED_TOKENS_PER_INPUT, RERANK_TOKENS } from '../helpers/fake-aux-apis.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * Retrieval APIs through llmtap with curl, as their SDKs send them: Cohere's Embed API, and
 * rerank on Cohere (v2, v1), Jina and Voyage (built-in hosts) and a vLLM-like server on --intercept.
 */
const run = promisify(execFile);
let fake: FakeProvider;
let tp: TestProxy;
let caFile: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  // Every host to the fake (its Host header says which provider it plays).
  tp = await startTestProxy(fake, { intercept: ['rerank.bench.test'], connectTo: [parseConnectTo(`::127.0.0.1:${fake.port}`)] });
  caFile = join(tp.home, 'client-ca.pem');
  writeFileSync(caFile, tp.caPem);
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const post = (url: string, agent: string, body: object) => run('curl', ['-sS', '--fail-with-body', '--proxy', tp.url, '--cacert', caFile, '-A', agent,
  '-H', 'content-type: application/json', '-H', 'authorization: Bearer co-test-0123456789abcdefghij', url, '-d', JSON.stringify(body)]);
const cli = async (...args: string[]): Promise<string> => (await run('node', [resolve('dist/cli/main.js'), '--home', tp.home, ...args])).stdout;
const recorded = (agent: string, n: number) => eventually(() => {
  const rows = exported(tp).filter((e) => e.client.user_agent === agent);
  if (rows.length < n) throw new Error(`${rows.length}/${n} recorded`);
  return rows;
});

describe('Cohere embeddings through the proxy', () => {
  it('v2 and v1 are embeddings with the request\'s model and the billed input tokens, priced when the price list knows the model', async () => {
    const answer = await post('https://api.cohere.com/v2/embed', 'cohere-embed-e2e', { model: 'embed-v4.0', input_type: 'search_document', embedding_types: ['float'], texts: ['one', 'two', 'three'] });
    expect(JSON.parse(answer.stdout).meta.billed_units.input_tokens).toBe(3 * COHERE_EMBED_TOKENS_PER_INPUT);
    await post('https://api.cohere.com/v1/embed', 'cohere-embed-e2e', { model: 'embed-english-v3.0', input_type: 'search_query', texts: ['four'] });

    const recs = await recorded('cohere-embed-e2e', 2);
    expect(recs.map((r) => [r.provider, r.api, r.model, r.usage.input_tokens, r.usage.output_tokens])).toEqual([
      ['cohere', 'embeddings', 'embed-v4.0', 21, null],
      ['cohere', 'embeddings', 'embed-english-v3.0', 7, null],
    ]);
    // embed-v4.0 at $0.12 per million input tokens; embed-english-v3.0 is not in the price list.
    expect(recs[0]!.cost_usd).toBeCloseTo(21 * 0.12e-6, 12);
    expect(recs[1]!.cost_usd).toBeNull();
    const shown = await cli('show', recs[1]!.session_id!);
    expect(shown).toMatch(/turn 1 [^\n]*embed-english-v3\.0 · 200 [^\n]*in 7 /);
    expect(shown).toContain('cost not known: unknown model "embed-english-v3.0" for cohere');
  });
});

describe('rerank through the proxy', () => {
  const documents = ['short', 'a much longer document about the sea', 'medium text here', 'Ship manifests mention the sea and b@x.io'];

  it('records the model, the ranking as text and the billed tokens (Jina, Voyage, a local server); Cohere\'s search units unpriced, saying why; show reads the query', async () => {
    const query = 'Which documents talk about the sea?';
    await post('https://api.cohere.com/v2/rerank', 'rerank-e2e', { model: 'rerank-v3.5', query, documents, top_n: 2 });
    await post('https://api.cohere.com/v1/rerank', 'rerank-e2e', { model: 'rerank-english-v3.0', query, documents: documents.map((text) => ({ text })), top_n: 1 });
    const jina = await post('https://api.jina.ai/v1/rerank', 'rerank-e2e', { model: 'jina-reranker-v2-base-multilingual', query, documents, top_n: 3 });
    expect(JSON.parse(jina.stdout).usage.total_tokens).toBe(RERANK_TOKENS);
    await post('https://api.voyageai.com/v1/rerank', 'rerank-e2e', { model: 'rerank-2', query, documents, top_k: 2 });
    await post('https://rerank.bench.test/rerank', 'rerank-e2e', { model: 'BAAI/bge-reranker-v2-m3', query, documents });

    const recs = await recorded('rerank-e2e', 5);
    // The fake ranks by length: 41, 36, 16 and 5 characters.
    const ranked = ['#3 1', '#1 0.878', '#2 0.39', '#0 0.122'];
    expect(recs.map((r) => [r.provider, r.api, r.model, r.usage.input_tokens, r.response?.text])).toEqual([
      ['cohere', 'rerank', 'rerank-v3.5', null, ranked.slice(0, 2).join('\n')],
      ['cohere', 'rerank', 'rerank-english-v3.0', null, ranked[0]],
      ['jina', 'rerank', 'jina-reranker-v2-base-multilingual', RERANK_TOKENS, ranked.slice(0, 3).join('\n')],
      ['voyage', 'rerank', 'rerank-2', RERANK_TOKENS, ranked.join('\n')],
      ['openai-compatible', 'rerank', 'BAAI/bge-reranker-v2-m3', RERANK_TOKENS, ranked.join('\n')],
    ]);
    // No price for any of them in the price list: none guessed.
    expect(recs.map((r) => r.cost_usd)).toEqual([null, null, null, null, null]);

    const cohere = await cli('show', recs[0]!.session_id!);
    expect(cohere).toMatch(/user\n\s+Which documents talk about the sea\?\n\s+user\s+\[4 documents, top 2\]/);
    expect(cohere).toMatch(/#3 1\n\s+#1 0\.878/);
    expect(cohere).toContain('cost not known: Cohere bills rerank in search units');
    expect(await cli('show', recs[2]!.session_id!)).toContain('cost not known: no public price for provider jina; add it with --prices');
    // The documents' text is searchable as the prompt.
    expect(await cli('search', 'ship manifests')).toContain(recs[0]!.id.slice(0, 8));
  });

  it('the same rerank sent twice and answered twice is two lookups, not a retry of one', async () => {
    const body = { model: 'rerank-v3.5', query: 'Which port is busiest?', documents, top_n: 1 };
    await post('https://api.cohere.com/v2/rerank', 'rerank-twice-e2e', body);
    await post('https://api.cohere.com/v2/rerank', 'rerank-twice-e2e', body);
    const recs = await recorded('rerank-twice-e2e', 2);
    expect(recs[0]!.session_id).not.toBe(recs[1]!.session_id);
    const sessions = (JSON.parse(await cli('sessions', '--json')) as Array<{ id: string; turns: number; retries: number }>).filter((s) => recs.some((r) => r.session_id === s.id));
    expect(sessions.map((s) => [s.turns, s.retries])).toEqual([[1, 0], [1, 0]]);
  });
});
