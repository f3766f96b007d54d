import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { AzureOpenAI } from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import type { PolicyRecord } from '../../src/policy/types.js';
import { eventually, exported } from '../helpers/archive.js';
import { ConnectAgent } from '../helpers/connect-agent.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const AZURE_HOST = 'my-res.openai.azure.com';
const BEDROCK_HOST = 'bedrock-runtime.us-west-2.amazonaws.com';

/**
 * A route's model where the model is named in the path: Azure OpenAI's deployment
 * segment changes (its api-key is not bound to the path), Bedrock's signed path does not,
 * and the decision says so. With the AzureOpenAI client and the AWS SDK, against the fake.
 */
describe('route model rewrites on Azure OpenAI and Bedrock paths', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  let agent: ConnectAgent;

  beforeAll(async () => {
    fake = await startFakeProvider();
    const policy = loadPolicyText(`rules:
  - {id: smaller, match: {model: [gpt-4o-prod, gpt-4o]}, route: {model: gpt-4o-mini-prod}}
  - {id: haiku, match: {provider: bedrock}, route: {model: us.anthropic.claude-haiku-4-5-20251001-v1:0}}
`, 'policy.yaml');
    tp = await startTestProxy(fake, { policy, connectTo: [AZURE_HOST, BEDROCK_HOST].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)) });
    agent = new ConnectAgent({ host: '127.0.0.1', port: tp.proxy.address.port }, tp.caPem);
  });
  afterAll(async () => {
    agent?.destroy();
    await tp?.close();
    await fake?.close();
  });

  it('Azure: the deployment in the path (and the body\'s model) become the routed one; the route records it', async () => {
    const client = new AzureOpenAI({ endpoint: `https://${AZURE_HOST}`, apiKey: 'azure-key-0123456789abcdef0123', apiVersion: '2024-10-21', deployment: 'gpt-4o-prod', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const seen = fake.seen.length;
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'route my deployment' }] });
    const sent = fake.seen[seen]!;
    expect(sent.url).toBe('/openai/deployments/gpt-4o-mini-prod/chat/completions?api-version=2024-10-21');
    expect(JSON.parse(sent.body.toString()).model).toBe('gpt-4o-mini-prod');
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.body?.includes('route my deployment'));
      if (!r) throw new Error('not recorded yet');
      return r;
    });
    expect(rec.policy).toMatchObject({ route: { to: { model: 'gpt-4o-mini-prod' } }, decisions: [{ rule: 'smaller', model: 'gpt-4o-mini-prod' }] });
    expect((rec.policy as unknown as PolicyRecord).decisions[0]).not.toHaveProperty('modelNotApplied');
  });

  it('Bedrock: the signed path and body go as sent; the decision says the model was not applied, and why', async () => {
    const client = new BedrockRuntimeClient({
      region: 'us-west-2', maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAIOSFODNN7FAKEKEY', secretAccessKey: 'wJalrXUtnFEMIK7MDENGbPxRfiCYFAKEFAKEKEY0' },
      requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
    });
    try {
      const seen = fake.seen.length;
      await client.send(new ConverseCommand({ modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', messages: [{ role: 'user', content: [{ text: 'keep my model' }] }] }));
      expect(decodeURIComponent(fake.seen[seen]!.url)).toBe('/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/converse');
    } finally {
      client.destroy();
    }
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.request.body?.includes('keep my model'));
      if (!r) throw new Error('not recorded yet');
      return r;
    });
    const policy = rec.policy as unknown as PolicyRecord;
    expect(policy.route!.to.model).toBe('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(policy.decisions[0]).toMatchObject({ rule: 'haiku', model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', modelNotApplied: expect.stringContaining('SigV4') });
  });
});
