import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { fetch as undiciFetch, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { ConnectAgent } from '../helpers/connect-agent.js';
import { FAIL_MID_STREAM } from '../helpers/fake-faults.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const GEMINI = 'generativelanguage.googleapis.com';
const BEDROCK = 'bedrock-runtime.us-east-1.amazonaws.com';

/**
 * A provider that fails after its 200 went out says so inside the stream. The official
 * SDKs throw; the archive keeps what arrived and records the provider's error as the
 * stop reason, so the exchange does not read as an answer that simply ended.
 */
describe('mid-stream provider errors through the proxy', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  let previous: Dispatcher;
  let agent: ConnectAgent;

  beforeAll(async () => {
    fake = await startFakeProvider();
    tp = await startTestProxy(fake, { connectTo: [...FAKE_HOSTS, GEMINI, BEDROCK].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)) });
    previous = getGlobalDispatcher();
    setGlobalDispatcher(tp.agent);
    agent = new ConnectAgent({ host: '127.0.0.1', port: tp.proxy.address.port }, tp.caPem);
  });
  afterAll(async () => {
    setGlobalDispatcher(previous);
    agent?.destroy();
    await tp?.close();
    await fake?.close();
  });

  const recorded = (provider: string) => eventually(() => {
    const found = exported(tp).find((e) => e.provider === provider && e.request?.body?.includes(FAIL_MID_STREAM));
    if (!found) throw new Error(`no ${provider} exchange yet`);
    return found;
  });

  it('Anthropic: an error event (overloaded_error) is the stop reason', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-test-midstream-0123456789', maxRetries: 0, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never });
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5-20250929', max_tokens: 64, messages: [{ role: 'user', content: FAIL_MID_STREAM }] });
    await expect(stream.finalMessage()).rejects.toThrow(/Overloaded/);
    const rec = await recorded('anthropic');
    expect([rec.status, rec.response?.text, rec.response?.stop_reason]).toEqual([200, 'Bonjour', 'overloaded_error']);
  });

  it('Gemini: an {error} chunk is the stop reason (its status)', async () => {
    const ai = new GoogleGenAI({ apiKey: 'AIzaSyFAKEFAKEMIDSTREAM0123456789abcde' });
    const text: string[] = [];
    await expect((async () => {
      for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: FAIL_MID_STREAM })) text.push(chunk.text ?? '');
    })()).rejects.toThrow();
    expect(text.length).toBe(1);
    const rec = await recorded('gemini');
    expect([rec.status, rec.response?.text, rec.response?.stop_reason]).toEqual([200, text[0], 'INTERNAL']);
  });

  it('Bedrock ConverseStream: an exception frame is the stop reason (its type)', async () => {
    const client = new BedrockRuntimeClient({ region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7FAKEKEY', secretAccessKey: 'wJalrXUtnFEMIK7MDENGbPxRfiCYFAKEFAKEKEY0' }, requestHandler: new NodeHttpHandler({ httpsAgent: agent }) });
    const response = await client.send(new ConverseStreamCommand({ modelId: 'amazon.nova-lite-v1:0', messages: [{ role: 'user', content: [{ text: FAIL_MID_STREAM }] }] }));
    let text = '';
    await expect((async () => {
      for await (const event of response.stream ?? []) text += event.contentBlockDelta?.delta?.text ?? '';
    })()).rejects.toThrow(/failed mid-stream/);
    client.destroy();
    expect(text).toBe('Bedrock');
    const rec = await recorded('bedrock');
    expect([rec.status, rec.response?.text, rec.response?.stop_reason]).toEqual([200, 'Bedrock', 'modelStreamErrorException']);
  });
});
