import { readFileSync } from 'node:fs';
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, CountTokensCommand, InvokeModelCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo, paths } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { ConnectAgent } from '../helpers/connect-agent.js';
import { COUNTED_TOKENS } from '../helpers/fake-aux-apis.js';
import { BEDROCK_TEXT } from '../helpers/fake-bedrock.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const HOST = 'bedrock-runtime.us-west-2.amazonaws.com';
const SECRET_KEY = 'wJalrXUtnFEMIK7MDENGbPxRfiCYFAKEFAKEKEY0';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEFAKESESSIONTOKENFAKEFAKEFAKE';

/**
 * The real AWS SDK, SigV4-signing with fake credentials, through the proxy to the
 * fake Bedrock. The SDK's node:https handler gets an agent that tunnels through the
 * proxy with CONNECT (the SDK has no proxy setting of its own).
 */
describe('Amazon Bedrock runtime through the proxy', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  let agent: ConnectAgent;
  let client: BedrockRuntimeClient;

  beforeAll(async () => {
    fake = await startFakeProvider();
    tp = await startTestProxy(fake, { connectTo: [parseConnectTo(`${HOST}:443:127.0.0.1:${fake.port}`)] });
    agent = new ConnectAgent({ host: '127.0.0.1', port: tp.proxy.address.port }, tp.caPem);
    client = new BedrockRuntimeClient({
      region: 'us-west-2',
      credentials: { accessKeyId: 'AKIAIOSFODNN7FAKEKEY', secretAccessKey: SECRET_KEY, sessionToken: SESSION_TOKEN },
      requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
    });
  });
  afterAll(async () => {
    client.destroy();
    agent.destroy();
    await tp.close();
    await fake.close();
  });

  it('Converse, ConverseStream, InvokeModel and InvokeModelWithResponseStream: model, text and usage recorded; credentials never', async () => {
    const messages = [{ role: 'user' as const, content: [{ text: 'hi' }] }];
    const converse = await client.send(new ConverseCommand({ modelId: 'amazon.nova-pro-v1:0', messages }));
    expect(converse.output?.message?.content?.[0]?.text).toBe(BEDROCK_TEXT);

    const stream = await client.send(new ConverseStreamCommand({ modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', messages }));
    let text = '';
    for await (const event of stream.stream ?? []) text += event.contentBlockDelta?.delta?.text ?? '';
    expect(text).toBe(BEDROCK_TEXT);

    const claudeBody = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    const invoke = await client.send(new InvokeModelCommand({ modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0', body: claudeBody, contentType: 'application/json' }));
    expect(JSON.parse(Buffer.from(invoke.body).toString()).content[0].text).toBe(BEDROCK_TEXT);

    const invokeStream = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: 'arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-opus-4-1-20250805-v1:0', body: claudeBody, contentType: 'application/json' }));
    let chunks = 0;
    for await (const event of invokeStream.body ?? []) if (event.chunk) chunks++;
    expect(chunks).toBe(6);

    const recs = await eventually(() => {
      const found = exported(tp).filter((e) => e.provider === 'bedrock');
      if (found.length < 4) throw new Error(`${found.length}/4`);
      return found;
    });
    expect(recs.map((e) => [e.api, e.model, e.stream, e.response?.text, e.usage.input_tokens, e.usage.output_tokens, e.tool?.name])).toEqual([
      ['bedrock.converse', 'amazon.nova-pro-v1:0', false, BEDROCK_TEXT, 14, 11, 'aws-sdk'],
      ['bedrock.converse', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', true, BEDROCK_TEXT, 14, 11, 'aws-sdk'],
      ['bedrock.invoke', 'anthropic.claude-3-5-haiku-20241022-v1:0', false, BEDROCK_TEXT, 14, 11, 'aws-sdk'],
      ['bedrock.invoke', 'arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-opus-4-1-20250805-v1:0', true, BEDROCK_TEXT, 14, 11, 'aws-sdk'],
    ]);
    expect(recs[1]?.response?.tool_calls).toEqual([{ id: 'tooluse_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }]);
    // SigV4: the signature (Authorization), the session token and the secret never reach the archive.
    tp.proxy.recorder.flush();
    const file = paths(tp.home).archive;
    const stored = Buffer.concat([readFileSync(file), ...[`${file}-wal`].map((f) => { try { return readFileSync(f); } catch { return Buffer.alloc(0); } })]).toString('latin1');
    expect(stored).not.toContain(SESSION_TOKEN);
    expect(stored).not.toContain(SECRET_KEY);
    expect(stored).not.toMatch(/Signature=[0-9a-f]{64}/);
    expect(JSON.stringify(recs)).not.toContain(SESSION_TOKEN);
  });

  it('InvokeModel with Claude through the global inference profile is priced at the profile\'s rate, not the regional one the answer\'s model id would pick', async () => {
    const modelId = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'priced globally' }] });
    const invoke = await client.send(new InvokeModelCommand({ modelId, body, contentType: 'application/json' }));
    expect(JSON.parse(Buffer.from(invoke.body).toString()).model).toBe('claude-sonnet-4-5-20250929');
    const rec = await eventually(() => {
      const found = exported(tp).find((e) => e.model === modelId);
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect([rec.usage.input_tokens, rec.usage.output_tokens]).toEqual([14, 11]);
    // Global profile: $3 / $15 per million; a geographic (us., eu.) profile costs 10% more.
    expect(rec.cost_usd).toBeCloseTo(14 * 3e-6 + 11 * 15e-6, 12);
  });

  it('InvokeModel with Meta Llama: generation_token_count is the output, so the answer is priced whole', async () => {
    const modelId = 'us.meta.llama3-3-70b-instruct-v1:0';
    const invoke = await client.send(new InvokeModelCommand({ modelId, body: JSON.stringify({ prompt: 'hi', max_gen_len: 64 }), contentType: 'application/json' }));
    expect(JSON.parse(Buffer.from(invoke.body).toString()).generation).toBe(BEDROCK_TEXT);
    const rec = await eventually(() => {
      const found = exported(tp).find((e) => e.model === modelId);
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect([rec.api, rec.response?.text, rec.response?.stop_reason, rec.usage.input_tokens, rec.usage.output_tokens]).toEqual(['bedrock.invoke', BEDROCK_TEXT, 'stop', 14, 11]);
    // Both counts priced ($0.72 per million tokens either way for Llama 3.3 70B on Bedrock).
    expect(rec.cost_usd).toBeCloseTo((14 + 11) * 0.72e-6, 12);
  });

  it('InvokeModel with Mistral, whose body counts no tokens: Bedrock\'s header counts (whole answer) and invocation metrics (stream) price it', async () => {
    const modelId = 'mistral.mistral-large-2402-v1:0';
    const body = JSON.stringify({ prompt: '<s>[INST] hi [/INST]', max_tokens: 64 });
    const invoke = await client.send(new InvokeModelCommand({ modelId, body, contentType: 'application/json' }));
    expect(JSON.parse(Buffer.from(invoke.body).toString()).outputs[0].text).toBe(BEDROCK_TEXT);
    const stream = await client.send(new InvokeModelWithResponseStreamCommand({ modelId, body, contentType: 'application/json' }));
    let text = '';
    for await (const event of stream.body ?? []) if (event.chunk?.bytes) text += JSON.parse(Buffer.from(event.chunk.bytes).toString()).outputs[0].text;
    expect(text).toBe(BEDROCK_TEXT);
    const recs = await eventually(() => {
      const found = exported(tp).filter((e) => e.model === modelId);
      if (found.length < 2) throw new Error(`${found.length}/2`);
      return found;
    });
    // Mistral Large (24.02) on Bedrock: $4 / $12 per million tokens.
    for (const rec of recs) {
      expect([rec.stream, rec.response?.text, rec.response?.stop_reason, rec.usage.input_tokens, rec.usage.output_tokens]).toEqual([rec.stream, BEDROCK_TEXT, 'stop', 14, 11]);
      expect(rec.cost_usd).toBeCloseTo(14 * 4e-6 + 11 * 12e-6, 12);
    }
    expect(recs.map((r) => r.stream).sort()).toEqual([false, true]);
  });

  it('InvokeModel with a model the price list does not know: its header counts are recorded, and it stays unpriced', async () => {
    const modelId = 'cohere.command-r-v1:0';
    await client.send(new InvokeModelCommand({ modelId, body: JSON.stringify({ message: 'hi' }), contentType: 'application/json' }));
    const rec = await eventually(() => {
      const found = exported(tp).find((e) => e.model === modelId);
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect([rec.usage.input_tokens, rec.usage.output_tokens, rec.cost_usd]).toEqual([14, 11, null]);
  });

  it('CountTokens (Converse and InvokeModel inputs) is bedrock.countTokens: the path\'s model, no tokens, $0', async () => {
    const modelId = 'anthropic.claude-haiku-4-5-20251001-v1:0';
    const converse = await client.send(new CountTokensCommand({ modelId, input: { converse: { messages: [{ role: 'user', content: [{ text: 'count me' }] }] } } }));
    expect(converse.inputTokens).toBe(COUNTED_TOKENS);
    const body = new TextEncoder().encode(JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 8, messages: [{ role: 'user', content: 'count me' }] }));
    await client.send(new CountTokensCommand({ modelId, input: { invokeModel: { body } } }));
    const recs = await eventually(() => {
      const found = exported(tp).filter((e) => e.api === 'bedrock.countTokens');
      if (found.length < 2) throw new Error(`${found.length}/2`);
      return found;
    });
    expect(recs.map((e) => [e.provider, e.model, e.usage.input_tokens, e.cost_usd, e.response?.status])).toEqual([
      ['bedrock', modelId, null, 0, 200], ['bedrock', modelId, null, 0, 200],
    ]);
  });
});
