import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const POLICY = `
rules:
  - {id: no-gpt5, action: deny, match: {model: "gpt-5*"}}
  - {id: no-opus, action: deny, match: {model: "claude-opus-*"}}
  - {id: watch-o3, mode: monitor, action: deny, match: {model: o3}}
  - {id: no-keys-out, match: {model: gpt-4.1}, redact: {detectors: [api_key], action: block}}
  - {id: no-pii-out, match: {model: gpt-4.1-strict}, redact: {detectors: [email, card], action: block}}
  - {id: legacy-pii, match: {path: /v1/completions}, redact: {detectors: [email], action: block}}
  - {id: pii, match: {api: [chat.completions, messages]}, redact: {detectors: [email, card]}}
  - {id: slow, match: {model: "*-limited"}, rateLimit: {requestsPerMinute: 1, per: model}}
`;
const EMAIL = 'jane.roe@example.org';
const CARD = '4111 1111 1111 1111';

let fake: FakeProvider;
let tp: TestProxy;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { policy: loadPolicyText(POLICY, 'policy.yaml') });
  const common = { fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 };
  openai = new OpenAI({ apiKey: 'sk-test-openai-policy-0123456789abcdef', ...common });
  anthropic = new Anthropic({ apiKey: 'sk-ant-test-policy-0123456789abcdef', ...common });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const seenModels = (): unknown[] => fake.seen.map((s) => (s.body.length > 0 ? (JSON.parse(s.body.toString()) as { model?: string }).model : undefined));
const byModel = (model: string) => eventually(() => {
  const rec = exported(tp).find((e) => e.model === model);
  if (!rec) throw new Error(`${model} not recorded`);
  return rec;
});

describe('policy through the proxy with the official SDKs', () => {
  it('a denied model: each SDK raises its own PermissionDeniedError; nothing reaches the provider', async () => {
    const a = await openai.chat.completions.create({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const oe = a as InstanceType<typeof OpenAI.PermissionDeniedError>;
    expect([oe.status, oe.code, oe.headers?.get('x-llmtap-error')]).toEqual([403, 'model_not_allowed', 'model_not_allowed']);
    // What the developer reads: which rule, and the model it refused.
    expect(oe.message).toContain('the model "gpt-5" is not allowed by llmtap policy rule "no-gpt5"');
    const b = await anthropic.messages.create({ model: 'claude-opus-4-1', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(b).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((b as InstanceType<typeof Anthropic.PermissionDeniedError>).error).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    expect(seenModels()).not.toContain('gpt-5');
    expect(seenModels()).not.toContain('claude-opus-4-1');
    const rec = await byModel('gpt-5');
    expect([rec.outcome, rec.error_code, rec.status]).toEqual(['blocked', 'model_not_allowed', 403]);
    expect(rec.policy).toEqual({ decisions: [{ rule: 'no-gpt5', kind: 'access', action: 'deny', enforced: true }], blocked: 'model_not_allowed' });
  });

  it('monitor mode: the request goes through and the record says what would have happened', async () => {
    const done = await openai.chat.completions.create({ model: 'o3', messages: [{ role: 'user', content: 'hi' }] });
    expect(done.model).toBe('o3');
    const rec = await byModel('o3');
    expect(rec.outcome).toBe('completed');
    expect(rec.policy).toEqual({ decisions: [{ rule: 'watch-o3', kind: 'access', action: 'deny', enforced: false }] });
  });

  it('rate limit: the second request in a minute is a RateLimitError with Retry-After; no upstream call', async () => {
    await openai.chat.completions.create({ model: 'gpt-4o-limited', messages: [{ role: 'user', content: 'hi' }] });
    const before = fake.seen.length;
    const err = await openai.chat.completions.create({ model: 'gpt-4o-limited', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const re = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect([re.headers?.get('retry-after'), re.headers?.get('x-llmtap-error')]).toEqual(['60', 'rate_limited']);
    expect(re.message).toMatch(/rate limited by llmtap policy rule "[^"]+": requests per minute for \S+; retry in 60s/);
    const aerr = await anthropic.messages.create({ model: 'claude-haiku-limited', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).then(() => anthropic.messages.create({ model: 'claude-haiku-limited', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })).catch((e: unknown) => e);
    expect(aerr).toBeInstanceOf(Anthropic.RateLimitError);
    expect(fake.seen.length).toBe(before + 1); // only the first Anthropic call went out
  });

  it('redaction: the provider gets placeholders, the archive keeps detectors and places, never the value', async () => {
    const before = fake.seen.length;
    const reply = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: `mail ${EMAIL}, card ${CARD}, again ${EMAIL}` }] });
    expect(reply.choices[0]?.message.content).toBeTruthy();
    const sent = JSON.parse(fake.seen[before]!.body.toString()) as { messages: { content: string }[] };
    expect(sent.messages[1]!.content).toBe('mail [REDACTED:email:1], card [REDACTED:card:1], again [REDACTED:email:1]');
    expect(Number(fake.seen[before]!.rawHeaders[fake.seen[before]!.rawHeaders.findIndex((h) => h.toLowerCase() === 'content-length') + 1])).toBe(fake.seen[before]!.body.length);
    await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, system: `ops: ${EMAIL}`, messages: [{ role: 'user', content: [{ type: 'text', text: `pay with ${CARD}` }] }] });
    const sentA = JSON.parse(fake.seen[before + 1]!.body.toString()) as { system: string; messages: { content: { text: string }[] }[] };
    expect([sentA.system, sentA.messages[0]!.content[0]!.text]).toEqual(['ops: [REDACTED:email:1]', 'pay with [REDACTED:card:1]']);

    const rec = await byModel('gpt-4o-mini');
    expect(rec.policy).toEqual({ decisions: [{ rule: 'pii', kind: 'redact', action: 'replace', enforced: true, hits: [{ detector: 'email', at: 'messages[1].content', count: 2 }, { detector: 'card', at: 'messages[1].content', count: 1 }] }], bodyChanged: true });
    expect(rec.request.body).toContain('[REDACTED:email:1]');
    await byModel('claude-sonnet-4-5');
    tp.proxy.recorder.flush();
    // A byte search of the archive files (database and WAL) finds neither value.
    for (const f of readdirSync(tp.home).filter((n) => n.startsWith('llmtap.db'))) {
      const bytes = readFileSync(`${tp.home}/${f}`);
      expect(bytes.includes(EMAIL), f).toBe(false);
      expect(bytes.includes(CARD), f).toBe(false);
    }
  });

  it('redact with action block: BadRequestError, content_blocked, nothing sent', async () => {
    const before = fake.seen.length;
    const err = await openai.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'deploy with sk-proj-abcdefghijklmnopqrstuvwxyz012345' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).headers?.get('x-llmtap-error')).toBe('content_blocked');
    // The detector and where it fired; never the key itself.
    expect((err as Error).message).toContain('the request holds api_key (at messages[0].content) that llmtap policy rule "no-keys-out" does not let leave this machine');
    expect((err as Error).message).not.toContain('sk-proj-abcdef');
    expect(fake.seen.length).toBe(before);
    const rec = await byModel('gpt-4.1');
    expect(rec.policy).toMatchObject({ blocked: 'content_blocked', decisions: [{ rule: 'no-keys-out', action: 'block', hits: [{ detector: 'api_key', at: 'messages[0].content', count: 1 }] }] });
  });

  it('a request a block rule refused is archived with placeholders, never with what the rule said must not leave', async () => {
    const before = fake.seen.length;
    const err = await openai.chat.completions.create({ model: 'gpt-4.1-strict', messages: [{ role: 'user', content: `charge ${CARD} and mail ${EMAIL}` }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(fake.seen.length).toBe(before);
    const rec = await byModel('gpt-4.1-strict');
    expect(rec.policy).toMatchObject({ blocked: 'content_blocked', bodyChanged: true });
    expect(rec.request.body).toContain('charge [REDACTED:card:1] and mail [REDACTED:email:1]');
    // A text Completions prompt is message text too.
    const legacy = await undiciFetch('https://api.openai.com/v1/completions', { method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body: JSON.stringify({ model: 'gpt-4.1-strict', prompt: `mail ${EMAIL}` }) });
    expect([legacy.status, legacy.headers.get('x-llmtap-error')]).toEqual([400, 'content_blocked']);
    await legacy.arrayBuffer();
    expect(fake.seen.length).toBe(before);
    tp.proxy.recorder.flush();
    for (const f of readdirSync(tp.home).filter((n) => n.startsWith('llmtap.db'))) {
      const bytes = readFileSync(`${tp.home}/${f}`);
      expect(bytes.includes(EMAIL), f).toBe(false);
      expect(bytes.includes(CARD), f).toBe(false);
    }
  });

  it('a body a redact rule found nothing in reaches the provider byte for byte', async () => {
    const before = fake.seen.length;
    // Odd spacing, key order and escapes that a re-serialisation would change.
    const raw = '{ "messages" : [ {"content":"caf\\u00e9 \\/ ok","role":"user"} ],\n  "model":"gpt-4o-nopii" }';
    const res = await undiciFetch('https://api.openai.com/v1/chat/completions', { method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body: raw });
    await res.arrayBuffer();
    expect(fake.seen[before]!.body.toString()).toBe(raw);
    // No redact rule for embeddings: even text a detector would catch goes up as sent.
    const emb = `{"model":"text-embedding-3-small",  "input":"${EMAIL}"}`;
    const r2 = await undiciFetch('https://api.openai.com/v1/embeddings', { method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body: emb });
    await r2.arrayBuffer();
    expect(fake.seen[before + 1]!.body.toString()).toBe(emb);
  });

  it('a gzip-encoded body with something to redact goes up decoded, redacted, with its own length', async () => {
    const before = fake.seen.length;
    const body = gzipSync(JSON.stringify({ model: 'gpt-4o-gz', messages: [{ role: 'user', content: `ping ${EMAIL}` }] }));
    const res = await undiciFetch('https://api.openai.com/v1/chat/completions', { method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: 'Bearer sk-test' }, body });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const seen = fake.seen[before]!;
    const header = (name: string) => seen.rawHeaders[seen.rawHeaders.findIndex((h) => h.toLowerCase() === name) + 1];
    expect(seen.body.toString()).toBe('{"model":"gpt-4o-gz","messages":[{"role":"user","content":"ping [REDACTED:email:1]"}]}');
    expect([seen.rawHeaders.some((h) => h.toLowerCase() === 'content-encoding'), Number(header('content-length'))]).toEqual([false, seen.body.length]);
  });
});
