import { BudgetLedger, periodEnd, periodStart, seedBudgets, spendSince, type SpendRow } from './budget.js';
import { budgetShadows } from './budget-shadow.js';
import type { CompiledPolicy } from './compile.js';
import { usdFigure } from '../archive/stats-json.js';

export interface BudgetReportRow {
  rule: string;
  per: string;
  period: string;
  periodStart: number;
  periodEnd: number;
  budgetUsd: number;
  warnAt: number;
  mode: string;
  /** The enforced budget rule above that matches every request this one matches (budget-shadow.ts): it never applies. */
  shadowedBy?: string;
  /** Keys with spend this period, most spent first. */
  keys: { key: string; spentUsd: number; used: number; state: 'ok' | 'warn' | 'spent' }[];
}

/** A row's keys as `stats --budgets --json` and the web UI's policy page give them: spend to 12 significant digits (usdFigure). */
export function budgetKeysJson(row: BudgetReportRow): { key: string; spent_usd: number | null; used: number; state: string }[] {
  return row.keys.map((k) => ({ key: k.key, spent_usd: usdFigure(k.spentUsd), used: k.used, state: k.state }));
}

/**
 * Spend against each budget rule for its current period, from archived spend: the same
 * accounting the proxy seeds itself with at start (first enforced match wins per row).
 */
export function budgetReport(policy: CompiledPolicy, spend: (since: number) => Iterable<SpendRow>, now: number): BudgetReportRow[] {
  if (policy.budget.length === 0) return [];
  const ledger = new BudgetLedger();
  seedBudgets(ledger, policy, ledger.retain(policy.budget), spend(spendSince(policy.budget, now)), now);
  return ledgerReport(policy, ledger, now);
}

/** Spend against each budget rule for its current period, as a ledger holds it (the running proxy's: the /metrics gauges). */
export function ledgerReport(policy: CompiledPolicy, ledger: BudgetLedger, now: number): BudgetReportRow[] {
  const shadows = budgetShadows(policy);
  return policy.budget.map((rule) => ({
    rule: rule.id, per: rule.per, period: rule.period, periodStart: periodStart(rule.period, now), periodEnd: periodEnd(rule.period, now),
    budgetUsd: rule.usd, warnAt: rule.warnAt, mode: rule.mode, shadowedBy: shadows.get(rule)?.id,
    keys: ledger.keys(rule, now)
      .map(({ key, spentUsd }) => {
        const used = spentUsd / rule.usd;
        return { key, spentUsd, used, state: used >= 1 ? 'spent' as const : used >= rule.warnAt ? 'warn' as const : 'ok' as const };
      })
      .sort((a, b) => b.spentUsd - a.spentUsd || a.key.localeCompare(b.key)),
  }));
}
