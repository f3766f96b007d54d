/**
 * A user taken out of the users file, or given a new password, on a reload (SIGHUP) is
 * refused on the connections already open too: an SDK keeps its CONNECT tunnel open for
 * as long as it is busy, and its requests went on being forwarded and recorded under the
 * removed user. Through the built CLI with undici's ProxyAgent (the openai SDK over it for
 * a user who stays: Node's fetch turns any 407 into a network error, as the fetch spec says).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPasswordLine } from '../../src/proxy/auth.js';
import { startCliProxy, type CliProxy } from '../helpers/cli-proxy.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

let fake: FakeProvider;
let proxy: CliProxy;
let usersFile: string;
const agents: ProxyAgent[] = [];

function agentFor(user: string, password: string): ProxyAgent {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${proxy.port}`, token: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, requestTls: { ca: proxy.ca } });
  agents.push(agent);
  return agent;
}

function sdk(agent: ProxyAgent): OpenAI {
  return new OpenAI({ apiKey: 'sk-proj-revoked-0123456789abcdef', maxRetries: 0, fetchOptions: { dispatcher: agent } as never });
}

const ask = (c: OpenAI) => c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

/** One request on the agent's open connection: its status and llmtap error code. */
async function raw(agent: ProxyAgent): Promise<{ status: number; code: unknown }> {
  const res = await request('https://api.openai.com/v1/chat/completions', { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) });
  await res.body.dump();
  return { status: res.statusCode, code: res.headers['x-llmtap-error'] };
}

async function reload(lines: string[]): Promise<void> {
  writeFileSync(usersFile, `${lines.join('\n')}\n`);
  const mark = proxy.logs().length;
  proxy.child.kill('SIGHUP');
  await proxy.waitLog(mark, 'config reloaded');
}

beforeAll(async () => {
  fake = await startFakeProvider();
  const dir = mkdtempSync(join(tmpdir(), 'llmtap-revoked-'));
  usersFile = join(dir, 'users.txt');
  writeFileSync(usersFile, `${await hashPasswordLine('alice', 'alice-pass')}\n${await hashPasswordLine('bob', 'bob-pass')}\n`);
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ authFile: usersFile }));
  proxy = await startCliProxy(fake, ['--config', config]);
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.close();
  await proxy?.stop();
  await fake?.close();
});

describe('a reload that removes a user or changes a password', () => {
  it('refuses the next request on an open connection with 407; users left as they were go on', async () => {
    const aliceAgent = agentFor('alice', 'alice-pass');
    const alice = sdk(aliceAgent);
    const bob = agentFor('bob', 'bob-pass');
    await ask(alice);
    expect(await raw(bob)).toEqual({ status: 200, code: undefined });
    const seen = fake.seen.length;
    // Alice's line is written again (same password, new salt); Bob's goes.
    await reload([await hashPasswordLine('alice', 'alice-pass')]);
    expect(await raw(bob)).toEqual({ status: 407, code: 'proxy_auth_required' });
    expect((await ask(alice)).choices[0]?.message.content).toBeTruthy();
    expect(fake.seen.length).toBe(seen + 1); // Bob's request never went upstream
    expect(await proxy.waitLog(0, 'proxy login refused')).toMatchObject({ reason: 'unknown_user', via: 'connection' });

    // A new password: the old one stops working on the open connection as well.
    await reload([await hashPasswordLine('alice', 'alice-new-pass')]);
    expect(await raw(aliceAgent)).toEqual({ status: 407, code: 'proxy_auth_required' });
    expect((await ask(sdk(agentFor('alice', 'alice-new-pass')))).choices[0]?.message.content).toBeTruthy();
  }, 30_000);
});
