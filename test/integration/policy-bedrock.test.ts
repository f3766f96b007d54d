import { AccessDeniedException, BedrockRuntimeClient, ConverseCommand, ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { ConnectAgent } from '../helpers/connect-agent.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const HOST = 'bedrock-runtime.us-west-2.amazonaws.com';

/** Bedrock's AWS JSON errors: the SDK names the exception from x-amzn-errortype. */
describe('policy blocks through the AWS Bedrock SDK', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  let agent: ConnectAgent;
  let client: BedrockRuntimeClient;

  beforeAll(async () => {
    fake = await startFakeProvider();
    const policy = loadPolicyText('rules:\n  - {id: no-opus, action: deny, match: {provider: bedrock, model: "*opus*"}}\n  - {id: one, match: {model: "amazon.nova*"}, rateLimit: {requestsPerMinute: 1, per: model}}\n', 'p.yaml');
    tp = await startTestProxy(fake, { connectTo: [parseConnectTo(`${HOST}:443:127.0.0.1:${fake.port}`)], policy });
    agent = new ConnectAgent({ host: '127.0.0.1', port: tp.proxy.address.port }, tp.caPem);
    client = new BedrockRuntimeClient({
      region: 'us-west-2',
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAIOSFODNN7FAKEKEY', secretAccessKey: 'wJalrXUtnFEMIK7MDENGbPxRfiCYFAKEFAKEKEY0' },
      requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
    });
  });
  afterAll(async () => {
    client.destroy();
    agent.destroy();
    await tp.close();
    await fake.close();
  });

  it('a denied model is AccessDeniedException, a rate limit ThrottlingException; neither reaches the provider', async () => {
    const messages = [{ role: 'user' as const, content: [{ text: 'hi' }] }];
    const denied = await client.send(new ConverseCommand({ modelId: 'us.anthropic.claude-opus-4-1-20250805-v1:0', messages })).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect((denied as AccessDeniedException).message).toMatch(/model_not_allowed/);
    await client.send(new ConverseCommand({ modelId: 'amazon.nova-pro-v1:0', messages }));
    const seen = fake.seen.length;
    const limited = await client.send(new ConverseCommand({ modelId: 'amazon.nova-pro-v1:0', messages })).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(ThrottlingException);
    expect(fake.seen.length).toBe(seen);
    expect(fake.seen.some((s) => s.url.includes('opus'))).toBe(false);
  });
});
