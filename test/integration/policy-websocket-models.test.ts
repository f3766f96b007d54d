import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import type { TurnView } from '../../src/sessions/turns.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, WS_TEXT, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * Codex's Responses over WebSocket names its model in each `response.create`, not at the
 * upgrade: the access rules judge every such request before it goes upstream. Allowed
 * models only, through a real `ws` client and a real `ws` server.
 */
const POLICY = loadPolicyText(`rules:
  - {id: codex-rpm, match: {model: gpt-5-codex}, rateLimit: {requestsPerMinute: 2, per: model}}
  - {id: codex-ok, match: {model: "gpt-5-codex*"}, action: allow}
  - {id: watch-mini, mode: monitor, match: {model: gpt-5-mini}, action: deny}
  - {id: nothing-else, match: {api: responses}, action: deny}
`, 'p.yaml');

/** Masks of zeros: a client frame's bytes are its payload, so the upstream's bytes can be searched. */
const zeroMask = (mask: Buffer): void => void mask.fill(0);

let fake: FakeWs;
let tp: TestProxy;
beforeAll(async () => {
  fake = await startFakeWs({ perMessageDeflate: true });
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile], policy: POLICY });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

async function open(deflate: false | { threshold: number }): Promise<{ ws: WebSocket; got: string[]; closed: Promise<{ code: number; reason: string }> }> {
  const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
  const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls, perMessageDeflate: deflate, generateMask: zeroMask });
  const got: string[] = [];
  ws.on('message', (d) => got.push(d.toString()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, got, closed };
}

/** Sends a response.create and waits for the message that answers it (the response's end, or an error event). */
function ask(ws: WebSocket, got: string[], model: string): Promise<string> {
  const from = got.length;
  ws.send(JSON.stringify({ type: 'response.create', model, input: [{ role: 'user', content: `asking ${model}` }] }));
  return eventually(() => {
    const answer = got.slice(from).find((m) => m.includes('"response.completed"') || m.includes('"type":"error"'));
    if (!answer) throw new Error(`no answer to ${model} yet`);
    return answer;
  });
}

/** The session archived with this outcome (recorded a moment after both sides closed). */
const recordedSession = (outcome: string) => eventually(() => {
  const r = exported(tp).find((e) => e.status === 101 && e.outcome === outcome);
  if (!r) throw new Error('session not recorded yet');
  return r;
});

describe('access rules on each request of a Codex WebSocket session', () => {
  it('refuses a request for a model the policy does not allow with an error event, sends it nowhere, and the session goes on', async () => {
    const { ws, got, closed } = await open(false);
    const upstream = fake.connections[fake.connections.length - 1]!;
    const refused = JSON.parse(await ask(ws, got, 'gpt-4o')) as { type: string; status: number; error: { code: string; type: string } };
    expect(refused).toMatchObject({ type: 'error', status: 403, error: { code: 'model_not_allowed', type: 'llmtap_error' } });
    expect(await ask(ws, got, 'gpt-5-codex')).toContain('"response.completed"');
    // The monitor rule records what it would have done; the enforced catch-all refuses.
    expect(JSON.parse(await ask(ws, got, 'gpt-5-mini'))).toMatchObject({ type: 'error', error: { code: 'model_not_allowed' } });
    ws.close(1000);
    expect((await closed).code).toBe(1000);

    const sent = Buffer.concat(upstream.received).toString('latin1');
    expect(sent).toContain('asking gpt-5-codex');
    expect(sent).not.toContain('asking gpt-4o');
    expect(sent).not.toContain('asking gpt-5-mini');
    expect(upstream.texts.map((t) => (JSON.parse(t) as { model: string }).model)).toEqual(['gpt-5-codex']);

    const row = await recordedSession('completed');
    const policy = row.policy as { decisions: Array<Record<string, unknown>>; blocked?: string };
    expect(policy.blocked).toBeUndefined();
    expect(policy.decisions).toEqual([
      { rule: 'nothing-else', kind: 'access', action: 'deny', enforced: true, model: 'gpt-4o' },
      { rule: 'codex-ok', kind: 'access', action: 'allow', enforced: true, model: 'gpt-5-codex' },
      { rule: 'watch-mini', kind: 'access', action: 'deny', enforced: false, model: 'gpt-5-mini' },
      { rule: 'nothing-else', kind: 'access', action: 'deny', enforced: true, model: 'gpt-5-mini' },
    ]);
    // The log keeps the refused request and, right after it, the error event the client received in its place.
    const messages = (row.websocket as { messages: Array<{ direction: string; text?: string }> }).messages;
    expect(messages[0]!.text).toContain('asking gpt-4o');
    expect(messages[1]).toMatchObject({ direction: 'server' });
    expect(messages[1]!.text).toContain('model_not_allowed');

    // `show` reads the session request by request: each its own turn, a refused one with why.
    const shown = JSON.parse((await promisify(execFile)('node', [resolve('dist/cli/main.js'), '--home', tp.home, 'show', row.session_id as string, '--json'])).stdout) as { threads: { turns: TurnView[] }[] };
    const turns = shown.threads.flatMap((t) => t.turns).filter((t) => t.exchangeId === row.id);
    expect(turns.map((t) => [t.turn, t.model, t.added.map((m) => JSON.stringify(m.blocks)).join(), t.answer.text, t.answer.stopReason])).toEqual([
      [1, 'gpt-4o', expect.stringContaining('asking gpt-4o'), '', 'error: model_not_allowed'],
      [2, 'gpt-5-codex', expect.stringContaining('asking gpt-5-codex'), WS_TEXT, 'completed'],
      [3, 'gpt-5-mini', expect.stringContaining('asking gpt-5-mini'), '', 'error: model_not_allowed'],
    ]);
    expect(turns[1]).toMatchObject({ promptTokens: 12, outputTokens: 9 });
    // The session's cost is its one answered request's; the refused ones cost nothing.
    expect(row.cost_usd).toBeGreaterThan(0);
    expect(turns.map((t) => t.costUsd)).toEqual([0, row.cost_usd, 0]);
    // Each decision on the turn that asked for its model.
    expect(turns.map((t) => t.policy?.decisions.map((d) => `${d.rule} ${d.enforced ? '' : '(monitor)'}`.trim()))).toEqual([['nothing-else'], ['codex-ok'], ['watch-mini (monitor)', 'nothing-else']]);
    const text = (await promisify(execFile)('node', [resolve('dist/cli/main.js'), '--home', tp.home, 'show', row.session_id as string])).stdout;
    expect(text).toMatch(/3 turns, 1 thread/);
    // The session list counts them alike.
    const listed = JSON.parse((await promisify(execFile)('node', [resolve('dist/cli/main.js'), '--home', tp.home, 'sessions', '--json'])).stdout) as { id: string; turns: number }[];
    expect(listed.find((s) => s.id === row.session_id)?.turns).toBe(3);
    expect(text).toMatch(/turn 3 .*gpt-5-mini/);
  });

  it('a refused request compressed with the window the server keeps ends the session (1008) before it goes upstream', async () => {
    const { ws, got, closed } = await open({ threshold: 0 });
    const upstream = fake.connections[fake.connections.length - 1]!;
    expect(await ask(ws, got, 'gpt-5-codex')).toContain('"response.completed"');
    ws.send(JSON.stringify({ type: 'response.create', model: 'o3', input: 'compressed' }));
    expect(await closed).toEqual({ code: 1008, reason: 'model_not_allowed' });
    // What the server read, inflated: the allowed request only.
    expect(upstream.texts.map((t) => (JSON.parse(t) as { model: string }).model)).toEqual(['gpt-5-codex']);
    const row = await recordedSession('blocked');
    expect(row.error_code).toBe('model_not_allowed');
    expect((row.policy as { blocked?: string }).blocked).toBe('model_not_allowed');
  });

  it('rate limits count each request of a session, not its upgrade: the third gpt-5-codex request this minute is refused (429) and the session goes on', async () => {
    // The two tests above asked gpt-5-codex once each.
    const { ws, got, closed } = await open(false);
    const upstream = fake.connections[fake.connections.length - 1]!;
    expect(JSON.parse(await ask(ws, got, 'gpt-5-codex'))).toMatchObject({ type: 'error', status: 429, error: { code: 'rate_limited' } });
    expect(upstream.texts).toEqual([]);
    ws.close(1000);
    expect((await closed).code).toBe(1000);
  });

  it('a reload applies to the requests of sessions already open', async () => {
    const { ws, got, closed } = await open(false);
    expect(JSON.parse(await ask(ws, got, 'o4-mini'))).toMatchObject({ type: 'error', error: { code: 'model_not_allowed' } });
    tp.proxy.server.setPolicy(loadPolicyText('rules:\n  - {id: anything, action: allow}\n', 'p.yaml'));
    try {
      expect(await ask(ws, got, 'o4-mini')).toContain('"response.completed"');
    } finally {
      tp.proxy.server.setPolicy(POLICY);
    }
    expect(JSON.parse(await ask(ws, got, 'o4-mini'))).toMatchObject({ type: 'error', error: { code: 'model_not_allowed' } });
    ws.close(1000);
    expect((await closed).code).toBe(1000);
  });
});
