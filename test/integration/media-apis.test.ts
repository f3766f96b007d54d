import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * OpenAI's model APIs that are not chat, through llmtap with the official openai SDK:
 * moderations. Each is recorded with its own API kind, model, usage and cost (or the
 * reason it has none), and `llmtap show` reads it.
 */
const run = promisify(execFile);
let fake: FakeProvider;
let tp: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)] });
  client = new OpenAI({ apiKey: 'sk-test-media-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const cli = async (...args: string[]): Promise<string> => (await run('node', [resolve('dist/cli/main.js'), '--home', tp.home, ...args])).stdout;
const recorded = (path: string, n: number) => eventually(() => {
  const rows = exported(tp).filter((e) => e.path === path);
  if (rows.length < n) throw new Error(`${rows.length}/${n} recorded`);
  return rows;
});

describe('moderations through the proxy', () => {
  it('records the model, the verdict as the answer\'s text and a $0 cost; show reads the input', async () => {
    const answer = await client.moderations.create({ model: 'omni-moderation-latest', input: ['a quiet walk in the park', 'plan the attack at dawn'] });
    expect(answer.results.map((r) => r.flagged)).toEqual([false, true]);
    const [rec] = await recorded('/v1/moderations', 1);
    expect([rec!.provider, rec!.api, rec!.model, rec!.response?.text, rec!.cost_usd]).toEqual([
      'openai', 'moderations', 'omni-moderation-latest', '#0 not flagged\n#1 flagged: harassment/threatening, violence', 0,
    ]);
    const shown = await cli('show', rec!.session_id!);
    expect(shown).toMatch(/user\n\s+a quiet walk in the park\n\s+user\n\s+plan the attack at dawn/);
    expect(shown).toContain('#1 flagged: harassment/threatening, violence');
    expect(shown).not.toContain('cost not known');
  });
});
