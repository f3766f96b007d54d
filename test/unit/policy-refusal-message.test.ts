import { describe, expect, it } from 'vitest';
import { refusalMessage } from '../../src/policy/refusal-message.js';
import type { Decision } from '../../src/policy/types.js';

/** What a refused client reads: the rule that refused and why, never a matched value. */
const NOW = Date.parse('2026-12-06T15:00:00Z');

describe('refusal messages', () => {
  it('names the enforced rule, not a monitor rule that decided first, and the model asked for', () => {
    const decisions: Decision[] = [
      { rule: 'watch', kind: 'access', action: 'deny', enforced: false },
      { rule: 'no-gpt5', kind: 'access', action: 'deny', enforced: true },
    ];
    expect(refusalMessage('model_not_allowed', decisions, 'gpt-5', NOW)).toBe('the model "gpt-5" is not allowed by llmtap policy rule "no-gpt5"');
    expect(refusalMessage('model_not_allowed', decisions, undefined, NOW)).toBe('this model is not allowed by llmtap policy rule "no-gpt5"');
    expect(refusalMessage('model_not_allowed', [{ rule: 'r', kind: 'access', action: 'deny', enforced: true, model: 'o3' }], 'gpt-5-codex', NOW)).toBe('the model "o3" is not allowed by llmtap policy rule "r"');
    // Nothing enforced says why: the code's own message stands.
    expect(refusalMessage('model_not_allowed', [decisions[0]!], 'gpt-5', NOW)).toBeUndefined();
  });

  it('says which detector fired where, which bucket, which budget and when it starts again, which limit', () => {
    expect(refusalMessage('content_blocked', [{ rule: 'keys', kind: 'redact', action: 'block', enforced: true, hits: [{ detector: 'api_key', at: 'messages[1].content', count: 2 }] }], undefined, NOW))
      .toBe('the request holds api_key (at messages[1].content) that llmtap policy rule "keys" does not let leave this machine');
    expect(refusalMessage('rate_limited', [{ rule: 'rpm', kind: 'rateLimit', action: 'limit', enforced: true, key: 'user:alice', retryAfterSeconds: 12, limit: 'tokens' }], undefined, NOW))
      .toBe('rate limited by llmtap policy rule "rpm": tokens per minute for user:alice; retry in 12s');
    const budget = (period: 'day' | 'week' | 'month'): Decision[] => [{ rule: 'team-spend', kind: 'budget', action: 'block', enforced: true, key: 'team:platform', period, periodStart: '2026-12-01T00:00:00.000Z', spentUsd: 10.5, limitUsd: 10 }];
    expect(refusalMessage('budget_exceeded', budget('day'), undefined, NOW)).toBe('the budget of llmtap policy rule "team-spend" is spent for team:platform: $10.50 of $10.00 this day; it starts again at 2026-12-07T00:00:00.000Z');
    expect(refusalMessage('budget_exceeded', budget('week'), undefined, NOW)).toContain('it starts again at 2026-12-07T00:00:00.000Z'); // Sunday: Monday starts the ISO week
    expect(refusalMessage('budget_exceeded', budget('month'), undefined, NOW)).toContain('it starts again at 2027-01-01T00:00:00.000Z');
    // Fractions of a cent with two significant digits, never an exponent ($1.0e-7 before).
    const tiny: Decision[] = [{ rule: 't', kind: 'budget', action: 'block', enforced: true, key: 'model:gpt-4o', period: 'day', periodStart: '2026-12-06T00:00:00.000Z', spentUsd: 0.00012, limitUsd: 0.0000001 }];
    expect(refusalMessage('budget_exceeded', tiny, undefined, NOW)).toContain('$0.00012 of $0.00000010 this day');
    expect(refusalMessage('max_tokens_exceeded', [{ rule: 'cap', kind: 'limits', action: 'block', enforced: true, limit: 'maxTokens', field: 'max_tokens', from: 8000, to: 4096 }], undefined, NOW))
      .toBe('max_tokens is 8000, above the cap of 4096 llmtap policy rule "cap" allows');
    expect(refusalMessage('request_too_large', [{ rule: 'cap', kind: 'limits', action: 'block', enforced: true, limit: 'requestBytes', from: 2048, to: 1024 }], undefined, NOW))
      .toBe('the request body is 2048 bytes, more than the 1024 llmtap policy rule "cap" allows');
  });
});
