import Anthropic from '@anthropic-ai/sdk';
import { fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { ANTHROPIC_TEXT, startFakeProvider, type FakeProvider, type SeenRequest } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

// A client's provider key must reach only the origin it was sent for: a route or a
// fallback to another origin gets no client key, only the one a credentials rule gives it.
const CLIENT_OPENAI_KEY = 'sk-client-own-openai-key-0123456789abcdef';
const CLIENT_ANTHROPIC_KEY = 'sk-ant-client-own-anthropic-key-0123456789';
const CLIENT_AZURE_KEY = 'client-own-azure-key-0123456789abcdef';
const CLIENT_GEMINI_KEY = 'AIzaSyClientOwnKey0123456789abcdefghijk';
const KEYED_KEY = 'injected-keyed-credential-3c2b1a';
const CLIENT_KEYS = [CLIENT_OPENAI_KEY, CLIENT_ANTHROPIC_KEY, CLIENT_AZURE_KEY, CLIENT_GEMINI_KEY];
const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key'];

let primary: FakeProvider;
let backup: FakeProvider;
let keyed: FakeProvider;
let local: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  primary = await startFakeProvider();
  backup = await startFakeProvider({ ca: primary.ca, hosts: ['backup.example'] });
  keyed = await startFakeProvider({ ca: primary.ca, hosts: ['keyed.example'] });
  local = await startFakeProvider({ tls: false });
  process.env.LLMTAP_KEYS_TEST_KEYED = KEYED_KEY;
  const policy = loadPolicyText(`rules:
  - {id: to-local, match: {model: "local-*"}, route: {upstream: "http://127.0.0.1:${local.port}"}}
  - {id: gemini-local, match: {provider: gemini}, route: {upstream: "http://127.0.0.1:${local.port}"}}
  - {id: to-keyed, match: {model: "keyed-*"}, route: {upstream: "https://keyed.example"}}
  - {id: claude-backup, match: {provider: anthropic}, fallback: {upstreams: ["https://backup.example", "https://keyed.example"], on: [529]}}
  - {id: keyed-key, match: {host: keyed.example}, credentials: {fromEnv: LLMTAP_KEYS_TEST_KEYED, header: x-api-key}}
`, 'policy.yaml');
  const connectTo = [
    ...FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${primary.port}`)),
    parseConnectTo(`generativelanguage.googleapis.com:443:127.0.0.1:${primary.port}`),
    parseConnectTo(`backup.example:443:127.0.0.1:${backup.port}`),
    parseConnectTo(`keyed.example:443:127.0.0.1:${keyed.port}`),
  ];
  tp = await startTestProxy(primary, { policy, connectTo });
});
afterEach(() => {
  primary.failStatus = undefined;
  backup.failStatus = undefined;
});
afterAll(async () => {
  await tp?.close();
  await Promise.all([primary?.close(), backup?.close(), keyed?.close(), local?.close()]);
});

const header = (seen: SeenRequest, name: string): string[] => seen.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1]!.toLowerCase() === name);
const credentialsSeen = (seen: SeenRequest): Record<string, string[]> => Object.fromEntries(CREDENTIAL_HEADERS.map((h) => [h, header(seen, h)]));
const noClientKey = (seen: SeenRequest): void => {
  const wire = `${seen.url}\n${seen.rawHeaders.join('\n')}`;
  for (const key of CLIENT_KEYS) expect(wire.includes(key), `${key} reached ${header(seen, 'host')[0]}`).toBe(false);
};
const byModel = (model: string) => eventually(() => {
  const rec = exported(tp).find((e) => e.model === model);
  if (!rec) throw new Error(`${model} not recorded`);
  return rec;
});

/** A Chat Completions request carrying every provider credential header a client might send. */
async function chat(model: string): Promise<void> {
  const res = await undiciFetch('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: tp.agent,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_OPENAI_KEY}`, 'x-api-key': CLIENT_ANTHROPIC_KEY, 'api-key': CLIENT_AZURE_KEY, 'x-goog-api-key': CLIENT_GEMINI_KEY },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

describe('a hop to another origin never gets the client\'s provider key', () => {
  it('route: the other origin gets no client key (or the credentials rule\'s); the original origin still gets the client\'s', async () => {
    const [p0, l0, k0] = [primary.seen.length, local.seen.length, keyed.seen.length];
    await chat('gpt-4o');
    await chat('local-llama');
    await chat('keyed-model');
    // Not routed: the request goes where the client sent it, with its own keys.
    expect(credentialsSeen(primary.seen[p0]!)).toEqual({ authorization: [`Bearer ${CLIENT_OPENAI_KEY}`], 'x-api-key': [CLIENT_ANTHROPIC_KEY], 'api-key': [CLIENT_AZURE_KEY], 'x-goog-api-key': [CLIENT_GEMINI_KEY] });
    // Routed to a local server in clear text: no credential header at all.
    const toLocal = local.seen[l0]!;
    expect(credentialsSeen(toLocal)).toEqual({ authorization: [], 'x-api-key': [], 'api-key': [], 'x-goog-api-key': [] });
    noClientKey(toLocal);
    // Routed to a host with a credentials rule: that key only.
    const toKeyed = keyed.seen[k0]!;
    expect(credentialsSeen(toKeyed)).toEqual({ authorization: [], 'x-api-key': [KEYED_KEY], 'api-key': [], 'x-goog-api-key': [] });
    noClientKey(toKeyed);
    // The record says what was held back (names, never values).
    const rec = await byModel('local-llama');
    expect(rec.policy).toMatchObject({ route: { to: { upstream: `http://127.0.0.1:${local.port}`, withheld: ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key'] } } });
    expect((await byModel('keyed-model')).policy).toMatchObject({ route: { to: { upstream: 'https://keyed.example' } } });
    expect(((await byModel('keyed-model')).policy as { route: { to: object } }).route.to).not.toHaveProperty('withheld');
  });

  it('route: Gemini\'s ?key= and x-goog-api-key stay behind; the rest of the query goes', async () => {
    const l0 = local.seen.length;
    const res = await undiciFetch(`https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent?key=${CLIENT_GEMINI_KEY}&alt=json`, {
      method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json', 'x-goog-api-key': CLIENT_GEMINI_KEY },
      body: '{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}',
    });
    await res.arrayBuffer();
    const seen = local.seen[l0]!;
    expect(seen.url).toBe('/v1beta/models/gemini-2.5-flash:generateContent?alt=json');
    expect(header(seen, 'x-goog-api-key')).toEqual([]);
    noClientKey(seen);
    const rec = await byModel('gemini-2.5-flash');
    expect(rec.policy).toMatchObject({ route: { to: { withheld: ['x-goog-api-key', '?key'] } } });
  });

  it('fallback: a backup without a credentials rule gets no client key, one with a rule gets its key, the primary the client\'s', async () => {
    primary.failStatus = 529;
    backup.failStatus = 529;
    const [p0, b0, k0] = [primary.seen.length, backup.seen.length, keyed.seen.length];
    const anthropic = new Anthropic({ apiKey: CLIENT_ANTHROPIC_KEY, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const msg = await anthropic.messages.create({ model: 'claude-keys-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: ANTHROPIC_TEXT });
    // The SDK sends its key as x-api-key or authorization (by version): the primary gets it as sent.
    expect([...header(primary.seen[p0]!, 'x-api-key'), ...header(primary.seen[p0]!, 'authorization')].join()).toContain(CLIENT_ANTHROPIC_KEY);
    expect(credentialsSeen(backup.seen[b0]!)).toEqual({ authorization: [], 'x-api-key': [], 'api-key': [], 'x-goog-api-key': [] });
    noClientKey(backup.seen[b0]!);
    expect(credentialsSeen(keyed.seen[k0]!)).toEqual({ authorization: [], 'x-api-key': [KEYED_KEY], 'api-key': [], 'x-goog-api-key': [] });
    noClientKey(keyed.seen[k0]!);
    const rec = await byModel('claude-keys-test');
    expect((rec.policy as { attempts: unknown[] }).attempts).toEqual([
      { upstream: 'https://api.anthropic.com', status: 529, result: 'retried' },
      { upstream: 'https://backup.example', status: 529, result: 'retried', withheld: [expect.stringMatching(/^(x-api-key|authorization)$/)] },
      { upstream: 'https://keyed.example', status: 200, result: 'answered' },
    ]);
  });
});
