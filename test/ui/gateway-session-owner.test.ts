import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * A session id on the wire is the client's choice: on a gateway, two proxy users sending
 * the same one (Claude Code's session header, a Responses `previous_response_id`) must not
 * end up in one session, where each saw the other's name and totals and the second user's
 * exchanges were missing from their own session list.
 */
let fake: FakeProvider;
let tp: TestProxy;
const agents: ProxyAgent[] = [];
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ALICE = basic('alice', 'alice-pass');
const BOB = basic('bob', 'bob-pass');
const CAROL = basic('carol', 'carol-pass');
const SID = '7d0f1e9a-1111-4222-8333-444455556666';

function dispatcher(auth: string): ProxyAgent {
  const agent = new ProxyAgent({ uri: tp.url, token: auth, requestTls: { ca: tp.caPem } });
  agents.push(agent);
  return agent;
}

function claude(auth: string, sid = SID): Anthropic {
  return new Anthropic({ apiKey: 'sk-ant-api03-gateway-0123456789abcdef', maxRetries: 0, fetchOptions: { dispatcher: dispatcher(auth) } as never,
    defaultHeaders: { 'x-claude-code-session-id': sid, 'user-agent': 'claude-cli/2.0.1 (external, cli)' } });
}

function openai(auth: string): OpenAI {
  return new OpenAI({ apiKey: 'sk-proj-gateway-0123456789abcdef', maxRetries: 0, fetchOptions: { dispatcher: dispatcher(auth) } as never });
}

type Session = { id: string; client: { user: string | null }; turns: number; tokens: { input: number } };

async function sessionsOf(auth: string): Promise<Session[]> {
  const res = await request(`${tp.url}/ui/api/sessions`, { headers: { authorization: auth } });
  return ((await res.body.json()) as { sessions: Session[] }).sessions;
}

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { auth: [{ user: 'alice', password: 'alice-pass' }, { user: 'bob', password: 'bob-pass' }, { user: 'carol', password: 'carol-pass' }], uiAdmins: ['alice'] });
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.close();
  await tp?.close();
  await fake?.close();
});

describe('sessions on a gateway belong to one proxy user', () => {
  it('the same Claude Code session id from two users makes two sessions, each listed for its own user', async () => {
    await claude(ALICE).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'alice plans the launch' }] });
    await claude(BOB).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'bob plans the launch' }] });
    tp.proxy.recorder.flush();
    const bobs = await eventually(async () => {
      const list = (await sessionsOf(BOB)).filter((s) => s.id.startsWith(SID));
      if (list.length === 0) throw new Error('not written yet');
      return list;
    });
    expect(bobs).toMatchObject([{ id: `${SID}@bob`, client: { user: 'bob' }, turns: 1 }]);
    // Alice (an admin) sees both; hers counts only her turn.
    const all = (await sessionsOf(ALICE)).filter((s) => s.id.startsWith(SID));
    expect(all.map((s) => [s.id, s.client.user, s.turns]).sort()).toEqual([[SID, 'alice', 1], [`${SID}@bob`, 'bob', 1]]);
    // Bob cannot open Alice's session, nor learn its totals.
    const res = await request(`${tp.url}/ui/api/sessions/${SID}`, { headers: { authorization: BOB } });
    expect(res.statusCode).toBe(404);
    await res.body.dump();
  }, 30_000);

  it('another user\'s previous_response_id does not continue their session', async () => {
    const first = await openai(ALICE).responses.create({ model: 'gpt-4o-mini', input: 'alice asks' });
    await openai(BOB).responses.create({ model: 'gpt-4o-mini', input: 'bob continues', previous_response_id: first.id });
    tp.proxy.recorder.flush();
    const bobs = await eventually(async () => {
      const list = (await sessionsOf(BOB)).filter((s) => !s.id.startsWith(SID));
      if (list.length === 0) throw new Error('not written yet');
      return list;
    });
    expect(bobs).toMatchObject([{ client: { user: 'bob' }, turns: 1 }]);
    const alices = (await sessionsOf(ALICE)).filter((s) => s.client.user === 'alice' && !s.id.startsWith(SID));
    expect(alices.map((s) => s.turns)).toEqual([1]);
  }, 30_000);

  it('a third user who sent `ID@alice` first (an id the same for everyone) does not get alice\'s exchanges in their session', async () => {
    const shared = 'same-id-for-everyone';
    const ask = (auth: string, sid: string, text: string) => claude(auth, sid).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: text }] });
    await ask(BOB, shared, 'bob owns the id');
    await ask(CAROL, `${shared}@alice`, 'carol waits for alice');
    await ask(ALICE, shared, 'alice plans the launch');
    tp.proxy.recorder.flush();
    const all = await eventually(async () => {
      const list = (await sessionsOf(ALICE)).filter((s) => s.id.startsWith(shared));
      if (list.reduce((n, s) => n + s.turns, 0) < 3) throw new Error('not written yet');
      return list;
    });
    // One session per user, each counting only its own user's turn.
    expect(all.map((s) => [s.client.user, s.turns]).sort()).toEqual([['alice', 1], ['bob', 1], ['carol', 1]]);
    const carols = (await sessionsOf(CAROL)).filter((s) => s.id.startsWith(shared));
    expect(carols.map((s) => [s.id, s.turns])).toEqual([[`${shared}@alice`, 1]]);
  }, 30_000);
});
