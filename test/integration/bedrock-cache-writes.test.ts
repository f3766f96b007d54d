import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, InvokeModelWithResponseStreamCommand, type Message } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { ConnectAgent } from '../helpers/connect-agent.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const HOST = 'bedrock-runtime.us-west-2.amazonaws.com';

/**
 * Prompt-cache writes on Bedrock by their TTL: Converse reports them in `cacheDetails`
 * (`{ttl: '1h' | '5m', inputTokens}`), and a 1-hour write costs more than a 5-minute one.
 * Claude Opus 5.5 on Bedrock has both rates in the price data ($5 and $8 per million on
 * the global profile); Claude Sonnet 4.5 on Bedrock has no 1-hour rate there, so its
 * 1-hour writes are priced by Anthropic's rule (twice the input rate) unless --prices
 * gives the rate.
 */
describe('Bedrock Converse cache writes by TTL through the proxy', () => {
  let fake: FakeProvider;
  const proxies: TestProxy[] = [];
  const agents: ConnectAgent[] = [];
  const clients: BedrockRuntimeClient[] = [];

  beforeAll(async () => {
    fake = await startFakeProvider();
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const a of agents) a.destroy();
    for (const p of proxies) await p.close();
    await fake?.close();
  });

  async function proxyWith(prices?: string): Promise<{ tp: TestProxy; client: BedrockRuntimeClient }> {
    const tp = await startTestProxy(fake, { connectTo: [parseConnectTo(`${HOST}:443:127.0.0.1:${fake.port}`)], ...(prices ? { prices } : {}) });
    const agent = new ConnectAgent({ host: '127.0.0.1', port: tp.proxy.address.port }, tp.caPem);
    const client = new BedrockRuntimeClient({
      region: 'us-west-2',
      credentials: { accessKeyId: 'AKIAIOSFODNN7FAKEKEY', secretAccessKey: 'wJalrXUtnFEMIK7MDENGbPxRfiCYFAKEFAKEKEY0' },
      requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
    });
    proxies.push(tp);
    agents.push(agent);
    clients.push(client);
    return { tp, client };
  }

  const cached = (ttl: '5m' | '1h'): Message[] => [{ role: 'user', content: [{ text: `a long document kept for ${ttl}` }, { cachePoint: { type: 'default', ttl } }] }];

  async function converseBoth(client: BedrockRuntimeClient, modelId: string, ttl: '5m' | '1h'): Promise<void> {
    const plain = await client.send(new ConverseCommand({ modelId, messages: cached(ttl) }));
    expect(plain.usage?.cacheDetails).toEqual([{ ttl, inputTokens: 3000 }]);
    const stream = await client.send(new ConverseStreamCommand({ modelId, messages: cached(ttl) }));
    for await (const event of stream.stream ?? []) void event;
  }

  async function recorded(tp: TestProxy, modelId: string, n: number): Promise<ReturnType<typeof exported>> {
    return eventually(() => {
      const found = exported(tp).filter((e) => e.model === modelId);
      if (found.length < n) throw new Error(`${found.length}/${n}`);
      return found;
    });
  }

  it('1-hour writes at the 1-hour rate, 5-minute writes at the 5-minute rate, Converse and ConverseStream', async () => {
    const { tp, client } = await proxyWith();
    const modelId = 'global.anthropic.claude-opus-5-5';
    await converseBoth(client, modelId, '1h');
    await converseBoth(client, modelId, '5m');
    const recs = await recorded(tp, modelId, 4);
    expect(recs.map((e) => [e.stream, e.usage.cache_creation_input_tokens])).toEqual([[false, 3000], [true, 3000], [false, 3000], [true, 3000]]);
    // 14 uncached input at $4, 3000 writes at $8 (1 hour) or $5 (5 minutes), 11 output at $20 per million.
    const tokens = 14 * 4e-6 + 11 * 20e-6;
    expect(recs.map((e) => e.cost_usd)).toEqual([
      expect.closeTo(tokens + 3000 * 8e-6, 12), expect.closeTo(tokens + 3000 * 8e-6, 12),
      expect.closeTo(tokens + 3000 * 5e-6, 12), expect.closeTo(tokens + 3000 * 5e-6, 12),
    ]);
  });

  it('InvokeModelWithResponseStream with Claude: cache_creation\'s 1-hour writes at the 1-hour rate', async () => {
    const { tp, client } = await proxyWith();
    const modelId = 'global.anthropic.claude-opus-5-5';
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: [{ type: 'text', text: 'keep this an hour', cache_control: { type: 'ephemeral', ttl: '1h' } }] }] });
    const stream = await client.send(new InvokeModelWithResponseStreamCommand({ modelId, body, contentType: 'application/json' }));
    for await (const event of stream.body ?? []) void event;
    const [rec] = await recorded(tp, modelId, 1);
    expect([rec!.api, rec!.usage.cache_creation_input_tokens]).toEqual(['bedrock.invoke', 3000]);
    expect(rec!.cost_usd).toBeCloseTo(14 * 4e-6 + 3000 * 8e-6 + 11 * 20e-6, 12);
  });

  it('a Claude model the price data has no 1-hour rate for: twice the input rate, never the 5-minute rate; a --prices cache_write_1h_mtok wins', async () => {
    const modelId = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    const bare = await proxyWith();
    await converseBoth(bare.client, modelId, '1h');
    await converseBoth(bare.client, modelId, '5m');
    const bareRecs = await recorded(bare.tp, modelId, 4);
    // 5-minute writes: $4.125 per million on the US profile (input $3.30, output $16.50);
    // 1-hour writes by Anthropic's rule, twice the input rate: $6.60.
    const fiveMinutes = 14 * 3.3e-6 + 3000 * 4.125e-6 + 11 * 16.5e-6;
    const oneHour = 14 * 3.3e-6 + 3000 * 6.6e-6 + 11 * 16.5e-6;
    expect(bareRecs.map((e) => e.cost_usd)).toEqual([expect.closeTo(oneHour, 12), expect.closeTo(oneHour, 12), expect.closeTo(fiveMinutes, 12), expect.closeTo(fiveMinutes, 12)]);

    const file = join(bare.tp.home, 'prices.yaml');
    writeFileSync(file, `prices:\n  - provider: bedrock\n    model: us.anthropic.claude-sonnet-4-5-*\n    input_mtok: 3.3\n    output_mtok: 16.5\n    cache_write_mtok: 4.125\n    cache_write_1h_mtok: 7\n`);
    const priced = await proxyWith(file);
    await converseBoth(priced.client, modelId, '1h');
    const recs = await recorded(priced.tp, modelId, 2);
    for (const e of recs) expect(e.cost_usd).toBeCloseTo(14 * 3.3e-6 + 3000 * 7e-6 + 11 * 16.5e-6, 12);
  });
});
