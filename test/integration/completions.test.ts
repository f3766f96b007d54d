import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { COMPLETION_TEXT } from '../helpers/fake-completions.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * OpenAI's legacy text Completions API through llmtap: the openai SDK's
 * completions.create (plain and streamed), and curl speaking as GitHub Copilot's inline
 * suggestions do (an engine path, no model in the body, a stream without usage).
 */
const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');
const COPILOT_HOST = 'proxy.individual.githubcopilot.com';
const { countTokens } = createRequire(import.meta.url)('gpt-tokenizer/encoding/o200k_base') as { countTokens: (s: string) => number };
let fake: FakeProvider;
let tp: TestProxy;
let caFile: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { connectTo: ['api.openai.com', COPILOT_HOST].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)) });
  caFile = join(tp.home, 'client-ca.pem');
  writeFileSync(caFile, tp.caPem);
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

// The writer thread loads the tokenizer on the first estimate (~1 s on a busy machine).
const recordedWith = (content: string) => eventually(() => {
  const rec = exported(tp).find((e) => e.request.body?.includes(content));
  if (!rec) throw new Error(`${content}: not recorded yet`);
  if (rec.stream && !rec.usage_estimated) throw new Error(`${content}: not estimated yet`);
  return rec;
}, 15_000);

describe('openai SDK completions.create', () => {
  const client = () => new OpenAI({ apiKey: 'sk-test-completions-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });

  it('a plain answer: model, text, stop reason and the usage it reported', async () => {
    const completion = await client().completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'plain: def add(a, b):', max_tokens: 20 });
    expect(completion.choices[0]?.text).toBe(COMPLETION_TEXT);
    const rec = await recordedWith('plain: def add');
    expect([rec.provider, rec.api, rec.model, rec.stream, rec.response?.text, rec.response?.stop_reason]).toEqual(['openai', 'completions', 'gpt-3.5-turbo-instruct', false, COMPLETION_TEXT, 'stop']);
    expect([rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated]).toEqual([6, 9, false]);
  });

  it('a stream without usage (the SDK\'s default): the text joined, the tokens estimated', async () => {
    const prompt = 'streamed: def add(a, b):';
    const stream = await client().completions.create({ model: 'gpt-3.5-turbo-instruct', prompt, max_tokens: 20, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(COMPLETION_TEXT);
    const rec = await recordedWith('streamed: def add');
    expect([rec.api, rec.model, rec.stream, rec.response?.text]).toEqual(['completions', 'gpt-3.5-turbo-instruct', true, COMPLETION_TEXT]);
    expect([rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated]).toEqual([countTokens(prompt), countTokens(COMPLETION_TEXT), true]);
  });
});

/** One inline suggestion request as Copilot sends it; returns curl's output. */
async function copilotCompletion(prompt: string, suffix: string): Promise<string> {
  const body = JSON.stringify({ prompt, suffix, max_tokens: 500, temperature: 0, top_p: 1, n: 1, stop: ['\n\n'], stream: true, extra: { language: 'python', next_indent: 0, trim_by_indentation: true } });
  const out = await run('curl', ['-sS', '-N', '--fail-with-body', '--proxy', tp.url, '--cacert', caFile,
    '-H', 'authorization: Bearer tid=copilot-token-0123456789abcdef;exp=1', '-H', 'content-type: application/json',
    '-H', 'user-agent: GithubCopilot/1.388.0', '-H', 'editor-version: vscode/1.104.0', '-H', 'editor-plugin-version: copilot/1.388.0', '-H', 'openai-intent: copilot-ghost',
    `https://${COPILOT_HOST}/v1/engines/gpt-41-copilot/completions`, '-d', body]);
  return out.stdout;
}

describe('GitHub Copilot inline suggestions', () => {
  it('the engine is the model, the stream is read and estimated, the tool is copilot, show has the prompt and suffix', async () => {
    const prompt = '# Path: src/add.py\ndef add(a, b):';
    const suffix = '\n\nprint(add(1, 2))\n';
    expect(await copilotCompletion(prompt, suffix)).toContain('data: [DONE]');
    const rec = await recordedWith('src/add.py');
    expect([rec.host, rec.provider, rec.api, rec.model, rec.stream, rec.response?.text, rec.tool?.name]).toEqual([COPILOT_HOST, 'github-copilot', 'completions', 'gpt-41-copilot', true, COMPLETION_TEXT, 'copilot']);
    expect([rec.usage.input_tokens, rec.usage.output_tokens, rec.usage_estimated]).toEqual([countTokens(prompt) + countTokens(suffix), countTokens(COMPLETION_TEXT), true]);
    expect(JSON.stringify(rec)).not.toContain('copilot-token-0123456789abcdef');
    const shown = (await run('node', [CLI, '--home', tp.home, 'show', rec.id])).stdout;
    expect(shown).toContain('def add(a, b):');
    // The suffix is one block under its label, not a marker and a second unlabelled "user" text.
    expect(shown).toMatch(/ user +\[suffix\]\n(?: *\n)* +print\(add\(1, 2\)\)/);
    expect(shown.match(/^ +user\b/gm)).toHaveLength(2);
  });

  it('suggestions that keep coming are one session, a turn each', async () => {
    await copilotCompletion('# Path: src/sub.py\ndef sub(a, b):', '\n');
    const first = await recordedWith('src/sub.py');
    await copilotCompletion('# Path: src/sub.py\ndef sub(a, b):\n    return a - b\n\ndef mul(a, b):', '\n');
    const second = await recordedWith('def mul(a, b)');
    expect(first.session_id).not.toBeNull();
    expect([second.session_id, second.thread_id, second.turn]).toEqual([first.session_id, first.thread_id, first.turn! + 1]);
  });
});
