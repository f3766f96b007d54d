import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

// The fake answers every response.create with 12 input and 9 output tokens; converse() makes two.
let fake: FakeWs;
let tp: TestProxy;
const POLICY = loadPolicyText(`rules:
  - {id: codex-daily, match: {api: responses}, budget: {usd: 0.0001, period: day, per: user}}
  - {id: realtime-tokens, match: {api: realtime}, rateLimit: {tokensPerMinute: 40, per: user}}
`, 'p.yaml');

beforeAll(async () => {
  fake = await startFakeWs();
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile], policy: POLICY });
});
afterAll(async () => {
  await tp.close();
  await fake.close();
});

/** Opens a WebSocket through the proxy; the open socket, or the refused upgrade's status and headers. */
async function open(path: string): Promise<{ ws?: WebSocket; status?: number; headers?: Record<string, string | string[] | undefined> }> {
  const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
  const ws = new WebSocket(`wss://api.openai.com${path}`, { createConnection: () => tls });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode, headers: res.headers }));
    ws.once('error', reject);
  });
}

/** One response.create, resolved when the server says the response is complete. */
function turn(ws: WebSocket, model: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const onMessage = (data: Buffer): void => {
      if (!data.toString().includes('response.completed')) return;
      ws.off('message', onMessage);
      resolve();
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'response.create', model }));
  });
}

/** Two turns in one session, then a clean close. */
async function twoTurns(ws: WebSocket): Promise<void> {
  await turn(ws, 'gpt-realtime');
  await turn(ws, 'gpt-realtime');
  await new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    ws.close(1000);
  });
}

/** An upgrade the proxy refuses, tried until it is (a response's charge lands as the proxy reads it, a moment after the client). */
async function refusedSoon(path: string): Promise<Awaited<ReturnType<typeof open>>> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const r = await open(path);
    if (r.status !== undefined || Date.now() > deadline) return r;
    r.ws!.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sessions = (api: string, n: number) => eventually(() => {
  const found = exported(tp).filter((e) => e.api === api);
  if (found.length < n) throw new Error(`${api}: ${found.length} of ${n} recorded`);
  return found;
});

describe('budgets and token limits count WebSocket sessions', () => {
  it('a Codex session is charged response by response: the response that spends the budget ends the session (close 1008), the next upgrade is refused budget_exceeded', async () => {
    const { ws } = await open('/v1/responses');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws!.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await turn(ws!, 'gpt-5-codex');
    // One response (12 in, 9 out at gpt-5's rates) spent the day's $0.0001: the session ends after it.
    expect(await closed).toEqual({ code: 1008, reason: 'budget_exceeded' });
    const dialled = fake.connections.length;
    const refused = await refusedSoon('/v1/responses');
    expect([refused.status, refused.headers?.['x-llmtap-error'], refused.headers?.['x-should-retry']]).toEqual([429, 'budget_exceeded', 'false']);
    expect(fake.connections.length).toBe(dialled);
    const recs = await sessions('responses', 2);
    const one = priceExchange({ provider: 'openai', host: 'api.openai.com', api: 'responses', responseModel: 'gpt-5-codex', usage: { inputTokens: 12, outputTokens: 9 }, at: Date.now(), subscription: false }).usd!;
    expect(one).toBeGreaterThan(0.0001);
    const session = recs.find((r) => r.status === 101)!;
    expect([session.outcome, session.error_code, session.cost_source]).toEqual(['blocked', 'budget_exceeded', 'api']);
    expect(session.cost_usd).toBeCloseTo(one, 12);
    const budgetBlock = { rule: 'codex-daily', kind: 'budget', action: 'block', enforced: true, key: 'user:127.0.0.1' };
    expect(session.policy).toMatchObject({ decisions: [budgetBlock], blocked: 'budget_exceeded' });
    // The close the client got is in the log on the server's side (1008, budget_exceeded), answered by the client's own close.
    const closes = session.websocket!.messages.filter((m) => m.opcode === 8);
    expect(closes.map((m) => m.direction)).toEqual(['server', 'client']);
    expect(session.websocket!.messages.at(-1)).toBe(closes[1]);
    const payload = Buffer.from(closes[0]!.data_base64!, 'base64');
    expect([payload.readUInt16BE(0), payload.subarray(2).toString()]).toEqual([1008, 'budget_exceeded']);
    const blocked = recs.find((r) => r.status === 429)!;
    expect([blocked.outcome, blocked.error_code]).toEqual(['blocked', 'budget_exceeded']);
    expect(blocked.policy).toMatchObject({ decisions: [budgetBlock], blocked: 'budget_exceeded' });
  });

  it('a Realtime session\'s tokens go to its token bucket response by response: over the minute\'s tokens, the next upgrade waits', async () => {
    const first = await open('/v1/realtime?model=gpt-realtime');
    await twoTurns(first.ws!);
    const [rec] = await sessions('realtime', 1);
    expect(rec!.usage).toMatchObject({ input_tokens: 24, output_tokens: 18 });
    expect(rec!.cost_usd).toBeNull(); // audio tokens are not recorded: no guess
    const next = await refusedSoon('/v1/realtime?model=gpt-realtime');
    expect([next.status, next.headers?.['x-llmtap-error']]).toEqual([429, 'rate_limited']);
    expect(Number(next.headers?.['retry-after'])).toBeGreaterThan(0);
  });
});
