import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { askResponse, type ResponseEnd } from '../helpers/ws-conversation.js';

// Sessions opened while no policy is in force, charged once a reload adds one (a Codex
// session's requests screened too: policy-websocket-late-screen.test.ts); and a Realtime
// response that names another model than its upgrade's `?model=`.
// The fake answers each response.create with 12 input and 9 output tokens, or its `fake_usage`.
let fake: FakeWs;
let tp: TestProxy;

/**
 * Realtime usage with the audio breakdown its price needs (about $0.03 at gpt-realtime's
 * rates, $0.01 at -mini's), spelt as the fake's `response.completed` carries it.
 */
const AUDIO_USAGE = {
  input_tokens: 1000, output_tokens: 100,
  input_tokens_details: { text_tokens: 200, audio_tokens: 800, cached_tokens: 0 },
  output_tokens_details: { text_tokens: 20, audio_tokens: 80 },
};

beforeAll(async () => {
  fake = await startFakeWs();
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile] });
});
afterAll(async () => {
  await tp.close();
  await fake.close();
});

/** A WebSocket through the proxy; the open socket, or the refused upgrade's status and llmtap error code. */
async function open(path: string): Promise<{ ws?: WebSocket; status?: number; code?: string }> {
  const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
  const ws = new WebSocket(`wss://api.openai.com${path}`, { createConnection: () => tls });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode, code: res.headers['x-llmtap-error'] as string | undefined }));
    ws.once('error', reject);
  });
}

/** One response.create, resolved when the server says the response is complete. */
function turn(ws: WebSocket, model: string, usage?: object): Promise<void> {
  return new Promise<void>((resolve) => {
    const onMessage = (data: Buffer): void => {
      if (!data.toString().includes('response.completed')) return;
      ws.off('message', onMessage);
      resolve();
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'response.create', model, ...(usage ? { fake_usage: usage } : {}) }));
  });
}

/** How the session closed within 2 s: code and reason (the proxy's 1008 when the policy ended it), else 'open'. */
function closed(ws: WebSocket): Promise<[number, string] | 'open'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve('open');
      ws.terminate();
    }, 2000);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve([code, reason.toString()]);
    });
  });
}

/** An upgrade the proxy refuses, tried until it is (a response's charge lands a moment after the client reads it). */
async function refusedSoon(path: string): Promise<Awaited<ReturnType<typeof open>>> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const r = await open(path);
    if (r.status !== undefined || Date.now() > deadline) {
      r.ws?.terminate();
      return r;
    }
    r.ws!.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('WebSocket sessions opened before a policy, and a Realtime response of another model', () => {
  it('a Realtime session opened with no policy is charged once a reload adds one: its responses fill the token bucket the next upgrade meets', async () => {
    try {
      const { ws } = await open('/v1/realtime?model=gpt-realtime');
      await turn(ws!, 'gpt-realtime');
      tp.proxy.server.setPolicy(loadPolicyText('rules:\n  - {id: late-tokens, match: {api: realtime, model: gpt-realtime}, rateLimit: {tokensPerMinute: 40, per: user}}\n', 'p.yaml'));
      // Two responses under the new rule: 42 tokens of its 40 a minute.
      await turn(ws!, 'gpt-realtime');
      await turn(ws!, 'gpt-realtime');
      ws!.close(1000);
      expect(await refusedSoon('/v1/realtime?model=gpt-realtime')).toMatchObject({ status: 429, code: 'rate_limited' });
    } finally {
      tp.proxy.server.setPolicy(undefined);
    }
  });

  it('a Realtime session opened with no policy is ended (1008 budget_exceeded) by the response that spends a budget a reload added', async () => {
    try {
      const { ws } = await open('/v1/realtime?model=gpt-realtime');
      const end = closed(ws!);
      await turn(ws!, 'gpt-realtime', AUDIO_USAGE);
      tp.proxy.server.setPolicy(loadPolicyText('rules:\n  - {id: late-realtime-daily, match: {api: realtime}, budget: {usd: 0.01, period: day, per: user}}\n', 'p.yaml'));
      await turn(ws!, 'gpt-realtime', AUDIO_USAGE);
      expect(await end).toEqual([1008, 'budget_exceeded']);
      expect(await refusedSoon('/v1/realtime?model=gpt-realtime')).toMatchObject({ status: 429, code: 'budget_exceeded' });
    } finally {
      tp.proxy.server.setPolicy(undefined);
    }
  });

  it('a Codex session opened with no policy is charged at each response\'s model once a reload adds a budget, and screened: once a response spent it, the session\'s next request for that model is refused (error event, the session goes on), as is the next session\'s', async () => {
    try {
      const { ws } = await open('/v1/responses');
      const end = closed(ws!);
      await turn(ws!, 'gpt-5-codex');
      tp.proxy.server.setPolicy(loadPolicyText('rules:\n  - {id: late-codex-daily, match: {model: "gpt-5*"}, budget: {usd: 0.0001, period: day, per: model}}\n', 'p.yaml'));
      // A response of a model no budget matches is charged nothing.
      await turn(ws!, 'o4-mini');
      await turn(ws!, 'gpt-5-codex');
      // The charge lands a moment after the client reads the response.
      const deadline = Date.now() + 2000;
      let last: ResponseEnd;
      do last = await askResponse(ws!, 'gpt-5-codex');
      while (last.type !== 'error' && Date.now() < deadline);
      expect(last).toMatchObject({ type: 'error', error: { code: 'budget_exceeded' } });
      expect((await askResponse(ws!, 'o4-mini')).type).toBe('response.completed');
      ws!.close(1000);
      expect(await end).toEqual([1000, '']);
      const next = await open('/v1/responses');
      expect(await askResponse(next.ws!, 'gpt-5-codex')).toMatchObject({ type: 'error', error: { code: 'budget_exceeded' } });
      next.ws!.close(1000);
    } finally {
      tp.proxy.server.setPolicy(undefined);
    }
  });

  it('a Realtime response that names another model than `?model=` is charged to that model\'s budget, which ends the session when spent', async () => {
    try {
      tp.proxy.server.setPolicy(loadPolicyText('rules:\n  - {id: realtime-mini-daily, match: {api: realtime, model: "gpt-realtime-mini*"}, budget: {usd: 0.005, period: day, per: model}}\n', 'p.yaml'));
      const { ws } = await open('/v1/realtime?model=gpt-realtime');
      const end = closed(ws!);
      // The response names gpt-realtime-mini (about $0.01 of its $0.005).
      await turn(ws!, 'gpt-realtime-mini', AUDIO_USAGE);
      expect(await end).toEqual([1008, 'budget_exceeded']);
      expect(await refusedSoon('/v1/realtime?model=gpt-realtime-mini')).toMatchObject({ status: 429, code: 'budget_exceeded' });
      // The upgrade's own model has no budget spent.
      const other = await open('/v1/realtime?model=gpt-realtime');
      expect(other.ws).toBeDefined();
      other.ws!.close(1000);
    } finally {
      tp.proxy.server.setPolicy(undefined);
    }
  });
});
