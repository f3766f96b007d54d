import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { ANTHROPIC_TEXT, OPENAI_TEXT, startFakeProvider, type FakeProvider, type SeenRequest } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

// Distinctive values, not key-shaped, so the byte search below proves they were never written (not merely redacted).
const BACKUP_KEY = 'injected-backup-credential-4f1d2c';
const OPENAI_KEY = 'injected-openai-credential-9a8b7c';
const CLIENT_LOGIN = 'client-sends-only-its-proxy-login';
const GEMINI_KEY = 'injected-gemini-credential-5e6f7a';
const CLIENT_GEMINI_KEY = 'AIzaSyClientOwnKey0123456789abcdefghijk';

let primary: FakeProvider;
let backup: FakeProvider;
let local: FakeProvider;
let untrusted: FakeProvider;
let tp: TestProxy;
let openai: OpenAI;
let anthropic: Anthropic;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  primary = await startFakeProvider();
  backup = await startFakeProvider({ ca: primary.ca, hosts: ['backup.example'] });
  local = await startFakeProvider({ tls: false });
  untrusted = await startFakeProvider({ hosts: ['untrusted.example'] }); // its own CA, which the proxy is not told about
  process.env.LLMTAP_ROUTE_TEST_BACKUP_KEY = BACKUP_KEY;
  process.env.LLMTAP_ROUTE_TEST_OPENAI_KEY = OPENAI_KEY;
  process.env.LLMTAP_ROUTE_TEST_GEMINI_KEY = GEMINI_KEY;
  const policy = loadPolicyText(`rules:
  - {id: to-local, match: {model: "local-*"}, route: {upstream: "http://127.0.0.1:${local.port}", model: llama3.1, pathPrefix: /openai}}
  - {id: untrusted, match: {model: "untrusted-*"}, route: {upstream: "https://untrusted.example"}}
  - {id: dead-primary, match: {model: "dead-*"}, route: {upstream: "https://127.0.0.1:1"}}
  - {id: smaller, match: {model: gpt-4o-big}, route: {model: gpt-4o-mini}}
  - {id: openai-backup, match: {provider: openai}, fallback: {upstreams: ["https://backup.example"]}}
  - {id: claude-backup, match: {provider: anthropic}, fallback: {upstreams: ["https://backup.example"], on: [529]}}
  - {id: backup-key, match: {host: backup.example}, credentials: {fromEnv: LLMTAP_ROUTE_TEST_BACKUP_KEY, header: x-api-key}}
  - {id: openai-key, match: {host: api.openai.com}, credentials: {fromEnv: LLMTAP_ROUTE_TEST_OPENAI_KEY}}
  - {id: gemini-key, match: {provider: gemini}, credentials: {fromEnv: LLMTAP_ROUTE_TEST_GEMINI_KEY}}
`, 'policy.yaml');
  const connectTo = [...FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${primary.port}`)), parseConnectTo(`backup.example:443:127.0.0.1:${backup.port}`), parseConnectTo(`untrusted.example:443:127.0.0.1:${untrusted.port}`), parseConnectTo(`generativelanguage.googleapis.com:443:127.0.0.1:${primary.port}`)];
  const destination = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  tp = await startTestProxy(primary, { policy, connectTo }, { logger: createLogger({ level: 'info', destination }) });
  const common = { fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 };
  openai = new OpenAI({ apiKey: CLIENT_LOGIN, ...common });
  anthropic = new Anthropic({ apiKey: CLIENT_LOGIN, ...common });
});
afterEach(() => {
  primary.failStatus = undefined;
});
afterAll(async () => {
  await tp?.close();
  await Promise.all([primary?.close(), backup?.close(), local?.close(), untrusted?.close()]);
});

const header = (seen: SeenRequest, name: string): string[] => seen.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1]!.toLowerCase() === name);
const byModel = (model: string) => eventually(() => {
  const rec = exported(tp).find((e) => e.model === model);
  if (!rec) throw new Error(`${model} not recorded`);
  return rec;
});

describe('route, fallback and credentials through the proxy with the official SDKs', () => {
  it('OpenAI: a 503 from the primary goes, with the same body bytes, to the backup; the client only sees the answer', async () => {
    primary.failStatus = 503;
    const [p0, b0] = [primary.seen.length, backup.seen.length];
    const reply = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello backup' }] });
    expect(reply.choices[0]!.message.content).toBe(OPENAI_TEXT);
    const [first, second] = [primary.seen[p0]!, backup.seen[b0]!];
    expect(second.body.equals(first.body)).toBe(true);
    expect([second.url, header(second, 'host'), second.servername]).toEqual(['/v1/chat/completions', ['backup.example'], 'backup.example']);
    // Each upstream gets its own credential; the client's login goes to neither.
    expect([header(first, 'authorization'), header(first, 'x-api-key')]).toEqual([[`Bearer ${OPENAI_KEY}`], []]);
    expect([header(second, 'x-api-key'), header(second, 'authorization')]).toEqual([[BACKUP_KEY], []]);
    const rec = await byModel('gpt-4o');
    expect([rec.status, rec.outcome]).toEqual([200, 'completed']);
    // One warn line says which rule moved the request, from where, why, and to where.
    expect(logs.filter((l) => l.exchange === rec.id && String(l.msg).startsWith('fallback'))).toEqual([expect.objectContaining({
      level: 40, rule: 'openai-backup', from: 'https://api.openai.com', status: 503, to: 'https://backup.example', path: '/v1/chat/completions',
    })]);
    expect(rec.policy).toMatchObject({ attempts: [
      { upstream: 'https://api.openai.com', status: 503, result: 'retried' },
      { upstream: 'https://backup.example', status: 200, result: 'answered' },
    ] });
    expect((rec.policy as { decisions: unknown[] }).decisions).toEqual(expect.arrayContaining([
      { rule: 'openai-key', kind: 'credentials', action: 'inject', enforced: true, upstream: 'https://api.openai.com', header: 'authorization', source: 'env:LLMTAP_ROUTE_TEST_OPENAI_KEY' },
      { rule: 'backup-key', kind: 'credentials', action: 'inject', enforced: true, upstream: 'https://backup.example', header: 'x-api-key', source: 'env:LLMTAP_ROUTE_TEST_BACKUP_KEY' },
    ]));
  });

  it('Anthropic: a 529 overload falls back; a 503 (not in `on`) reaches the client as the provider sent it', async () => {
    primary.failStatus = 529;
    const b0 = backup.seen.length;
    const msg = await anthropic.messages.create({ model: 'claude-fallback-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: ANTHROPIC_TEXT });
    expect(backup.seen.length).toBe(b0 + 1);
    const rec = await byModel('claude-fallback-test');
    expect(rec.policy).toMatchObject({ attempts: [{ upstream: 'https://api.anthropic.com', status: 529, result: 'retried' }, { upstream: 'https://backup.example', status: 200, result: 'answered' }] });

    primary.failStatus = 503;
    const err = await anthropic.messages.create({ model: 'claude-no-fallback-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as InstanceType<typeof Anthropic.InternalServerError>).headers?.get('x-llmtap-error')).toBeNull();
    expect(backup.seen.length).toBe(b0 + 1);
    const failed = await byModel('claude-no-fallback-test');
    expect(failed.policy).toMatchObject({ attempts: [{ upstream: 'https://api.anthropic.com', status: 503, result: 'answered' }] });
  });

  it('a primary that refuses the connection: the backup answers, the record names the error', async () => {
    const reply = await openai.chat.completions.create({ model: 'dead-model', messages: [{ role: 'user', content: 'x' }] });
    expect(reply.choices[0]!.message.content).toBe(OPENAI_TEXT);
    const rec = await byModel('dead-model');
    expect(rec.policy).toMatchObject({
      route: { from: { upstream: 'https://api.openai.com', model: 'dead-model' }, to: { upstream: 'https://127.0.0.1:1', model: 'dead-model' } },
      attempts: [{ upstream: 'https://127.0.0.1:1', error: 'upstream_unreachable', result: 'retried' }, { upstream: 'https://backup.example', status: 200, result: 'answered' }],
    });
    expect(logs.find((l) => l.exchange === rec.id && String(l.msg).startsWith('fallback'))).toMatchObject({ rule: 'openai-backup', from: 'https://127.0.0.1:1', error: 'upstream_unreachable', to: 'https://backup.example' });
  });

  it('a routed upstream is verified like any other: an unknown CA is a 502 upstream_tls, never a fallback', async () => {
    const [b0, u0] = [backup.seen.length, untrusted.seen.length];
    const err = await openai.chat.completions.create({ model: 'untrusted-model', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    expect([e.status, e.headers?.get('x-llmtap-error')]).toEqual([502, 'upstream_tls']);
    expect([backup.seen.length, untrusted.seen.length]).toEqual([b0, u0]);
    const rec = await byModel('untrusted-model');
    expect(rec.policy).toMatchObject({ attempts: [{ upstream: 'https://untrusted.example', error: 'upstream_tls', result: 'failed' }] });
  });

  it('route to a local OpenAI-compatible server over plain HTTP, with another model and a path prefix', async () => {
    const l0 = local.seen.length;
    const reply = await openai.chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'run locally' }], temperature: 0.25 });
    expect(reply.choices[0]!.message.content).toBe(OPENAI_TEXT);
    const seen = local.seen[l0]!;
    expect([seen.url, header(seen, 'host')]).toEqual(['/openai/v1/chat/completions', [`127.0.0.1:${local.port}`]]);
    expect(seen.body.toString()).toBe('{"model":"llama3.1","messages":[{"role":"user","content":"run locally"}],"temperature":0.25}');
    expect(header(seen, 'content-length')).toEqual([String(seen.body.length)]);
    const rec = await byModel('local-llama');
    expect(rec.policy).toMatchObject({
      decisions: expect.arrayContaining([{ rule: 'to-local', kind: 'route', action: 'route', enforced: true, upstream: `http://127.0.0.1:${local.port}`, model: 'llama3.1', pathPrefix: '/openai' }]),
      route: { from: { upstream: 'https://api.openai.com', model: 'local-llama' }, to: { upstream: `http://127.0.0.1:${local.port}`, model: 'llama3.1' } },
    });
    // The archive keeps what the client asked for; the route says what went upstream.
    expect(rec.request.body).toContain('"local-llama"');
  });

  it('a model route on the same host changes only the model bytes', async () => {
    const p0 = primary.seen.length;
    const raw = '{ "messages" : [ {"content":"caf\\u00e9","role":"user"} ],\n  "model":"gpt-4o-big" }';
    const res = await undiciFetch('https://api.openai.com/v1/chat/completions', { method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json' }, body: raw });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(primary.seen[p0]!.body.toString()).toBe(raw.replace('gpt-4o-big', 'gpt-4o-mini'));
  });

  it('`show` prints where the exchange went and every upstream tried (dist/ build)', async () => {
    const rec = await byModel('dead-model');
    const { stdout } = await promisify(execFile)('node', [resolve('dist/cli/main.js'), '--home', tp.home, 'show', rec.id]);
    // Under the turn's heading line, for the exchange that fell back.
    const turn = stdout.split('\n').findIndex((l) => l.startsWith('── turn') && l.includes('dead-model'));
    const below = stdout.split('\n').slice(turn + 1);
    expect(below.slice(0, 3)).toEqual([
      '   policy: dead-primary · route · to https://127.0.0.1:1',
      '   policy: openai-backup · fallback · https://backup.example on connect_error, 429, 5xx',
      '   policy: backup-key · credentials inject · x-api-key from env:LLMTAP_ROUTE_TEST_BACKUP_KEY for https://backup.example',
    ]);
    expect(below.slice(3, 5)).toEqual([
      '   routed: https://api.openai.com dead-model → https://127.0.0.1:1 dead-model',
      "   attempts: https://127.0.0.1:1 upstream_unreachable retried (client's authorization withheld) → https://backup.example 200 answered",
    ]);
  });

  it('Gemini: the injected key replaces the client\'s ?key= (only one key goes up, the team\'s)', async () => {
    const p0 = primary.seen.length;
    const res = await undiciFetch(`https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=${CLIENT_GEMINI_KEY}&alt=sse`, {
      method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json' }, body: '{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}',
    });
    expect(res.status).toBe(200);
    await res.text();
    const seen = primary.seen[p0]!;
    expect([seen.url, header(seen, 'x-goog-api-key')]).toEqual(['/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', [GEMINI_KEY]]);
    const rec = await byModel('gemini-2.5-flash');
    expect(rec.path).not.toContain(CLIENT_GEMINI_KEY);
  });

  it('the injected credentials are in no archive file (database and WAL)', async () => {
    await byModel('gpt-4o');
    tp.proxy.recorder.flush();
    const files = readdirSync(tp.home).filter((n) => n.startsWith('llmtap.db'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = readFileSync(`${tp.home}/${f}`);
      expect(bytes.includes(BACKUP_KEY), f).toBe(false);
      expect(bytes.includes(OPENAI_KEY), f).toBe(false);
      expect(bytes.includes(GEMINI_KEY), f).toBe(false);
      expect(bytes.includes(CLIENT_GEMINI_KEY), f).toBe(false);
    }
    // Nor in any log line.
    const logged = JSON.stringify(logs);
    for (const secret of [BACKUP_KEY, OPENAI_KEY, GEMINI_KEY, CLIENT_GEMINI_KEY]) expect(logged.includes(secret)).toBe(false);
  });
});
