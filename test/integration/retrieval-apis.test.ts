import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { COHERE_EMBED_TOKENS_PER_INPUT } from '../helpers/fake-aux-apis.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/** Retrieval APIs through llmtap with curl, as their SDKs send them: Cohere's Embed API. */
const run = promisify(execFile);
let fake: FakeProvider;
let tp: TestProxy;
let caFile: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { connectTo: [parseConnectTo(`api.cohere.com:443:127.0.0.1:${fake.port}`)] });
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
