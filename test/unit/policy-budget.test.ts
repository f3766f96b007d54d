import { describe, expect, it } from 'vitest';
import { BudgetLedger, budgetKey, periodEnd, periodStart, seedBudgets, spendSince, type SpendRow } from '../../src/policy/budget.js';
import { evaluatePolicy, PolicyBuckets } from '../../src/policy/evaluate.js';
import { loadPolicyText } from '../../src/policy/load.js';
import type { MatchFacts } from '../../src/policy/types.js';

const facts = (over: Partial<MatchFacts> = {}): MatchFacts => ({ provider: 'openai', host: 'api.openai.com', path: '/v1/chat/completions', api: 'chat.completions', model: 'gpt-4o-mini', client: '127.0.0.1', user: 'alice', ...over });
const policy = (yaml: string) => loadPolicyText(yaml, 'p.yaml');
// Wednesday 2026-03-18 15:30 UTC
const NOW = Date.UTC(2026, 2, 18, 15, 30);

describe('budget periods (UTC)', () => {
  it('day, ISO week from Monday, calendar month, and where each ends', () => {
    expect(new Date(periodStart('day', NOW)).toISOString()).toBe('2026-03-18T00:00:00.000Z');
    expect(new Date(periodStart('week', NOW)).toISOString()).toBe('2026-03-16T00:00:00.000Z');
    expect(new Date(periodStart('week', Date.UTC(2026, 2, 22, 23))).toISOString()).toBe('2026-03-16T00:00:00.000Z'); // a Sunday
    expect(new Date(periodStart('month', NOW)).toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(new Date(periodEnd('month', Date.UTC(2026, 11, 31))).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(new Date(periodEnd('week', NOW)).toISOString()).toBe('2026-03-23T00:00:00.000Z');
  });

  it('keys: user (else the client address), team (else the user), tool, model', () => {
    expect(budgetKey('user', facts())).toBe('user:alice');
    expect(budgetKey('user', facts({ user: undefined }))).toBe('user:127.0.0.1');
    expect(budgetKey('team', facts({ team: 'core' }))).toBe('team:core');
    expect(budgetKey('team', facts())).toBe('user:alice');
    expect(budgetKey('tool', facts({ tool: 'codex' }))).toBe('tool:codex');
    expect(budgetKey('model', facts())).toBe('model:gpt-4o-mini');
  });
});

describe('budget accounting', () => {
  const p = policy('rules:\n  - {id: daily, budget: {usd: 1, period: day, per: user, warnAt: 0.5}}\n');
  const rule = p.budget[0]!;

  it('spend adds up per key; warn once when crossing warnAt, once when spent; a new period starts at zero', () => {
    const ledger = new BudgetLedger();
    expect(ledger.add(rule, 'user:alice', 0.3, NOW)).toBeUndefined();
    expect(ledger.add(rule, 'user:alice', 0.3, NOW)).toMatchObject({ crossed: 'warn' });
    expect(ledger.add(rule, 'user:alice', 0.1, NOW)).toBeUndefined();
    expect(ledger.add(rule, 'user:bob', 0.2, NOW)).toBeUndefined();
    expect(ledger.add(rule, 'user:alice', 0.4, NOW)).toMatchObject({ crossed: 'exceeded' });
    expect(ledger.add(rule, 'user:alice', 0.4, NOW)).toBeUndefined();
    expect(ledger.spent(rule, 'user:alice', NOW)).toBeCloseTo(1.5);
    expect(ledger.spent(rule, 'user:bob', NOW)).toBeCloseTo(0.2);
    const tomorrow = NOW + 86_400_000;
    expect(ledger.spent(rule, 'user:alice', tomorrow)).toBe(0);
    expect(ledger.add(rule, 'user:alice', 0.6, tomorrow)).toMatchObject({ crossed: 'warn' });
  });

  it('evaluation: under warnAt no decision; past it a warn; spent → budget_exceeded with Retry-After to the period end', () => {
    const ledger = new BudgetLedger();
    const run = (f = facts()) => evaluatePolicy(p, f, undefined, new PolicyBuckets(), false, { budgets: ledger, now: NOW });
    const first = run();
    expect(first.record.decisions).toEqual([]);
    expect(first.budgetCharges?.map((c) => c.key)).toEqual(['user:alice']);
    ledger.add(rule, 'user:alice', 0.6, NOW);
    expect(run().record.decisions).toEqual([{ rule: 'daily', kind: 'budget', action: 'warn', enforced: true, key: 'user:alice', period: 'day', periodStart: '2026-03-18T00:00:00.000Z', spentUsd: 0.6, limitUsd: 1 }]);
    ledger.add(rule, 'user:alice', 0.4, NOW);
    const blocked = run();
    expect(blocked.block).toEqual({ code: 'budget_exceeded', retryAfterSeconds: 8.5 * 3600 });
    expect(blocked.record.blocked).toBe('budget_exceeded');
    expect(blocked.budgetCharges).toBeUndefined();
    expect(run(facts({ user: 'bob' })).block).toBeUndefined();
  });

  it('monitor mode records the block, enforces nothing, and the next enforced rule decides', () => {
    const m = policy('rules:\n  - {id: watch, mode: monitor, budget: {usd: 0.01, period: month, per: model}}\n  - {id: real, budget: {usd: 5, period: week, per: team}}\n');
    const ledger = new BudgetLedger();
    ledger.add(m.budget[0]!, 'model:gpt-4o-mini', 1, NOW);
    const out = evaluatePolicy(m, facts(), undefined, new PolicyBuckets(), false, { budgets: ledger, now: NOW });
    expect(out.block).toBeUndefined();
    expect(out.record.decisions).toMatchObject([{ rule: 'watch', action: 'block', enforced: false }]);
    expect(out.budgetCharges?.map((c) => [c.rule.id, c.key])).toEqual([['watch', 'model:gpt-4o-mini'], ['real', 'user:alice']]);
  });
});

describe('budgets seeded from the archive', () => {
  const row = (over: Partial<SpendRow>): SpendRow => ({
    day: periodStart('day', NOW), provider: 'openai', host: 'api.openai.com', path: '/v1/chat/completions', api: 'chat.completions', model: 'gpt-4o-mini',
    tool: null, client: '127.0.0.1', user: 'alice', session: null, usd: 0.25, ...over,
  });

  it('counts only the current period, per key, with first-enforced-match-wins like a request; no warning for old spend', () => {
    const p = policy([
      'teams: {core: [alice, bob]}',
      'rules:',
      '  - {id: opus, match: {model: "claude-opus-*"}, budget: {usd: 10, period: day, per: user}}',
      '  - {id: team-week, budget: {usd: 1, period: week, per: team}}',
    ].join('\n'));
    const [opus, team] = p.budget;
    const rows = [
      row({}), row({ user: 'bob' }), row({ day: periodStart('week', NOW) }), row({ day: periodStart('week', NOW) - 86_400_000 }),
      row({ model: 'claude-opus-4-1', provider: 'anthropic', usd: 2 }),
    ];
    expect(spendSince(p.budget, NOW)).toBe(periodStart('week', NOW));
    const ledger = new BudgetLedger();
    seedBudgets(ledger, p, ledger.retain(p.budget), rows, NOW);
    expect(ledger.spent(team!, 'team:core', NOW)).toBeCloseTo(0.75);
    expect(ledger.spent(opus!, 'user:alice', NOW)).toBeCloseTo(2);
    // Spent before this process: crossing warnAt later is not announced again.
    expect(ledger.add(team!, 'team:core', 0.01, NOW)).toBeUndefined();
  });

  it('a reload keeps the spend of unchanged rules and seeds new or changed ones', () => {
    const before = policy('rules:\n  - {id: a, budget: {usd: 1, period: day, per: user}}\n  - {id: b, budget: {usd: 1, period: day, per: user}}\n');
    const ledger = new BudgetLedger();
    seedBudgets(ledger, before, ledger.retain(before.budget), [], NOW);
    ledger.add(before.budget[0]!, 'user:alice', 0.5, NOW);
    const after = policy('rules:\n  - {id: a, budget: {usd: 2, period: day, per: user}}\n  - {id: b, match: {model: "x*"}, budget: {usd: 1, period: day, per: user}}\n');
    const fresh = ledger.retain(after.budget);
    expect(fresh.map((r) => r.id)).toEqual(['b']);
    expect(ledger.spent(after.budget[0]!, 'user:alice', NOW)).toBe(0.5);
  });
});

describe('budget and limits rules in the file', () => {
  it('are validated with file:line messages', () => {
    expect(() => policy('rules:\n  - {id: x, budget: {usd: 1, period: year, per: user}}\n')).toThrow(/p\.yaml:2: rules\[0\]\.budget\.period: must be one of day, week, month/);
    expect(() => policy('rules:\n  - {id: x, budget: {usd: 1, period: day}}\n')).toThrow(/missing key "per"/);
    expect(() => policy('rules:\n  - id: x\n    limits: {onMaxTokens: block, maxRequestBytes: 10}\n')).toThrow(/p\.yaml:3: rules\[0\]\.limits\.onMaxTokens: needs maxTokens/);
    expect(() => policy('rules:\n  - {id: x, limits: {}}\n')).toThrow(/needs maxRequestBytes or maxTokens/);
    expect(() => policy('rules:\n  - {id: x, limits: {maxTokens: 1.5}}\n')).toThrow(/must be integer/);
  });
});
