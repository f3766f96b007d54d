import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPasswordLine } from '../../src/proxy/auth.js';
import { startCliProxy, type CliProxy } from '../helpers/cli-proxy.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

/**
 * The live stream (/ui/api/live) is opened once and pushes for as long as the page stays:
 * a reload that takes a user away, changes their password or takes them off `uiAdmins`
 * must end it, or a demoted admin went on receiving everyone's exchanges and a removed
 * user their own. Streams of viewers the reload did not change go on. Through the built
 * CLI, reloaded by SIGHUP.
 */
let fake: FakeProvider;
let proxy: CliProxy;
let dir: string;
const url = () => `http://127.0.0.1:${proxy.port}`;
const agents: ProxyAgent[] = [];
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const USERS = [{ user: 'alice', password: 'alice-pass' }, { user: 'bob', password: 'bob-pass' }, { user: 'carol', password: 'carol-pass' }];

function client(user: string, password: string): OpenAI {
  const agent = new ProxyAgent({ uri: url(), token: basic(user, password), requestTls: { ca: proxy.ca } });
  agents.push(agent);
  return new OpenAI({ apiKey: 'sk-proj-live-0123456789abcdef', maxRetries: 0, fetchOptions: { dispatcher: agent } as never });
}

/** A live stream as `user`: whether it is still open, and the users of the exchanges it was sent. */
async function watch(user: string, password: string): Promise<{ ended: () => boolean; users: string[] }> {
  const res = await request(`${url()}/ui/api/live`, { headers: { authorization: basic(user, password) } });
  expect(res.statusCode).toBe(200);
  const state = { ended: false, users: [] as string[] };
  res.body.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.startsWith('data: {')) state.users.push((JSON.parse(line.slice(6)) as { user: string }).user);
  });
  res.body.on('end', () => { state.ended = true; });
  res.body.on('close', () => { state.ended = true; });
  return { ended: () => state.ended, users: state.users };
}

const lines = new Map<string, string>();

/** Writes the users file (each user's line made once, as `llmtap passwd` would) and the config naming it and the UI's admins. */
async function configure(users: typeof USERS, uiAdmins: string[]): Promise<string> {
  for (const u of users) if (!lines.has(u.user)) lines.set(u.user, await hashPasswordLine(u.user, u.password));
  writeFileSync(join(dir, 'users.txt'), `${users.map((u) => lines.get(u.user)!).join('\n')}\n`);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ authFile: join(dir, 'users.txt'), uiAdmins }));
  return join(dir, 'config.json');
}

beforeAll(async () => {
  fake = await startFakeProvider();
  dir = mkdtempSync(join(tmpdir(), 'llmtap-live-reload-'));
  proxy = await startCliProxy(fake, ['--config', await configure(USERS, ['alice', 'carol'])]);
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.close();
  await proxy?.stop();
  await fake?.close();
});

describe('live streams across a reload', () => {
  it('end for a viewer the reload demoted or removed, and go on for the others', async () => {
    const alice = await watch('alice', 'alice-pass');
    const bob = await watch('bob', 'bob-pass');
    const carol = await watch('carol', 'carol-pass');
    // Alice leaves uiAdmins, Bob leaves the users; Carol stays an admin.
    await configure(USERS.filter((u) => u.user !== 'bob'), ['carol']);
    const mark = proxy.logs().length;
    proxy.child.kill('SIGHUP');
    await proxy.waitLog(mark, 'config reloaded');
    await client('carol', 'carol-pass').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'after the reload' }] });
    for (const deadline = Date.now() + 3000; carol.users.length === 0 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    expect(carol.users).toEqual(['carol']);
    expect(carol.ended()).toBe(false);
    expect(alice.ended()).toBe(true);
    expect(alice.users).toEqual([]);
    expect(bob.ended()).toBe(true);
  }, 30_000);
});
