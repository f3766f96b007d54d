import { readdirSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

let fake: FakeWs;
let team: FakeWs;
let tp: TestProxy;
const logs: Record<string, unknown>[] = [];
// Distinctive values, not key-shaped: the byte search below proves they were never written.
const OPENAI_KEY = 'ws-injected-openai-credential-3c2b1a';
const TEAM_KEY = 'ws-injected-team-credential-7d8e9f';
const CLIENT_LOGIN = 'ws-client-sends-only-its-login';

beforeAll(async () => {
  fake = await startFakeWs();
  team = await startFakeWs({ ca: fake.ca });
  process.env.LLMTAP_WS_TEST_OPENAI_KEY = OPENAI_KEY;
  process.env.LLMTAP_WS_TEST_TEAM_KEY = TEAM_KEY;
  const policy = loadPolicyText(`rules:
  - {id: no-realtime-mini, action: deny, match: {api: realtime, model: "*-mini*"}}
  - {id: one, match: {path: "/v1/responses"}, rateLimit: {requestsPerMinute: 1}}
  - {id: to-team, match: {model: "*-teamroute"}, route: {upstream: "https://team.example", pathPrefix: /gw}}
  - {id: dead, match: {model: "*-deadroute"}, route: {upstream: "https://127.0.0.1:1"}}
  - {id: then-team, match: {model: "*-deadroute"}, fallback: {upstreams: ["https://team.example"]}}
  - {id: openai-key, match: {host: api.openai.com}, credentials: {fromEnv: LLMTAP_WS_TEST_OPENAI_KEY}}
  - {id: team-key, match: {host: team.example}, credentials: {fromEnv: LLMTAP_WS_TEST_TEAM_KEY, header: x-api-key}}
`, 'p.yaml');
  const destination = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  tp = await startTestProxy(undefined, {
    connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`), parseConnectTo(`team.example:443:127.0.0.1:${team.port}`)], upstreamCa: [fake.caFile], policy,
    // An operator's pattern (--redact): the log's built-in safety net does not know it.
    redact: ['TEAMSECRET[0-9]+'],
  }, { logger: createLogger({ level: 'info', destination }) });
});
afterAll(async () => {
  await tp.close();
  await fake.close();
  await team.close();
});

/** Opens a WebSocket through the proxy; resolves with the open socket or the refused upgrade's status and headers. */
async function open(path: string, headers: Record<string, string> = {}): Promise<{ ws?: WebSocket; status?: number; headers?: Record<string, string | string[] | undefined> }> {
  const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
  const ws = new WebSocket(`wss://api.openai.com${path}`, { createConnection: () => tls, headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode, headers: res.headers }));
    ws.once('error', reject);
  });
}

describe('policy on WebSocket upgrades', () => {
  it('a denied Realtime model is refused at the upgrade, never dialled upstream; a Codex session\'s requests are rate-limited one by one', async () => {
    const before = fake.connections.length;
    const denied = await open('/v1/realtime?model=gpt-realtime-mini');
    expect([denied.status, denied.headers?.['x-llmtap-error']]).toEqual([403, 'model_not_allowed']);
    const allowed = await open('/v1/realtime?model=gpt-realtime');
    expect(allowed.ws).toBeDefined();
    allowed.ws!.close();
    expect(fake.connections.length).toBe(before + 1);
    // Codex: the upgrade does not count, each response.create does (one a minute here).
    const first = await open('/v1/responses');
    const second = await open('/v1/responses');
    const answer = (ws: WebSocket): Promise<string> => new Promise((resolve) => {
      ws.once('message', (d) => resolve(d.toString()));
      ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex' }));
    });
    expect(await answer(first.ws!)).toContain('response.created');
    expect(JSON.parse(await answer(second.ws!))).toMatchObject({ type: 'error', status: 429, error: { code: 'rate_limited' } });
    first.ws!.close();
    second.ws!.close();
    expect(fake.connections.length).toBe(before + 3);
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.model === 'gpt-realtime-mini');
      if (!r) throw new Error('not recorded');
      return r;
    });
    expect([rec.outcome, rec.policy]).toEqual(['blocked', { decisions: [{ rule: 'no-realtime-mini', kind: 'access', action: 'deny', enforced: true }], blocked: 'model_not_allowed' }]);
  });

  const header = (raw: string[], name: string): string[] => raw.filter((_, i, all) => i % 2 === 1 && all[i - 1]!.toLowerCase() === name);
  const byModel = (model: string) => eventually(() => {
    const r = exported(tp).find((e) => e.model === model);
    if (!r) throw new Error(`${model} not recorded`);
    return r;
  });

  it('credentials: a Realtime session carries the injected key, never the client\'s login (or its ?key=)', async () => {
    const before = fake.connections.length;
    const { ws } = await open('/v1/realtime?model=gpt-realtime&key=client-query-key', { authorization: `Bearer ${CLIENT_LOGIN}` });
    ws!.close();
    const seen = fake.connections[before]!;
    expect([seen.url, header(seen.rawHeaders, 'authorization')]).toEqual(['/v1/realtime?model=gpt-realtime', [`Bearer ${OPENAI_KEY}`]]);
    const rec = await byModel('gpt-realtime');
    expect(rec.policy).toMatchObject({ decisions: [{ rule: 'openai-key', kind: 'credentials', action: 'inject', enforced: true, upstream: 'https://api.openai.com', header: 'authorization', source: 'env:LLMTAP_WS_TEST_OPENAI_KEY' }] });
  });

  it('route: the session goes to the rule\'s upstream with its path prefix, Host and credential', async () => {
    const [f0, t0] = [fake.connections.length, team.connections.length];
    const { ws } = await open('/v1/realtime?model=gpt-realtime-teamroute', { authorization: `Bearer ${CLIENT_LOGIN}` });
    // The session works end to end through the routed upstream.
    const reply = await new Promise<string>((resolve) => {
      ws!.on('message', (data) => {
        const ev = JSON.parse(data.toString()) as { type: string };
        if (ev.type === 'response.completed') resolve(ev.type);
      });
      ws!.send(JSON.stringify({ type: 'response.create', model: 'gpt-realtime-teamroute' }));
    });
    expect(reply).toBe('response.completed');
    ws!.close();
    expect(fake.connections.length).toBe(f0);
    const seen = team.connections[t0]!;
    expect([seen.url, header(seen.rawHeaders, 'host'), header(seen.rawHeaders, 'x-api-key'), header(seen.rawHeaders, 'authorization')])
      .toEqual(['/gw/v1/realtime?model=gpt-realtime-teamroute', ['team.example'], [TEAM_KEY], []]);
    const rec = await byModel('gpt-realtime-teamroute');
    expect(rec.policy).toMatchObject({ route: { from: { upstream: 'https://api.openai.com' }, to: { upstream: 'https://team.example' } } });
  });

  it('fallback on a connect error: the next upstream gets the upgrade, and a warn line says so', async () => {
    const t0 = team.connections.length;
    const { ws } = await open('/v1/realtime?model=gpt-realtime-deadroute');
    expect(ws).toBeDefined();
    ws!.close();
    expect(team.connections.length).toBe(t0 + 1);
    const rec = await byModel('gpt-realtime-deadroute');
    expect(rec.policy).toMatchObject({ attempts: [
      { upstream: 'https://127.0.0.1:1', error: 'upstream_unreachable', result: 'retried' },
      { upstream: 'https://team.example', status: 101, result: 'answered' },
    ] });
    expect(logs.find((l) => l.exchange === rec.id && String(l.msg).startsWith('fallback'))).toMatchObject({ level: 40, rule: 'then-team', from: 'https://127.0.0.1:1', error: 'upstream_unreachable', to: 'https://team.example' });
  });

  it('the injected credentials are in no archive file and no log line', async () => {
    await byModel('gpt-realtime-teamroute');
    tp.proxy.recorder.flush();
    for (const f of readdirSync(tp.home).filter((n) => n.startsWith('llmtap.db'))) {
      const bytes = readFileSync(`${tp.home}/${f}`);
      expect([bytes.includes(OPENAI_KEY), bytes.includes(TEAM_KEY)], f).toEqual([false, false]);
    }
    expect(JSON.stringify(logs).includes(OPENAI_KEY) || JSON.stringify(logs).includes(TEAM_KEY)).toBe(false);
  });

  it('the upgrade path and host go to the log lines through the operator\'s --redact patterns, like an HTTP request\'s', async () => {
    const secret = 'TEAMSECRET4242';
    const { ws } = await open(`/v1/responses/${secret}`);
    ws?.close();
    const line = await eventually(() => {
      const found = logs.find((l) => l.msg === 'websocket' && String(l.path).startsWith('/v1/responses/'));
      if (!found) throw new Error('no websocket line yet');
      return found;
    });
    expect(String(line.path)).not.toContain(secret);
    expect(JSON.stringify(logs).includes(secret)).toBe(false);
  });
});
