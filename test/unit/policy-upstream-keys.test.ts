import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkConfig } from '../../src/cli/check-config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { makeExchange } from '../../src/exchange.js';
import { evaluateRouting, type Hop, type RoutingPlan } from '../../src/policy/routing.js';
import type { MatchFacts } from '../../src/policy/types.js';
import { credentialsForHop, credentialsOnlyHop, withHopCredential } from '../../src/proxy/fallback.js';
import { requestForHop, type BaseRequest } from '../../src/proxy/hop-request.js';

afterEach(() => vi.unstubAllEnvs());

const fails = (text: string): string => {
  try {
    loadPolicyText(text, 'policy.yaml');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('loaded');
};

describe('plain http:// upstreams: loopback only', () => {
  it('check-config refuses http:// to any other host, naming the file, line and key', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'llmtap-upstream-')), 'policy.yaml');
    writeFileSync(file, 'rules:\n  - id: remote\n    route: {upstream: "http://api.example.com"}\n');
    expect(() => checkConfig(file)).toThrow(`${file}:3: rules[0].route.upstream: "http://api.example.com": http:// only to a loopback host (127.0.0.0/8, ::1, localhost); use https://`);
  });

  it('fallback entries too, bare or with a model', () => {
    expect(fails('rules:\n  - fallback:\n      upstreams:\n        - "https://ok.example"\n        - "http://10.0.0.8:8080"\n'))
      .toBe('policy.yaml:5: rules[0].fallback.upstreams[1]: "http://10.0.0.8:8080": http:// only to a loopback host (127.0.0.0/8, ::1, localhost); use https://');
    expect(fails('rules:\n  - fallback: {upstreams: [{upstream: "http://[::2]:8080", model: m}]}\n'))
      .toBe('policy.yaml:2: rules[0].fallback.upstreams[0].upstream: "http://[::2]:8080": http:// only to a loopback host (127.0.0.0/8, ::1, localhost); use https://');
    expect(fails('rules:\n  - route: {upstream: "http://localhost.example.com:80"}\n')).toContain('http:// only to a loopback host');
    // A local server stays allowed, as does https:// anywhere.
    const ok = ['http://127.0.0.1:8080', 'http://127.9.8.7', 'http://[::1]:11434', 'http://localhost:11434', 'http://LOCALHOST', 'https://api.example.com'];
    for (const upstream of ok) expect(() => loadPolicyText(`rules:\n  - route: {upstream: "${upstream}"}\n  - fallback: {upstreams: ["${upstream}"]}\n`, 'policy.yaml'), upstream).not.toThrow();
  });
});

describe('the client\'s credentials and another origin', () => {
  const base: BaseRequest = {
    method: 'POST', path: '/v1beta/models/m:generateContent?key=AIzaClient&alt=sse', body: null, chunked: false,
    headers: ['Host', 'api.openai.com', 'Authorization', 'Bearer sk-client', 'X-Api-Key', 'k', 'api-key', 'a', 'x-goog-api-key', 'g', 'x-amz-security-token', 't', 'Cookie', 'c=1', 'Accept', '*/*'],
  };
  const other: Hop = { origin: { tls: true, host: 'backup.example', port: 443, label: 'https://backup.example' }, explicit: true };

  it('another origin gets none of them, and the names held back are said; the origin the client asked for gets them as sent', () => {
    const r = requestForHop(base, other);
    expect(r.headers).toEqual(['Host', 'backup.example', 'Accept', '*/*']);
    expect(r.path).toBe('/v1beta/models/m:generateContent?alt=sse');
    expect(r.withheld).toEqual(['authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'x-amz-security-token', 'cookie', '?key']);
    const own = requestForHop(base, { origin: { tls: true, host: 'api.openai.com', port: 443, label: 'https://api.openai.com' }, explicit: false });
    expect([own.path, own.headers, own.withheld]).toEqual([base.path, base.headers, undefined]);
  });

  it('a browser\'s Realtime key in the WebSocket subprotocols stays with its origin; the other subprotocols go', () => {
    const upgrade: BaseRequest = { method: 'GET', path: '/v1/realtime?model=gpt-realtime', body: null, chunked: false, headers: ['Host', 'api.openai.com', 'Sec-WebSocket-Protocol', 'realtime, openai-insecure-api-key.sk-browser-key, openai-beta.realtime-v1'] };
    const r = requestForHop(upgrade, other);
    expect(r.headers).toEqual(['Host', 'backup.example', 'Sec-WebSocket-Protocol', 'realtime, openai-beta.realtime-v1']);
    expect(r.withheld).toEqual(['sec-websocket-protocol']);
    const own = requestForHop(upgrade, { origin: { tls: true, host: 'api.openai.com', port: 443, label: 'https://api.openai.com' }, explicit: false });
    expect(own.headers).toEqual(upgrade.headers);
  });

  it('with a credentials rule for it, only that key (nothing said to be held back)', () => {
    const r = requestForHop(base, other, { header: 'x-api-key', value: 'team-key' });
    expect(r.headers).toEqual(['Host', 'backup.example', 'Accept', '*/*', 'x-api-key', 'team-key']);
    expect(r.withheld).toBeUndefined();
  });
});

describe('a plan that can only swap the credential (sent through the plain relay)', () => {
  const facts: MatchFacts = { provider: 'gemini', host: 'generativelanguage.googleapis.com', path: '/v1beta/models/m:generateContent', api: 'gemini.generateContent', model: 'm', client: '127.0.0.1' };
  const target = { tls: true, host: 'generativelanguage.googleapis.com', port: 443 };
  const headers = ['Host', target.host, 'x-goog-api-key', 'AIzaClient', 'Accept', '*/*'];
  const path = '/v1beta/models/m:generateContent?key=AIzaClient&alt=sse';

  it('goes up with the headers and path forwardPlanned\'s one hop gets, and records the same decision', () => {
    vi.stubEnv('LLMTAP_SWAP_TEST_KEY', 'team-key');
    const policy = loadPolicyText('rules:\n  - {id: gemini-key, match: {provider: gemini}, credentials: {fromEnv: LLMTAP_SWAP_TEST_KEY}}\n', 'policy.yaml');
    const plan = evaluateRouting(policy, facts, target).plan!;
    const hop = credentialsOnlyHop(plan)!;
    expect(hop).toBeDefined();
    const ex = makeExchange({});
    const sent = withHopCredential({ policy, facts }, hop, ex, headers, path);
    const record = { decisions: [] };
    const expected = requestForHop({ method: 'POST', path, headers, body: null, chunked: false }, hop, credentialsForHop({ policy, facts }, hop, record, false));
    expect(sent).toEqual({ headers: expected.headers, path: expected.path });
    expect(sent).toEqual({ headers: ['Host', target.host, 'Accept', '*/*', 'x-goog-api-key', 'team-key'], path: '/v1beta/models/m:generateContent?alt=sse' });
    expect(ex.policy).toEqual(record);
    // A monitor rule injects nothing: the request goes as sent, the decision is still recorded.
    const monitor = loadPolicyText('rules:\n  - {id: gemini-key, mode: monitor, match: {provider: gemini}, credentials: {fromEnv: LLMTAP_SWAP_TEST_KEY}}\n', 'policy.yaml');
    const watched = makeExchange({});
    expect(withHopCredential({ policy: monitor, facts }, credentialsOnlyHop(evaluateRouting(monitor, facts, target).plan!)!, watched, headers, path)).toEqual({ headers, path });
    expect(watched.policy?.decisions.map((d) => [d.rule, d.enforced])).toEqual([['gemini-key', false]]);
  });

  it('any other plan (a model, a path prefix, another origin, a fallback) takes forwardPlanned\'s way', () => {
    const origin = { tls: true, host: target.host, port: 443, label: 'https://generativelanguage.googleapis.com' };
    const one = (hop: Hop, triggers?: RoutingPlan['triggers']): RoutingPlan => ({ hops: [hop], triggers });
    expect(credentialsOnlyHop(one({ origin, explicit: false }))).toBeDefined();
    expect(credentialsOnlyHop(one({ origin, explicit: false, model: 'other' }))).toBeUndefined();
    expect(credentialsOnlyHop(one({ origin, explicit: false, pathPrefix: '/p' }))).toBeUndefined();
    expect(credentialsOnlyHop(one({ origin: { ...origin, host: 'backup.example', label: 'https://backup.example' }, explicit: true }))).toBeUndefined();
    expect(credentialsOnlyHop(one({ origin, explicit: false }, { status: () => true, connectError: true, names: ['5xx'] }))).toBeUndefined();
    expect(credentialsOnlyHop({ hops: [{ origin, explicit: false }, { origin, explicit: false }] })).toBeUndefined();
  });
});
