import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import type { PolicyRecord } from '../../src/policy/types.js';
import { eventually, exported } from '../helpers/archive.js';
import { ConnectAgent } from '../helpers/connect-agent.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { sigV4Holds } from '../helpers/sigv4-verify.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const HOST = 'bedrock-runtime.us-west-2.amazonaws.com';
const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7FAKEKEY', secretAccessKey: 'wJalrXUtnFEMIK7MDENGbPxRfiCYFAKEFAKEKEY0' };

/**
 * Policy actions that would rewrite a request the AWS SDK signed (SigV4 covers path and
 * body, and llmtap never holds the secret to sign again): a redact rule in replace mode
 * refuses in Bedrock's error shape instead of forwarding a body AWS would reject, a
 * max-tokens clamp is recorded as not applied and the request goes as signed. The fake
 * does not check signatures, so the test does: sigV4Holds computes it again over what
 * arrived.
 */
describe('policy on SigV4-signed Bedrock requests', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  let agent: ConnectAgent;
  let client: BedrockRuntimeClient;

  beforeAll(async () => {
    fake = await startFakeProvider();
    const policy = loadPolicyText(`rules:
  - {id: pii, match: {model: amazon.nova-pro-v1:0}, redact: {detectors: [email]}}
  - {id: cap, match: {model: amazon.nova-lite-v1:0}, limits: {maxTokens: 100}}
`, 'policy.yaml');
    tp = await startTestProxy(fake, { policy, connectTo: [parseConnectTo(`${HOST}:443:127.0.0.1:${fake.port}`)] });
    agent = new ConnectAgent({ host: '127.0.0.1', port: tp.proxy.address.port }, tp.caPem);
    client = new BedrockRuntimeClient({ region: 'us-west-2', maxAttempts: 1, credentials: CREDENTIALS, requestHandler: new NodeHttpHandler({ httpsAgent: agent }) });
  });
  afterAll(async () => {
    client?.destroy();
    agent?.destroy();
    await tp?.close();
    await fake?.close();
  });

  const recorded = (marker: string) => eventually(() => {
    const r = exported(tp).find((e) => e.request.body?.includes(marker));
    if (!r) throw new Error('not recorded yet');
    return r;
  });

  it('a request no rule changes arrives with its signature intact (the check itself)', async () => {
    const seen = fake.seen.length;
    await client.send(new ConverseCommand({ modelId: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: [{ text: 'untouched' }] }] }));
    expect(await sigV4Holds(fake.seen[seen]!, CREDENTIALS)).toBe(true);
    // …and a changed byte would not pass it.
    expect(await sigV4Holds({ ...fake.seen[seen]!, body: Buffer.from(fake.seen[seen]!.body.toString().replace('untouched', 'untouchex')) }, CREDENTIALS)).toBe(false);
  });

  it('redact (replace) that fires: refused in Bedrock\'s shape with content_blocked, nothing sent upstream', async () => {
    const seen = fake.seen.length;
    const err = await client.send(new ConverseCommand({ modelId: 'amazon.nova-pro-v1:0', messages: [{ role: 'user', content: [{ text: 'mail me at ada@example.com (signed-redact)' }] }] }))
      .then(() => undefined, (e: unknown) => e as { name: string; message: string; $metadata: { httpStatusCode?: number }; $response?: { headers: Record<string, string> } });
    // Whatever went upstream would have to still verify; the safe answer sends nothing at all.
    for (const s of fake.seen.slice(seen)) expect(await sigV4Holds(s, CREDENTIALS)).toBe(true);
    expect(fake.seen.length).toBe(seen);
    expect(err?.name).toBe('ValidationException');
    expect(err?.$metadata.httpStatusCode).toBe(400);
    expect(err?.message).toMatch(/email \(at messages\[0\]\.content\[0\]\.text\).*llmtap policy rule "pii".*SigV4/);
    expect(err?.message).not.toContain('ada@example.com');
    const rec = await recorded('signed-redact');
    expect(rec.request.body).not.toContain('ada@example.com');
    const policy = rec.policy as unknown as PolicyRecord;
    expect(policy.blocked).toBe('content_blocked');
    expect(policy.decisions[0]).toMatchObject({ rule: 'pii', kind: 'redact', action: 'replace', enforced: true, notApplied: expect.stringContaining('SigV4') });
  });

  it('maxTokens clamp: the request goes as signed, the decision says the cap was not applied', async () => {
    const seen = fake.seen.length;
    await client.send(new ConverseCommand({ modelId: 'amazon.nova-lite-v1:0', inferenceConfig: { maxTokens: 4096 }, messages: [{ role: 'user', content: [{ text: 'signed-clamp' }] }] }));
    const sent = fake.seen[seen]!;
    expect(await sigV4Holds(sent, CREDENTIALS)).toBe(true);
    expect(JSON.parse(sent.body.toString()).inferenceConfig.maxTokens).toBe(4096);
    const policy = (await recorded('signed-clamp')).policy as unknown as PolicyRecord;
    expect(policy.bodyChanged).toBeUndefined();
    expect(policy.decisions[0]).toMatchObject({ rule: 'cap', kind: 'limits', action: 'clamp', enforced: true, from: 4096, to: 100, notApplied: expect.stringContaining('SigV4') });
  });
});
