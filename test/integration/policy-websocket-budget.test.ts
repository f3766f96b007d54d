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
  - {id: codex-daily, match: {api: responses, model: "gpt-5*"}, budget: {usd: 0.0001, period: day, per: model}}
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

/** For eventually(): the message, once there is one. */
function found(message: string | undefined): string {
  if (message === undefined) throw new Error('no answer yet');
  return message;
}

const sessions = (api: string, n: number) => eventually(() => {
  const found = exported(tp).filter((e) => e.api === api);
  if (found.length < n) throw new Error(`${api}: ${found.length} of ${n} recorded`);
  return found;
});

describe('budgets and token limits count WebSocket sessions', () => {
  it('a Codex session is charged response by response at each response\'s model: once spent, its next request for that model is refused with an error event, other models go on', async () => {
    const { ws } = await open('/v1/responses');
    const got: string[] = [];
    ws!.on('message', (d) => got.push(d.toString()));
    await turn(ws!, 'gpt-5-codex');
    // One response (12 in, 9 out at gpt-5's rates) spent the model's $0.0001 for the day.
    const dialled = fake.connections.length;
    const upstream = fake.connections[dialled - 1]!;
    const refused = await eventually(async () => {
      const from = got.length;
      ws!.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', input: 'again' }));
      const answer = await eventually(() => found(got.slice(from).find((m) => m.includes('"type":"error"') || m.includes('"response.completed"'))));
      if (!answer.includes('"type":"error"')) throw new Error('charged a moment after the client read the response: not refused yet');
      return JSON.parse(answer) as { status: number; error: { code: string } };
    });
    expect(refused).toMatchObject({ status: 429, error: { code: 'budget_exceeded' } });
    // A model no budget matches goes on in the same session.
    await turn(ws!, 'o4-mini');
    const closed = new Promise<number>((resolve) => ws!.once('close', (code) => resolve(code)));
    ws!.close(1000);
    expect(await closed).toBe(1000);
    // Every request the server read was answered; the refused one never reached it.
    expect(upstream.texts.length).toBe(got.filter((m) => m.includes('"response.completed"')).length);
    expect(upstream.texts.at(-1)).toContain('o4-mini');
    // A new session is let in (its upgrade names no model) and its request for the spent model refused before it goes up.
    const next = await open('/v1/responses');
    const nextGot: string[] = [];
    next.ws!.on('message', (d) => nextGot.push(d.toString()));
    next.ws!.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', input: 'new session' }));
    const answer = JSON.parse(await eventually(() => found(nextGot.find((m) => m.includes('"type":"error"'))))) as { error: { code: string } };
    expect(answer.error.code).toBe('budget_exceeded');
    expect(fake.connections.at(-1)!.texts).toEqual([]);
    next.ws!.close(1000);
    const recs = await sessions('responses', 2);
    const one = priceExchange({ provider: 'openai', host: 'api.openai.com', api: 'responses', responseModel: 'gpt-5-codex', usage: { inputTokens: 12, outputTokens: 9 }, at: Date.now(), subscription: false }).usd!;
    expect(one).toBeGreaterThan(0.0001);
    const first = recs[0]!;
    expect([first.status, first.outcome, first.error_code]).toEqual([101, 'completed', null]);
    expect((first.policy as { decisions: unknown[] }).decisions).toContainEqual(expect.objectContaining({ rule: 'codex-daily', kind: 'budget', action: 'block', enforced: true, key: 'model:gpt-5-codex' }));
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

  it('a reload applies to an open Realtime session: its later responses are charged to the token bucket of the rules now in force', async () => {
    try {
      tp.proxy.server.setPolicy(loadPolicyText('rules:\n  - {id: realtime-roomy, match: {api: realtime}, rateLimit: {tokensPerMinute: 100000, per: user}}\n', 'p.yaml'));
      const { ws } = await open('/v1/realtime?model=gpt-realtime');
      await turn(ws!, 'gpt-realtime');
      // The session stays open across the reload; its next two responses (42 tokens) meet the new 40-token rule.
      tp.proxy.server.setPolicy(loadPolicyText('rules:\n  - {id: realtime-tight, match: {api: realtime}, rateLimit: {tokensPerMinute: 40, per: user}}\n', 'p.yaml'));
      await twoTurns(ws!);
      const next = await refusedSoon('/v1/realtime?model=gpt-realtime');
      expect([next.status, next.headers?.['x-llmtap-error']]).toEqual([429, 'rate_limited']);
    } finally {
      tp.proxy.server.setPolicy(POLICY);
    }
  });
});
