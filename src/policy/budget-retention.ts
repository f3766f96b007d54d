import type { BudgetRule } from './compile.js';
import type { BudgetPeriod } from './types.js';

/** The longest each period can be, in days: spend that old may still count in it. */
const PERIOD_DAYS: Readonly<Record<BudgetPeriod, number>> = { day: 1, week: 7, month: 31 };

/**
 * Budget rules whose period outlasts the archive's retention, one line each. A budget
 * starts from the spend the archive holds for its current period (at start, and on a
 * reload that seeds it again: budget.ts seedBudgets), and retention deletes exchanges
 * older than `retainDays`: with `retainDays: 7`, a monthly budget restarted on the 20th
 * would count only the last 7 days' spend and let its users spend the rest again. The
 * proxy runs as configured; check-config and the log say so. Pure.
 */
export function retentionWarnings(budgets: readonly Pick<BudgetRule, 'id' | 'period'>[], retainDays: number | undefined): string[] {
  if (retainDays === undefined) return [];
  return budgets.filter((rule) => retainDays < PERIOD_DAYS[rule.period]).map((rule) =>
    `retainDays ${retainDays} deletes exchanges before the ${rule.period} of budget rule "${rule.id}" is over: after a restart, `
    + `or a reload that seeds the rule again, it counts only the spend of the last ${retainDays} day${retainDays === 1 ? '' : 's'} `
    + `(budgets start from the archive); keep retainDays at least ${PERIOD_DAYS[rule.period]} for a ${rule.period}`);
}
