import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

let fake: FakeWs;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeWs();
  const policy = loadPolicyText('rules:\n  - {id: no-realtime-mini, action: deny, match: {api: realtime, model: "*-mini*"}}\n  - {id: one, match: {path: "/v1/responses"}, rateLimit: {requestsPerMinute: 1}}\n', 'p.yaml');
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile], policy });
});
afterAll(async () => {
  await tp.close();
  await fake.close();
});

/** Opens a WebSocket through the proxy; resolves with the open socket or the refused upgrade's status and headers. */
async function open(path: string): Promise<{ ws?: WebSocket; status?: number; headers?: Record<string, string | string[] | undefined> }> {
  const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
  const ws = new WebSocket(`wss://api.openai.com${path}`, { createConnection: () => tls });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode, headers: res.headers }));
    ws.once('error', reject);
  });
}

describe('policy on WebSocket upgrades', () => {
  it('a denied Realtime model and a rate-limited session are refused at the upgrade, never dialled upstream', async () => {
    const before = fake.connections.length;
    const denied = await open('/v1/realtime?model=gpt-realtime-mini');
    expect([denied.status, denied.headers?.['x-llmtap-error']]).toEqual([403, 'model_not_allowed']);
    const allowed = await open('/v1/realtime?model=gpt-realtime');
    expect(allowed.ws).toBeDefined();
    allowed.ws!.close();
    const first = await open('/v1/responses');
    first.ws!.close();
    const second = await open('/v1/responses');
    expect([second.status, second.headers?.['x-llmtap-error'], second.headers?.['retry-after']]).toEqual([429, 'rate_limited', '60']);
    expect(fake.connections.length).toBe(before + 2);
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.model === 'gpt-realtime-mini');
      if (!r) throw new Error('not recorded');
      return r;
    });
    expect([rec.outcome, rec.policy]).toEqual(['blocked', { decisions: [{ rule: 'no-realtime-mini', kind: 'access', action: 'deny', enforced: true }], blocked: 'model_not_allowed' }]);
  });
});
