import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { evaluatePolicy, factsOf, PolicyBuckets } from '../../src/policy/evaluate.js';
import { loadPolicyText } from '../../src/policy/load.js';
import type { MatchFacts } from '../../src/policy/types.js';

const facts = (over: Partial<MatchFacts> = {}): MatchFacts => ({ provider: 'openai', host: 'api.openai.com', path: '/v1/chat/completions', api: 'chat.completions', model: 'gpt-4o-mini', client: '127.0.0.1', ...over });
const policy = (yaml: string) => loadPolicyText(yaml, 'p.yaml');

describe('matching', () => {
  it('reads facts from an Exchange: tool, session, team', () => {
    const ex = makeExchange({ provider: 'anthropic', api: 'messages', client: { address: '10.1.2.3', user: 'alice' }, tool: { name: 'claude-code' }, agent: { sessionId: 's-1' }, request: { path: '/v1/messages?beta=true', model: 'claude-sonnet-4-5' } });
    expect(factsOf(ex, new Map([['alice', 'core']]))).toMatchObject({ provider: 'anthropic', api: 'messages', model: 'claude-sonnet-4-5', tool: 'claude-code', client: '10.1.2.3', user: 'alice', team: 'core', session: 's-1' });
  });

  it('model globs, CIDRs and exact addresses, lists, every field ANDed', () => {
    const p = policy([
      'teams: {core: [carol]}',
      'rules:',
      '  - {id: r1, action: deny, match: {model: "gpt-4o*", client: ["10.0.0.0/8", "::1"]}}',
      '  - {id: r2, action: deny, match: {tool: claude-*, session: s-9}}',
      '  - {id: r3, action: deny, match: {team: core, path: "/v1/embed*", host: "*.openai.com", api: embeddings}}',
    ].join('\n'));
    const denied = (f: MatchFacts) => evaluatePolicy(p, f, undefined, new PolicyBuckets()).block?.code;
    expect(denied(facts({ client: '10.200.0.1' }))).toBe('model_not_allowed');
    expect(denied(facts({ client: '::ffff:10.0.0.1' }))).toBe('model_not_allowed');
    expect(denied(facts({ client: '::1' }))).toBe('model_not_allowed');
    expect(denied(facts({ client: '11.0.0.1' }))).toBeUndefined();
    expect(denied(facts({ client: '10.0.0.1', model: 'o3' }))).toBeUndefined();
    expect(denied(facts({ tool: 'claude-code', session: 's-9' }))).toBe('model_not_allowed');
    expect(denied(facts({ tool: 'claude-code', session: 's-1' }))).toBeUndefined();
    expect(denied(facts({ team: 'core', path: '/v1/embeddings?x=1', api: 'embeddings' }))).toBe('model_not_allowed');
    expect(denied(facts({ team: 'other', path: '/v1/embeddings', api: 'embeddings' }))).toBeUndefined();
  });
});

describe('access: allow / deny', () => {
  const p = policy('rules:\n  - {id: small, action: allow, match: {model: ["gpt-4o-mini", "claude-haiku-*"]}}\n  - {id: rest, action: deny, match: {api: [chat.completions, messages]}}\n');

  it('first match wins: an allow before a deny lets the request through', () => {
    const ok = evaluatePolicy(p, facts(), undefined, new PolicyBuckets());
    expect(ok.block).toBeUndefined();
    expect(ok.record.decisions).toEqual([{ rule: 'small', kind: 'access', action: 'allow', enforced: true }]);
    const no = evaluatePolicy(p, facts({ model: 'gpt-5' }), undefined, new PolicyBuckets());
    expect(no.block).toEqual({ code: 'model_not_allowed', retryAfterSeconds: undefined });
    expect(no.record).toEqual({ decisions: [{ rule: 'rest', kind: 'access', action: 'deny', enforced: true }], blocked: 'model_not_allowed' });
  });

  it('monitor mode records what would have happened and enforces nothing, nor shadows later rules', () => {
    const m = policy('rules:\n  - {id: watch, mode: monitor, action: deny, match: {model: "gpt-*"}}\n  - {id: real, action: deny, match: {model: gpt-5}}\n');
    const a = evaluatePolicy(m, facts(), undefined, new PolicyBuckets());
    expect(a.block).toBeUndefined();
    expect(a.record.decisions).toEqual([{ rule: 'watch', kind: 'access', action: 'deny', enforced: false }]);
    const b = evaluatePolicy(m, facts({ model: 'gpt-5' }), undefined, new PolicyBuckets());
    expect(b.block?.code).toBe('model_not_allowed');
    expect(b.record.decisions.map((d) => [d.rule, d.enforced])).toEqual([['watch', false], ['real', true]]);
  });
});

describe('rate limits', () => {
  it('requests per minute per user: 429 with Retry-After once the bucket is empty, refilled over time', () => {
    let t = 0;
    const buckets = new PolicyBuckets(() => t);
    const p = policy('rules:\n  - {id: rpm, rateLimit: {requestsPerMinute: 2, per: user}}\n');
    const run = (user: string) => evaluatePolicy(p, facts({ user }), undefined, buckets);
    expect([run('a').block, run('a').block]).toEqual([undefined, undefined]);
    const third = run('a');
    expect(third.block).toEqual({ code: 'rate_limited', retryAfterSeconds: 30 });
    expect(third.record.decisions).toEqual([{ rule: 'rpm', kind: 'rateLimit', action: 'limit', enforced: true, key: 'user:a', retryAfterSeconds: 30, limit: 'requests' }]);
    expect(run('b').block).toBeUndefined(); // another user, another bucket
    t = 30_000;
    expect(run('a').block).toBeUndefined();
  });

  it('tokens per minute: pre-checked from max_tokens, charged from usage afterwards, keyed by team or model', () => {
    let t = 0;
    const buckets = new PolicyBuckets(() => t);
    const p = policy('teams: {core: [alice, bob]}\nrules:\n  - {id: tpm, rateLimit: {tokensPerMinute: 1000, per: team}}\n');
    const first = evaluatePolicy(p, facts({ user: 'alice', team: 'core' }), { max_tokens: 800 }, buckets);
    expect(first.block).toBeUndefined();
    expect(first.charges).toHaveLength(1);
    first.charges[0]!.limiter.charge(first.charges[0]!.key, 900); // what the exchange really used
    const second = evaluatePolicy(p, facts({ user: 'bob', team: 'core' }), { max_tokens: 800 }, buckets);
    expect(second.block).toEqual({ code: 'rate_limited', retryAfterSeconds: 42 }); // 700 tokens short at 1000/min
    expect(second.record.decisions[0]).toMatchObject({ key: 'team:core', limit: 'tokens' });
    const small = evaluatePolicy(p, facts({ user: 'bob', team: 'core' }), { max_tokens: 50 }, buckets);
    expect(small.block).toBeUndefined();
  });

  it('monitor mode counts but never refuses', () => {
    const p = policy('rules:\n  - {id: rpm, mode: monitor, rateLimit: {requestsPerMinute: 1, per: model}}\n');
    const buckets = new PolicyBuckets(() => 0);
    evaluatePolicy(p, facts(), undefined, buckets);
    const second = evaluatePolicy(p, facts(), undefined, buckets);
    expect(second.block).toBeUndefined();
    expect(second.record.decisions).toEqual([{ rule: 'rpm', kind: 'rateLimit', action: 'limit', enforced: false, key: 'model:gpt-4o-mini', retryAfterSeconds: 60, limit: 'requests' }]);
  });
});

describe('rate-limit state across reloads', () => {
  it('an unchanged rule keeps its bucket; a changed or removed one starts afresh', () => {
    const buckets = new PolicyBuckets(() => 0);
    const v1 = policy('rules:\n  - {id: rpm, rateLimit: {requestsPerMinute: 1}}\n');
    evaluatePolicy(v1, facts(), undefined, buckets);
    const same = policy('rules:\n  - {id: rpm, rateLimit: {requestsPerMinute: 1}}\n');
    buckets.retain(same);
    expect(evaluatePolicy(same, facts(), undefined, buckets).block?.code).toBe('rate_limited');
    const changed = policy('rules:\n  - {id: rpm, rateLimit: {requestsPerMinute: 2}}\n');
    buckets.retain(changed);
    expect(evaluatePolicy(changed, facts(), undefined, buckets).block).toBeUndefined();
  });
});
