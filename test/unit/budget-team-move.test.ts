import { afterAll, describe, expect, it } from 'vitest';
import { BudgetCharger } from '../../src/policy/budget-charge.js';
import { budgetReport, ledgerReport } from '../../src/policy/budget-report.js';
import type { SpendRow } from '../../src/policy/budget.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { silentLogger } from '../../src/log.js';

// Wednesday 2026-03-18 15:30 UTC
const NOW = Date.UTC(2026, 2, 18, 15, 30);
const TODAY = Date.UTC(2026, 2, 18);
const row = (user: string, usd: number, model = 'gpt-4o'): SpendRow => ({ day: TODAY, provider: 'openai', host: 'api.openai.com', path: '/v1/chat/completions', api: 'chat.completions', model, tool: null, client: '10.0.0.9', user, session: null, usd });
const RULES = `rules:
  - {id: platform-only, mode: monitor, match: {team: platform}, budget: {usd: 50, period: day, per: user}}
  - {id: team-cap, budget: {usd: 100, period: month, per: team}}
`;
const withTeams = (teams: string, rules = RULES): CompiledPolicy => loadPolicyText(`teams: ${teams}\n${rules}`, 'p.yaml');
/** A report's keys and spend, per rule: what `stats --budgets` and the running proxy (/metrics, the policy page) each show. */
const chargers: BudgetCharger[] = [];
const charger = (archive: SpendRow[]): BudgetCharger => {
  const c = new BudgetCharger(silentLogger(), () => archive);
  chargers.push(c);
  return c;
};
// sync() starts loading the cost module for the charges to come: let it finish before the test ends.
afterAll(async () => {
  for (const c of chargers) await (c as unknown as { loading?: Promise<unknown> }).loading;
});
const spendOf = (report: ReturnType<typeof ledgerReport>) => Object.fromEntries(report.map((r) => [r.rule, Object.fromEntries(r.keys.map((k) => [k.key, k.spentUsd]))]));

/**
 * A reload that moves a user to another team: the running ledger must count as `stats
 * --budgets` counts from the archive with the new teams (alice's spend this period is her
 * new team's), not keep it under the team she left.
 */
describe('a reload that changes the teams', () => {
  it('re-reads the spend of the budget rules teams decide, so the running ledger agrees with stats --budgets', () => {
    const archive: SpendRow[] = [row('alice', 2), row('bob', 1)];
    const budgets = charger(archive);
    const before = withTeams('{platform: [alice], data: [bob]}');
    budgets.sync(before, NOW);
    // Live traffic after the start: charged by the proxy, and recorded in the archive.
    const [platformOnly, teamCap] = before.budget;
    budgets.chargeUsd(NOW, [{ rule: platformOnly!, key: 'user:alice' }, { rule: teamCap!, key: 'team:platform' }], 4);
    archive.push(row('alice', 4));
    expect(spendOf(ledgerReport(before, budgets.ledger, NOW))).toEqual({ 'platform-only': { 'user:alice': 6 }, 'team-cap': { 'team:platform': 6, 'team:data': 1 } });
    expect(spendOf(ledgerReport(before, budgets.ledger, NOW))).toEqual(spendOf(budgetReport(before, () => archive, NOW)));

    const after = withTeams('{platform: [carol], data: [alice, bob]}');
    budgets.sync(after, NOW);
    const stats = spendOf(budgetReport(after, () => archive, NOW));
    expect(stats).toEqual({ 'platform-only': {}, 'team-cap': { 'team:data': 7 } });
    expect(spendOf(ledgerReport(after, budgets.ledger, NOW))).toEqual(stats);
  });

  it('keeps the running spend of rules teams do not decide, and of every rule when the teams are unchanged', () => {
    const archive: SpendRow[] = [];
    const budgets = charger(archive);
    const rules = 'rules:\n  - {id: per-user, budget: {usd: 10, period: day, per: user}}\n  - {id: team-cap, mode: monitor, budget: {usd: 100, period: month, per: team}}\n';
    const before = withTeams('{platform: [alice]}', rules);
    budgets.sync(before, NOW);
    // Spend the archive has not seen yet (its writer is a few ms behind): a reload must not drop it.
    budgets.chargeUsd(NOW, [{ rule: before.budget[0]!, key: 'user:alice' }, { rule: before.budget[1]!, key: 'team:platform' }], 3);
    const same = withTeams('{platform: [alice]}', rules);
    budgets.sync(same, NOW);
    expect(spendOf(ledgerReport(same, budgets.ledger, NOW))).toEqual({ 'per-user': { 'user:alice': 3 }, 'team-cap': { 'team:platform': 3 } });
    const moved = withTeams('{data: [alice]}', rules);
    budgets.sync(moved, NOW);
    expect(spendOf(ledgerReport(moved, budgets.ledger, NOW))['per-user']).toEqual({ 'user:alice': 3 });
  });
});
