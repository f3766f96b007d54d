import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { Ollama } from 'ollama';
import OpenAI, { AzureOpenAI } from 'openai';
import { fetch as undiciFetch, ProxyAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { eventually, exported } from '../helpers/archive.js';
import { OLLAMA_TEXT, RESPONSES_TEXT } from '../helpers/fake-openai-family.js';
import { OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * The OpenAI family through llmtap with real clients: the openai SDK (Responses,
 * embeddings, AzureOpenAI), the ollama package over plain HTTP to a loopback server
 * on the user's --intercept list, and curl against chatgpt.com's Codex and non-Codex paths.
 */
const run = promisify(execFile);
const AZURE_HOST = 'my-res.openai.azure.com';
let fake: FakeProvider;
let ollamaFake: FakeProvider;
let tp: TestProxy;
let caFile: string;
const logs: string[] = [];

beforeAll(async () => {
  fake = await startFakeProvider();
  ollamaFake = await startFakeProvider({ tls: false, ca: fake.ca });
  const destination = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(chunk.toString()); cb(); } });
  tp = await startTestProxy(fake, {
    connectTo: ['api.openai.com', AZURE_HOST, 'chatgpt.com'].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)),
    intercept: [`127.0.0.1:${ollamaFake.port}`],
  }, { logger: createLogger({ level: 'info', destination }) });
  caFile = join(tp.home, 'client-ca.pem');
  writeFileSync(caFile, tp.caPem);
});
afterAll(async () => {
  await tp?.close();
  await ollamaFake?.close();
  await fake?.close();
});

function recorded(filter: (path: string, ua: string) => boolean, count: number) {
  return eventually(() => {
    const recs = exported(tp).filter((e) => filter(e.path, e.client.user_agent ?? ''));
    if (recs.length < count) throw new Error(`${recs.length}/${count} recorded`);
    return recs;
  });
}

const sdkOptions = () => ({ fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });

describe('openai SDK: Responses and embeddings', () => {
  it('responses.create, plain and streamed (with a function call), are reduced', async () => {
    const client = new OpenAI({ apiKey: 'sk-test-responses-0123456789abcdef', ...sdkOptions() });
    const plain = await client.responses.create({ model: 'gpt-5', input: 'hi' });
    expect(plain.output_text).toBe(RESPONSES_TEXT);
    const stream = await client.responses.create({ model: 'gpt-5-mini', input: 'weather?', stream: true, tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} }, strict: false }] });
    let text = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    expect(text).toBe(RESPONSES_TEXT);
    const recs = await recorded((p) => p === '/v1/responses', 2);
    expect(recs.map((r) => [r.provider, r.api, r.model, r.stream, r.response?.text, r.response?.thinking, r.response?.stop_reason])).toEqual([
      ['openai', 'responses', 'gpt-5', false, RESPONSES_TEXT, 'Greet back.', 'completed'],
      ['openai', 'responses', 'gpt-5-mini', true, RESPONSES_TEXT, 'Greet back.', 'completed'],
    ]);
    expect(recs[1]?.response?.tool_calls).toEqual([{ id: 'call_fake1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    expect(recs[1]?.usage).toMatchObject({ input_tokens: 37, output_tokens: 21, cached_input_tokens: 12, reasoning_tokens: 8 });
  });

  it('embeddings.create records model and input tokens', async () => {
    const client = new OpenAI({ apiKey: 'sk-test-embed-0123456789abcdef', ...sdkOptions() });
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(result.data[0]?.embedding.length).toBeGreaterThan(0);
    const [rec] = await recorded((p) => p === '/v1/embeddings', 1);
    expect([rec?.provider, rec?.api, rec?.model, rec?.usage.input_tokens, rec?.response?.text]).toEqual(['openai', 'embeddings', 'text-embedding-3-small', 5, '']);
  });
});

describe('Azure OpenAI', () => {
  it('AzureOpenAI client: deployment path, api-key header never stored', async () => {
    const client = new AzureOpenAI({ endpoint: `https://${AZURE_HOST}`, apiKey: 'azure-key-0123456789abcdef0123', apiVersion: '2024-10-21', deployment: 'gpt-4o-prod', ...sdkOptions() });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBe(OPENAI_TEXT);
    const [rec] = await recorded((p) => p.startsWith('/openai/deployments/gpt-4o-prod/chat/completions'), 1);
    expect([rec?.host, rec?.provider, rec?.api, rec?.model, rec?.usage.output_tokens, rec?.response?.text]).toEqual([AZURE_HOST, 'azure-openai', 'chat.completions', 'gpt-4o', 17, OPENAI_TEXT]);
    expect(JSON.stringify(rec)).not.toContain('azure-key-0123456789abcdef0123');
  });

  it('a body without a model records the deployment name as the model', async () => {
    const out = await run('curl', ['-sS', '--fail-with-body', '--proxy', tp.url, '--cacert', caFile, '-H', 'api-key: azure-key-0123456789abcdef0123', '-H', 'content-type: application/json', `https://${AZURE_HOST}/openai/deployments/my-embedder/embeddings?api-version=2024-10-21`, '-d', '{"input":"hi"}']);
    expect(JSON.parse(out.stdout).usage.prompt_tokens).toBe(5);
    const [rec] = await recorded((p) => p.startsWith('/openai/deployments/my-embedder/'), 1);
    expect([rec?.provider, rec?.api, rec?.model]).toEqual(['azure-openai', 'embeddings', 'my-embedder']);
  });
});

describe('Codex with ChatGPT sign-in (chatgpt.com)', () => {
  it('records /backend-api/codex/… and relays other paths unrecorded', async () => {
    const common = ['-sS', '--fail-with-body', '--proxy', tp.url, '--cacert', caFile, '-H', 'authorization: Bearer eyJhbGciOi.fake-chatgpt-token.sig', '-A', 'codex_cli_rs/0.40.0'];
    const codex = await run('curl', [...common, '-N', '-H', 'content-type: application/json', 'https://chatgpt.com/backend-api/codex/responses', '-d', '{"model":"gpt-5-codex","stream":true,"input":[],"store":false}']);
    expect(codex.stdout).toContain('event: response.completed');
    const other = await run('curl', [...common, 'https://chatgpt.com/backend-api/accounts/check']);
    expect(JSON.parse(other.stdout).accounts.default.account.plan_type).toBe('plus');
    expect(fake.seen.some((s) => s.url === '/backend-api/accounts/check')).toBe(true);
    const recs = await recorded((_p, ua) => ua.startsWith('codex_cli_rs'), 1);
    await new Promise((r) => setTimeout(r, 100));
    const all = exported(tp).filter((e) => e.host === 'chatgpt.com');
    expect(all.map((r) => r.path)).toEqual(['/backend-api/codex/responses']);
    expect([recs[0]?.provider, recs[0]?.api, recs[0]?.model, recs[0]?.response?.text, recs[0]?.usage.input_tokens]).toEqual(['chatgpt', 'responses', 'gpt-5-codex', RESPONSES_TEXT, 37]);
    const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.path === '/backend-api/accounts/check');
    expect(line).toMatchObject({ msg: 'exchange', host: 'chatgpt.com', status: 200, recorded: false });
  });
});

describe('ollama package over plain HTTP to a loopback server on the intercept list', () => {
  it('chat (streamed and not) and generate are recorded as Ollama with text, thinking and usage', async () => {
    // Plain HTTP through a proxy: absolute-URI requests, no CONNECT tunnel.
    const agent = new ProxyAgent({ uri: tp.url, proxyTunnel: false });
    try {
      const client = new Ollama({ host: `http://127.0.0.1:${ollamaFake.port}`, fetch: ((input: string, init: object) => undiciFetch(input, { ...init, dispatcher: agent })) as unknown as typeof fetch });
      const plain = await client.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: false });
      expect(plain.message.content).toBe(OLLAMA_TEXT);
      let text = '';
      for await (const part of await client.chat({ model: 'qwen3', messages: [{ role: 'user', content: 'hi' }], stream: true, think: true })) text += part.message.content;
      expect(text).toBe(OLLAMA_TEXT);
      const generated = await client.generate({ model: 'llama3.2', prompt: 'hi', stream: false });
      expect(generated.response).toBe(OLLAMA_TEXT);
      const recs = await recorded((p) => p.startsWith('/api/'), 3);
      expect(recs.map((r) => [r.provider, r.api, r.model, r.stream, r.response?.text, r.response?.thinking, r.usage.input_tokens, r.usage.output_tokens, r.response?.stop_reason])).toEqual([
        ['ollama', 'ollama.chat', 'llama3.2', false, OLLAMA_TEXT, 'Short answer.', 26, 9, 'stop'],
        ['ollama', 'ollama.chat', 'qwen3', true, OLLAMA_TEXT, 'Short answer.', 26, 9, 'stop'],
        ['ollama', 'ollama.generate', 'llama3.2', false, OLLAMA_TEXT, 'Short answer.', 26, 9, 'stop'],
      ]);
    } finally {
      await agent.close();
    }
  });

  it('embed (/api/embed) is recorded as Ollama embeddings with the prompt\'s tokens', async () => {
    const agent = new ProxyAgent({ uri: tp.url, proxyTunnel: false });
    try {
      const client = new Ollama({ host: `http://127.0.0.1:${ollamaFake.port}`, fetch: ((input: string, init: object) => undiciFetch(input, { ...init, dispatcher: agent })) as unknown as typeof fetch });
      const out = await client.embed({ model: 'nomic-embed-text', input: ['hi', 'there'] });
      expect(out.embeddings).toHaveLength(2);
      const [rec] = await recorded((p) => p === '/api/embed', 1);
      expect([rec!.provider, rec!.api, rec!.model, rec!.usage.input_tokens, rec!.usage.output_tokens, rec!.cost_usd]).toEqual(['ollama', 'embeddings', 'nomic-embed-text', 8, null, null]);
    } finally {
      await agent.close();
    }
  });

  it('an OpenAI-compatible /v1 endpoint on the same server is Ollama\'s chat completions', async () => {
    const out = await run('curl', ['-sS', '--fail-with-body', '--proxy', tp.url, '-H', 'content-type: application/json', `http://127.0.0.1:${ollamaFake.port}/v1/chat/completions`, '-d', '{"model":"llama3.2","messages":[]}']);
    expect(JSON.parse(out.stdout).choices[0].message.content).toBe(OPENAI_TEXT);
    const [rec] = await recorded((p) => p === '/v1/chat/completions', 1);
    // The fake listens on a random port, not 11434: an unnamed local server speaking OpenAI's API.
    expect([rec?.host, rec?.provider, rec?.api, rec?.response?.text]).toEqual(['127.0.0.1', 'openai-compatible', 'chat.completions', OPENAI_TEXT]);
  });
});
