import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANTHROPIC_TEXT, OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { eventually, exported } from '../helpers/archive.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);
let fake: FakeProvider;
let tp: TestProxy;
let caFile: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
  caFile = join(tp.home, 'client-ca.pem');
  writeFileSync(caFile, tp.caPem);
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

function recorded(userAgent: RegExp, count: number) {
  return eventually(() => {
    const recs = exported(tp).filter((e) => userAgent.test(e.client.user_agent ?? ''));
    if (recs.length < count) throw new Error(`${recs.length}/${count} recorded`);
    return recs;
  });
}

describe('curl through the proxy', () => {
  it('JSON and streaming chat completions', async () => {
    const common = ['-sS', '--fail-with-body', '--proxy', tp.url, '--cacert', caFile, '-H', 'content-type: application/json', '-H', 'authorization: Bearer sk-test-curl-0123456789abcdefghij', '-A', 'curl-e2e'];
    const json = await run('curl', [...common, 'https://api.openai.com/v1/chat/completions', '-d', '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}']);
    expect(JSON.parse(json.stdout).choices[0].message.content).toBe(OPENAI_TEXT);
    const sse = await run('curl', [...common, '-N', 'https://api.anthropic.com/v1/messages', '-d', '{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[]}']);
    expect(sse.stdout).toContain('event: message_stop');
    const recs = await recorded(/^curl-e2e$/, 2);
    expect(recs.map((r) => [r.provider, r.stream, r.outcome])).toEqual([['openai', false, 'completed'], ['anthropic', true, 'completed']]);
    expect(recs[1]?.response?.text).toBe(ANTHROPIC_TEXT);
    // An unknown User-Agent names the tool by its product token.
    expect(recs.map((r) => r.tool)).toEqual([{ name: 'curl-e2e', version: null }, { name: 'curl-e2e', version: null }]);
  });

  it('curl refuses the proxy when it does not trust the llmtap CA', async () => {
    const res = await run('curl', ['-sS', '--proxy', tp.url, '--cacert', fake.caFile, 'https://api.openai.com/v1/models']).catch((e: { code: number }) => e);
    expect((res as { code: number }).code).toBe(60); // CURLE_PEER_FAILED_VERIFICATION
  });
});

describe('official SDKs through undici ProxyAgent', () => {
  it('openai: create and stream', async () => {
    const client = new OpenAI({ apiKey: 'sk-test-openai-sdk-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBe(OPENAI_TEXT);
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(OPENAI_TEXT);
    const recs = await recorded(/^OpenAI\/JS/, 2);
    expect(recs.map((r) => [r.model, r.stream, r.usage.output_tokens, r.response?.text])).toEqual([['gpt-4o-mini', false, 17, OPENAI_TEXT], ['gpt-4o', true, 17, OPENAI_TEXT]]);
    expect(recs.map((r) => r.tool?.name)).toEqual(['openai-sdk-node', 'openai-sdk-node']);
  });

  it('openai: a provider error surfaces as the SDK\'s own APIError', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'does-not-exist', messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('anthropic: create and stream', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-test-sdk-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const message = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.content[0]?.type === 'text' && message.content[0].text).toBe(ANTHROPIC_TEXT);
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    const final = await stream.finalMessage();
    expect(final.content.find((b) => b.type === 'text')?.type === 'text' && (final.content.find((b) => b.type === 'text') as { text: string }).text).toBe(ANTHROPIC_TEXT);
    const recs = await recorded(/^Anthropic\/JS/, 2);
    expect(recs.map((r) => [r.stream, r.usage.input_tokens, r.usage.output_tokens, r.response?.text])).toEqual([[false, 21, 9, ANTHROPIC_TEXT], [true, 21, 9, ANTHROPIC_TEXT]]);
    expect(recs.map((r) => r.tool?.name)).toEqual(['anthropic-sdk-node', 'anthropic-sdk-node']);
  });
});
