import { describe, expect, it } from 'vitest';
import type { BudgetCharger } from '../../src/policy/budget-charge.js';
import type { BudgetCharge } from '../../src/policy/budget.js';
import { PendingCharges } from '../../src/policy/pending-charges.js';
import type { RateLimiter } from '../../src/policy/rate-limit.js';

function fakes() {
  const tokens: [string, number][] = [];
  const usd: [number, number][] = [];
  const limiter = { charge: (key: string, n: number) => void tokens.push([key, n]) } as unknown as RateLimiter;
  const charger = { chargeUsd: (at: number, _c: readonly BudgetCharge[], amount: number) => void usd.push([at, amount]) } as unknown as BudgetCharger;
  const budgetCharges = [{ rule: {}, key: 'user:ann' }] as unknown as BudgetCharge[];
  return { tokens, usd, charger, applied: { charges: [{ limiter, key: 'team:a' }], budgetCharges } };
}

describe('policy charges held for the archive\'s usage estimate', () => {
  it('charges token limits and budgets when the estimate for a held exchange comes, once', () => {
    const { tokens, usd, charger, applied } = fakes();
    const pending = new PendingCharges();
    pending.hold('ex1', 1000, applied, charger);
    pending.settle([{ id: 'other', inputTokens: 5, outputTokens: 5, usd: 1, part: 'all' }]);
    expect([tokens, usd]).toEqual([[], []]);
    pending.settle([{ id: 'ex1', inputTokens: 8, outputTokens: 20, usd: 0.0002, part: 'all' }]);
    pending.settle([{ id: 'ex1', inputTokens: 8, outputTokens: 20, usd: 0.0002, part: 'all' }]);
    expect(tokens).toEqual([['team:a', 28]]);
    expect(usd).toEqual([[1000, 0.0002]]);
    expect(pending.size).toBe(0);
  });

  it('an unpriced estimate charges tokens only; what waits past five minutes is let go', () => {
    const { tokens, usd, charger, applied } = fakes();
    const pending = new PendingCharges();
    pending.hold('ex1', 1, applied, charger, 0);
    pending.settle([{ id: 'ex1', inputTokens: 1, outputTokens: 2, usd: null, part: 'all' }]);
    expect([tokens, usd]).toEqual([[['team:a', 3]], []]);
    pending.hold('old', 1, applied, charger, 0);
    pending.hold('new', 1, applied, charger, 5 * 60_000);
    expect(pending.size).toBe(1);
  });
});
