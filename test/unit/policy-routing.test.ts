import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkConfig } from '../../src/cli/check-config.js';
import { makeExchange } from '../../src/exchange.js';
import { summarize } from '../../src/policy/compile.js';
import { PolicyBuckets } from '../../src/policy/evaluate.js';
import { applyPolicy } from '../../src/policy/stage.js';
import { loadPolicyFile, loadPolicyText } from '../../src/policy/load.js';
import { rewriteModel } from '../../src/policy/model-rewrite.js';
import { routingLines } from '../../src/policy/routing-lines.js';
import { credentialFor, evaluateRouting, type Hop, type RoutingPlan } from '../../src/policy/routing.js';
import type { MatchFacts } from '../../src/policy/types.js';
import { nextStep } from '../../src/proxy/fallback.js';
import { requestForHop, withoutKeyParam, type BaseRequest } from '../../src/proxy/hop-request.js';
import type { RelayResult } from '../../src/proxy/relay.js';

const fails = (text: string): string => {
  try {
    loadPolicyText(text, 'policy.yaml');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('loaded');
};
const facts = (over: Partial<MatchFacts> = {}): MatchFacts => ({ provider: 'openai', host: 'api.openai.com', path: '/v1/chat/completions', api: 'chat.completions', model: 'gpt-4o', client: '127.0.0.1', ...over });
const OPENAI = { tls: true, host: 'api.openai.com', port: 443 };

afterEach(() => vi.unstubAllEnvs());

describe('routing rules: loading', () => {
  it('compiles route, fallback and credentials and counts them', () => {
    vi.stubEnv('LLMTAP_TEST_KEY', 'k-123');
    const p = loadPolicyText(`rules:
  - {id: local, match: {model: "llama*"}, route: {upstream: "http://127.0.0.1:8080", pathPrefix: /openai/}}
  - {id: cheap, match: {model: gpt-4o}, route: {model: gpt-4o-mini}}
  - {id: backup, fallback: {upstreams: ["https://backup.example:8443", {upstream: "https://api.groq.com", model: llama-3}], on: [connect_error, 529, 5xx]}}
  - {id: key, match: {host: api.openai.com}, credentials: {fromEnv: LLMTAP_TEST_KEY}}
`, 'policy.yaml');
    expect(p.route.map((r) => r.target)).toEqual([
      { upstream: { tls: false, host: '127.0.0.1', port: 8080, label: 'http://127.0.0.1:8080' }, pathPrefix: '/openai', model: undefined },
      { upstream: undefined, model: 'gpt-4o-mini', pathPrefix: undefined },
    ]);
    expect(p.fallback[0]!.upstreams.map((u) => [u.upstream.label, u.model])).toEqual([['https://backup.example:8443', undefined], ['https://api.groq.com', 'llama-3']]);
    expect([p.fallback[0]!.on.status(529), p.fallback[0]!.on.status(503), p.fallback[0]!.on.status(429), p.fallback[0]!.on.connectError]).toEqual([true, true, false, true]);
    expect(p.credentials[0]!.source).toBe('env:LLMTAP_TEST_KEY');
    expect(summarize(p)).toBe('4 rules (0 access, 0 redact, 0 rate limit, 2 route, 1 fallback, 1 credentials; 0 in monitor mode), 0 teams');
  });

  it('a missing variable or file is a load error naming the line, the key and the rule', () => {
    expect(fails('rules:\n  - id: openai-key\n    credentials: {fromEnv: LLMTAP_SURELY_UNSET_VAR}\n'))
      .toBe('policy.yaml:3: rules[0].credentials.fromEnv: environment variable LLMTAP_SURELY_UNSET_VAR is not set (rule "openai-key")');
    process.env.LLMTAP_TEST_EMPTY_VAR = ' ';
    try {
      expect(fails('rules:\n  - id: e\n    credentials: {fromEnv: LLMTAP_TEST_EMPTY_VAR}\n'))
        .toBe('policy.yaml:3: rules[0].credentials.fromEnv: environment variable LLMTAP_TEST_EMPTY_VAR is empty (rule "e")');
    } finally {
      delete process.env.LLMTAP_TEST_EMPTY_VAR;
    }
    expect(fails('rules:\n  - id: k\n    credentials: {fromFile: /nonexistent/llmtap/key}\n'))
      .toBe('policy.yaml:3: rules[0].credentials.fromFile: cannot read /nonexistent/llmtap/key (ENOENT) (rule "k")');
    expect(fails('rules:\n  - credentials: {fromEnv: A, fromFile: b}\n')).toBe('policy.yaml:2: rules[0].credentials: needs exactly one of fromEnv, fromFile');
  });

  it('a credential that would break the header line is a load error (the forwarding path does not check it again)', () => {
    vi.stubEnv('LLMTAP_TEST_KEY', 'k-123\r\nx-injected: 1');
    expect(fails('rules:\n  - id: key\n    credentials: {fromEnv: LLMTAP_TEST_KEY}\n')).toBe('policy.yaml:3: rules[0].credentials: the credential holds a line break or NUL (rule "key")');
    // A NUL cannot be in an environment variable; a file can hold one.
    expect(() => loadPolicyText('rules:\n  - id: key\n    credentials: {fromFile: key.txt}\n', 'policy.yaml', { readFile: () => 'k-123\u0000x' })).toThrow('policy.yaml:3: rules[0].credentials: the credential holds a line break or NUL (rule "key")');
  });

  it('refuses bad upstream URLs, triggers, model names and two actions in one rule', () => {
    expect(fails('rules:\n  - route: {upstream: "ftp://x"}\n')).toBe('policy.yaml:2: rules[0].route.upstream: "ftp://x": only https:// and http:// upstreams');
    expect(fails('rules:\n  - route: {upstream: "https://x/v1"}\n')).toBe('policy.yaml:2: rules[0].route.upstream: "https://x/v1": an origin only; put a path in pathPrefix');
    expect(fails('rules:\n  - route: {upstream: "https://u:p@x"}\n')).toBe('policy.yaml:2: rules[0].route.upstream: no user or password in an upstream URL (use credentials)');
    expect(fails('rules:\n  - fallback: {upstreams: ["https://x"], on: [404]}\n')).toBe('policy.yaml:2: rules[0].fallback.on[0]: "404" is not connect_error, 429, 5xx or a 5xx status');
    expect(fails('rules:\n  - route: {model: "a\\nb"}\n')).toBe('policy.yaml:2: rules[0].route.model: "a\\nb": expected a model name without control characters');
    expect(fails('rules:\n  - route: {model: x}\n    action: deny\n')).toBe('policy.yaml:2: rules[0]: has action and route: one action per rule');
    expect(fails('rules:\n  - route: {}\n')).toMatch(/rules\[0\]\.route: must NOT have fewer than 1 properties/);
  });

  it('check-config refuses a policy whose credential is missing, naming file, line, key and rule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-cred-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, 'rules:\n  - id: anthropic-key\n    match: {provider: anthropic}\n    credentials: {fromEnv: LLMTAP_SURELY_UNSET_KEY}\n');
    expect(() => checkConfig(file)).toThrow(`${file}:4: rules[0].credentials.fromEnv: environment variable LLMTAP_SURELY_UNSET_KEY is not set (rule "anthropic-key")`);
    vi.stubEnv('LLMTAP_SURELY_UNSET_KEY', 'now-set');
    expect(checkConfig(file)).toEqual({ summary: `${file}: ok, policy with 1 rule (0 access, 0 redact, 0 rate limit, 1 credentials; 0 in monitor mode), 0 teams`, warnings: [] });
  });

  it('reads a credentials file beside the policy file, trimmed, on every load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-cred-'));
    writeFileSync(join(dir, 'key.txt'), 'first-value\n');
    writeFileSync(join(dir, 'policy.yaml'), 'rules:\n  - credentials: {fromFile: key.txt, header: x-api-key}\n');
    const a = loadPolicyFile(join(dir, 'policy.yaml')).credentials[0]!;
    expect([a.secret.reveal(), a.header, a.source]).toEqual(['first-value', 'x-api-key', `file:${join(dir, 'key.txt')}`]);
    writeFileSync(join(dir, 'key.txt'), 'second-value');
    expect(loadPolicyFile(join(dir, 'policy.yaml')).credentials[0]!.secret.reveal()).toBe('second-value');
    // The value never prints: JSON, inspect (pino, console), string concatenation.
    expect([JSON.stringify(a), inspect(a), `${a.secret}`].some((s) => s.includes('first-value'))).toBe(false);
  });
});

describe('routing decision', () => {
  const policy = () => {
    vi.stubEnv('LLMTAP_TEST_KEY', 'sk-injected');
    return loadPolicyText(`rules:
  - {id: watch, mode: monitor, match: {model: gpt-4o}, route: {upstream: "https://nowhere.example"}}
  - {id: cheap, match: {model: gpt-4o}, route: {model: gpt-4o-mini, upstream: "http://localhost:11434"}}
  - {id: backup, match: {provider: openai}, fallback: {upstreams: ["https://backup.example"]}}
  - {id: claude-key, match: {provider: anthropic}, credentials: {fromEnv: LLMTAP_TEST_KEY}}
  - {id: openai-key, match: {host: "*.example"}, credentials: {fromEnv: LLMTAP_TEST_KEY}}
`, 'policy.yaml');
  };

  it('records monitor routes, applies the first enforced one, and names the original and effective target and model', () => {
    const out = evaluateRouting(policy(), facts(), OPENAI);
    expect(out.decisions).toEqual([
      { rule: 'watch', kind: 'route', action: 'route', enforced: false, upstream: 'https://nowhere.example' },
      { rule: 'cheap', kind: 'route', action: 'route', enforced: true, upstream: 'http://localhost:11434', model: 'gpt-4o-mini' },
      { rule: 'backup', kind: 'fallback', action: 'fallback', enforced: true, upstreams: ['https://backup.example'], on: ['connect_error', '429', '5xx'] },
    ]);
    expect(out.route).toEqual({ from: { upstream: 'https://api.openai.com', model: 'gpt-4o' }, to: { upstream: 'http://localhost:11434', model: 'gpt-4o-mini' } });
    expect(out.plan!.hops.map((h) => [h.origin.label, h.model, h.explicit])).toEqual([['http://localhost:11434', 'gpt-4o-mini', true], ['https://backup.example', undefined, true]]);
  });

  it('no routing rule matching and no credentials rules: no plan (the request goes up as sent)', () => {
    const p = loadPolicyText('rules:\n  - {match: {model: x}, route: {model: y}}\n', 'p.yaml');
    expect(evaluateRouting(p, facts(), OPENAI)).toEqual({ plan: undefined, decisions: [], route: undefined });
  });

  it('credentials are chosen per upstream, with its provider\'s header by default', () => {
    const p = policy();
    const anthropicHop: Hop = { origin: { tls: true, host: 'api.anthropic.com', port: 443, label: 'https://api.anthropic.com' }, explicit: false };
    const [claude] = credentialFor(p, facts({ provider: 'anthropic', host: 'api.anthropic.com' }), anthropicHop, 'anthropic');
    expect(claude).toEqual({ decision: { rule: 'claude-key', kind: 'credentials', action: 'inject', enforced: true, upstream: 'https://api.anthropic.com', header: 'x-api-key', source: 'env:LLMTAP_TEST_KEY' }, inject: { header: 'x-api-key', value: 'sk-injected' } });
    const backup: Hop = { origin: { tls: true, host: 'backup.example', port: 443, label: 'https://backup.example' }, explicit: true };
    expect(credentialFor(p, facts(), backup, undefined)[0]!.inject).toEqual({ header: 'authorization', value: 'Bearer sk-injected' });
    expect(credentialFor(p, facts(), { origin: { ...OPENAI, label: 'https://api.openai.com' }, explicit: false }, 'openai')).toEqual([]);
  });
});

describe('model rewrite keeps every other byte', () => {
  it('splices the top-level model only', () => {
    const raw = '{ "messages" : [ {"content":"caf\\u00e9 \\"model\\": \\"x\\"","role":"user","model":"inner"} ],\n  "model" :"gpt-4o", "n": 1.50 }';
    expect(rewriteModel(Buffer.from(raw), 'llama3.1:8b')!.toString()).toBe(raw.replace('"model" :"gpt-4o"', '"model" :"llama3.1:8b"'));
  });
  it('the last of duplicate keys (what JSON.parse reads) and escaping of the new name', () => {
    expect(rewriteModel(Buffer.from('{"model":"a","model":"b"}'), 'c"d')!.toString()).toBe('{"model":"a","model":"c\\"d"}');
  });
  it('no top-level string model, or not JSON: nothing to rewrite', () => {
    for (const raw of ['{"contents":[]}', '{"model":3}', '[{"model":"a"}]', '{"model":"a"', 'not json', '']) expect(rewriteModel(Buffer.from(raw), 'x')).toBeUndefined();
  });
});

describe('the request each hop gets', () => {
  const body = Buffer.from('{"model":"gpt-4o","messages":[]}');
  const base: BaseRequest = {
    method: 'POST', path: '/v1/chat/completions', body, chunked: false, identity: body,
    headers: ['Host', 'api.openai.com', 'Content-Type', 'application/json', 'Content-Length', String(body.length), 'Authorization', 'Bearer proxy-login-only', 'x-api-key', 'other'],
  };
  const local: Hop = { origin: { tls: false, host: '127.0.0.1', port: 8080, label: 'http://127.0.0.1:8080' }, model: 'llama3', pathPrefix: '/openai', explicit: true };

  it('another origin: Host, path prefix, rewritten model with its own length, none of the client\'s credentials', () => {
    const r = requestForHop(base, local);
    expect(r.path).toBe('/openai/v1/chat/completions');
    expect(r.body!.toString()).toBe('{"model":"llama3","messages":[]}');
    expect(r.headers).toEqual(['Host', '127.0.0.1:8080', 'Content-Type', 'application/json', 'Content-Length', String(r.body!.length)]);
  });

  it('the same origin and no model: byte for byte what the client sent', () => {
    const r = requestForHop(base, { origin: { ...OPENAI, label: 'https://api.openai.com' }, explicit: false });
    expect([r.path, r.headers, r.body]).toEqual([base.path, base.headers, body]);
  });

  it('an injected credential replaces every credential header the client sent', () => {
    const r = requestForHop(base, { ...local, model: undefined }, { header: 'authorization', value: 'Bearer sk-real' });
    expect(r.headers.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase())).toEqual(['host', 'content-type', 'content-length', 'authorization']);
    expect(r.headers.at(-1)).toBe('Bearer sk-real');
  });

  it('an injected credential also drops the client\'s ?key= (Gemini), keeping the rest of the query as sent', () => {
    const gemini = { ...base, path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=AIzaClientKey&alt=sse' };
    const r = requestForHop(gemini, { ...local, model: undefined }, { header: 'x-goog-api-key', value: 'team-key' });
    expect(r.path).toBe('/openai/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    // Without an injected credential the client's key goes up as it sent it, to its own origin only.
    expect(requestForHop(gemini, { origin: { ...OPENAI, label: 'https://api.openai.com' }, explicit: false }).path).toBe(gemini.path);
    expect(requestForHop(gemini, { ...local, model: undefined }).path).toBe('/openai/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('withoutKeyParam: every `key` (however encoded), nothing else', () => {
    const cases: [string, string][] = [
      ['/m:generateContent?key=a', '/m:generateContent'],
      ['/m?alt=sse&key=a&key=b&x=%20y', '/m?alt=sse&x=%20y'],
      ['/m?k%65y=a&keys=1&apikey=2&key', '/m?keys=1&apikey=2'],
      ['/m?%zz=1&key=a', '/m?%zz=1'],
      ['/m', '/m'],
      ['/m?', '/m?'],
    ];
    for (const [path, expected] of cases) expect(withoutKeyParam(path)).toBe(expected);
  });

  it('a body without a top-level model is sent as it is, and says so', () => {
    const gem = Buffer.from('{"contents":[]}');
    const r = requestForHop({ ...base, body: gem, identity: gem }, local);
    expect([r.body, r.modelNotRewritten]).toEqual([gem, 'the body names no top-level model']);
  });
});

describe('fallback decision table', () => {
  const triggers = { connectError: true, status: (s: number) => s === 429 || s >= 500, names: [] };
  const hop: Hop = { origin: { ...OPENAI, label: 'https://api.openai.com' }, explicit: false };
  const plan: RoutingPlan = { hops: [hop, hop], triggers };
  const failed = (code: 'upstream_unreachable' | 'upstream_tls' | 'upstream_timeout'): RelayResult => ({ outcome: 'upstream_failed', code, error: new Error(code) });
  const cases: [string, RelayResult, RoutingPlan, number, 'retry' | 'stop'][] = [
    ['held-back status, a next upstream', { outcome: 'retry', status: 503 }, plan, 0, 'retry'],
    ['connect error, a next upstream', failed('upstream_unreachable'), plan, 0, 'retry'],
    ['connect error, no connect_error trigger', failed('upstream_unreachable'), { ...plan, triggers: { ...triggers, connectError: false } }, 0, 'stop'],
    ['TLS verification failure is never retried elsewhere', failed('upstream_tls'), plan, 0, 'stop'],
    ['headers timeout: the upstream may be working on it', failed('upstream_timeout'), plan, 0, 'stop'],
    ['failed mid-body: bytes already reached the client', { outcome: 'upstream_error', code: 'upstream_error', error: new Error('x') }, plan, 0, 'stop'],
    ['completed', { outcome: 'completed' }, plan, 0, 'stop'],
    ['client aborted', { outcome: 'client_aborted' }, plan, 0, 'stop'],
    ['the last upstream', failed('upstream_unreachable'), plan, 1, 'stop'],
    ['no fallback rule (route only)', failed('upstream_unreachable'), { hops: [hop, hop] }, 0, 'stop'],
  ];
  it.each(cases)('%s', (_name, result, p, index, expected) => {
    expect(nextStep(result, p, index)).toBe(expected);
  });
});

describe('routing lines for `show`', () => {
  it('reads the stored policy column', () => {
    const stored = JSON.stringify({ decisions: [], route: { from: { upstream: 'https://api.openai.com', model: 'gpt-4o' }, to: { upstream: 'http://127.0.0.1:8080', model: 'llama3' } }, attempts: [{ upstream: 'http://127.0.0.1:8080', model: 'llama3', status: 503, result: 'retried' }, { upstream: 'https://backup.example', error: 'upstream_unreachable', result: 'failed' }] });
    expect(routingLines(stored)).toEqual([
      'routed: https://api.openai.com gpt-4o → http://127.0.0.1:8080 llama3',
      'attempts: http://127.0.0.1:8080 llama3 503 retried → https://backup.example upstream_unreachable failed',
    ]);
  });
  it("names the client's credentials withheld from another origin (names only), where a 401 would come from", () => {
    const routeOnly = JSON.stringify({ decisions: [], route: { from: { upstream: 'https://api.openai.com' }, to: { upstream: 'http://127.0.0.1:8080', withheld: ['authorization'] } } });
    expect(routingLines(routeOnly)).toEqual(["routed: https://api.openai.com → http://127.0.0.1:8080 (client's authorization withheld)"]);
    // With attempts, each says what it held back, and the route line does not repeat it.
    const tried = JSON.stringify({ decisions: [], route: { from: { upstream: 'https://api.openai.com' }, to: { upstream: 'http://127.0.0.1:8080', withheld: ['authorization'] } }, attempts: [{ upstream: 'http://127.0.0.1:8080', status: 503, result: 'retried', withheld: ['authorization'] }, { upstream: 'https://backup.example', status: 401, result: 'answered', withheld: ['x-api-key', 'authorization'] }] });
    expect(routingLines(tried)).toEqual([
      'routed: https://api.openai.com → http://127.0.0.1:8080',
      "attempts: http://127.0.0.1:8080 503 retried (client's authorization withheld) → https://backup.example 401 answered (client's x-api-key, authorization withheld)",
    ]);
  });
  it('nothing for no policy, no routing, or an unreadable column', () => {
    for (const v of [null, undefined, '', '{"decisions":[]}', 'not json']) expect(routingLines(v)).toEqual([]);
  });
});

describe('the policy stage', () => {
  const runtime = () => ({ policy: loadPolicyText('rules:\n  - {id: r, route: {model: gpt-4o-mini}}\n', 'p.yaml'), buckets: new PolicyBuckets() });
  it('records the route and hands the plan to the forwarder', () => {
    const ex = makeExchange({ provider: 'openai', api: 'chat.completions', request: { model: 'gpt-4o', path: '/v1/chat/completions' } });
    const out = applyPolicy(runtime(), ex, [], undefined);
    expect(out.routing?.plan.hops.map((h) => h.model)).toEqual(['gpt-4o-mini']);
    expect(ex.policy?.route).toEqual({ from: { upstream: 'https://api.openai.com', model: 'gpt-4o' }, to: { upstream: 'https://api.openai.com', model: 'gpt-4o-mini' } });
  });
});
