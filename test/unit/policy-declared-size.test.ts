import { describe, expect, it } from 'vitest';
import { declaredSizeBlock } from '../../src/policy/declared-size.js';
import { loadPolicyText } from '../../src/policy/load.js';
import type { MatchFacts } from '../../src/policy/types.js';

// Head facts: what a request's head tells (no model, no session: those may come from its body).
const head: MatchFacts = { provider: 'openai', host: 'api.openai.com', path: '/v1/chat/completions', api: 'chat.completions', client: '127.0.0.1', user: 'ann' };
const limits = (yaml: string) => loadPolicyText(yaml, 'p.yaml').limits;

describe('a limits rule decided from the declared Content-Length alone', () => {
  it('an enforced maxRequestBytes the head matches: blocked, with the decision the body check would record', () => {
    const rules = limits('rules:\n  - {id: small, match: {user: ann}, limits: {maxRequestBytes: 100}}\n');
    expect(declaredSizeBlock(rules, head, 101)).toEqual({ rule: 'small', kind: 'limits', action: 'block', enforced: true, limit: 'requestBytes', from: 101, to: 100 });
    expect(declaredSizeBlock(rules, head, 100)).toBeUndefined();
    expect(declaredSizeBlock(rules, { ...head, user: 'bob' }, 101)).toBeUndefined();
  });

  it('a monitor rule never refuses; the enforced rule after it still does', () => {
    const rules = limits('rules:\n  - {id: watch, mode: monitor, limits: {maxRequestBytes: 10}}\n  - {id: small, limits: {maxRequestBytes: 100}}\n');
    expect(declaredSizeBlock(rules, head, 50)).toBeUndefined();
    expect(declaredSizeBlock(rules, head, 101)?.rule).toBe('small');
  });

  it('undecided while an enforced rule before it matches on what only the body tells (model, session): it may decide first', () => {
    expect(declaredSizeBlock(limits('rules:\n  - {id: cap, match: {model: gpt-4o}, limits: {maxTokens: 64}}\n  - {id: small, limits: {maxRequestBytes: 100}}\n'), head, 101)).toBeUndefined();
    expect(declaredSizeBlock(limits('rules:\n  - {id: s, match: {session: abc}, limits: {maxTokens: 64}}\n  - {id: small, limits: {maxRequestBytes: 100}}\n'), head, 101)).toBeUndefined();
    expect(declaredSizeBlock(limits('rules:\n  - {id: big, match: {model: gpt-4o}, limits: {maxRequestBytes: 10}}\n'), head, 101)).toBeUndefined();
  });

  it('an enforced rule the head matches that the size does not break decides: later rules never apply', () => {
    expect(declaredSizeBlock(limits('rules:\n  - {id: cap, limits: {maxTokens: 64}}\n  - {id: small, limits: {maxRequestBytes: 100}}\n'), head, 101)).toBeUndefined();
  });
});
