import type { SqliteArchiveReader } from '../archive/sqlite-reader.js';
import { budgetKeysJson, budgetReport, type BudgetReportRow } from '../policy/budget-report.js';
import { loadPolicyFile, NO_SECRETS } from '../policy/load.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { ConfigError } from '../config-error.js';
import { printJson } from './open-reader.js';
import { printCsv } from './render/csv.js';
import type { ExchangeFilter } from '../archive/exchange-filter.js';
import { percent, usd } from './render/format.js';
import { renderTable, terminalWidth, useColor } from './render/table.js';

/** `stats --by rule`: per policy rule, the exchanges it decided on and how many it blocked, changed, warned about or only watched. */
export function printRuleStats(reader: SqliteArchiveReader, filter: ExchangeFilter, format: 'table' | 'json' | 'csv'): void {
  const rows = reader.ruleStats(filter);
  const records = rows.map((r) => ({ rule: r.rule, kind: r.kind, exchanges: r.exchanges, blocked: r.blocked, changed: r.changed, warned: r.warned, monitor: r.monitor, actions: r.actions }));
  if (format === 'json') return printJson(records);
  if (format === 'csv') return printCsv(records, { rule: '', kind: '', exchanges: 0, blocked: 0, changed: 0, warned: 0, monitor: 0 });
  if (rows.length === 0) {
    process.stdout.write('no policy decisions in this range\n');
    return;
  }
  process.stdout.write(renderTable(
    [
      { header: 'RULE', flexible: true }, { header: 'KIND' }, { header: 'EXCHANGES', align: 'right' }, { header: 'BLOCKED', align: 'right' },
      { header: 'CHANGED', align: 'right' }, { header: 'WARNED', align: 'right' }, { header: 'MONITOR', align: 'right' }, { header: 'ACTIONS', flexible: true },
    ],
    rows.map((r) => [r.rule, r.kind, String(r.exchanges), String(r.blocked), String(r.changed), String(r.warned), String(r.monitor), actionsText(r.actions)]),
    { width: terminalWidth(process.stdout), color: useColor(process.stdout) },
  ));
  process.stdout.write('BLOCKED: refused by the rule; CHANGED: body redacted or max tokens clamped; WARNED: budget past warnAt; MONITOR: decided in monitor mode, nothing enforced; ACTIONS: enforced decisions per action\n');
}

function actionsText(actions: Record<string, number>): string {
  return Object.entries(actions).map(([action, n]) => `${action} ${n}`).join(', ') || '-';
}

/** `stats --budgets FILE`: each budget rule of the policy file against what the archive spent in its current period. */
export function printBudgets(reader: SqliteArchiveReader, policyFile: string, json: boolean, now = Date.now()): void {
  let policy: CompiledPolicy;
  try {
    // Spend needs no credential: a credentials rule's variable need not be set where the archive is read.
    policy = loadPolicyFile(policyFile, NO_SECRETS);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`llmtap: --budgets ${err.message}\n`);
    process.exitCode = 1;
    return;
  }
  const report = budgetReport(policy, (since) => reader.spendSince(since), now);
  if (json) return printJson(report.map(budgetJson));
  if (report.length === 0) {
    process.stdout.write(`${policyFile}: no budget rules\n`);
    return;
  }
  const rows: string[][] = [];
  for (const r of report) {
    const head = [r.rule + (r.mode === 'monitor' ? ' (monitor)' : ''), `${r.period} from ${new Date(r.periodStart).toISOString().slice(0, 10)}`, usd(r.budgetUsd)];
    // A rule an enforced one above takes every request of says so, not "$0 ok" for ever (it has no spend: seeding follows the same first match).
    if (r.keys.length === 0 && r.shadowedBy !== undefined) rows.push([...head, `${r.per}: -`, '-', '-', `shadowed by ${r.shadowedBy}`]);
    else if (r.keys.length === 0) rows.push([...head, `${r.per}: -`, usd(0), percent(0), 'ok']);
    for (const k of r.keys) rows.push([...head, k.key, usd(k.spentUsd), percent(k.used), k.state]);
  }
  process.stdout.write(renderTable(
    [{ header: 'RULE', flexible: true }, { header: 'PERIOD' }, { header: 'BUDGET', align: 'right' }, { header: 'KEY', flexible: true }, { header: 'SPENT', align: 'right' }, { header: 'USED', align: 'right' }, { header: 'STATE' }],
    rows,
    { width: terminalWidth(process.stdout), color: useColor(process.stdout) },
  ));
  process.stdout.write('periods in UTC; spend is the recorded cost of exchanges (unpriced exchanges count nothing)\n');
  if (report.some((r) => r.shadowedBy !== undefined && r.keys.length === 0)) {
    process.stdout.write('shadowed by RULE: never applies, RULE above it is enforced and matches every request it matches (check-config warns)\n');
  }
}

function budgetJson(r: BudgetReportRow): Record<string, unknown> {
  return {
    rule: r.rule, per: r.per, period: r.period, period_start: new Date(r.periodStart).toISOString(), period_end: new Date(r.periodEnd).toISOString(),
    budget_usd: r.budgetUsd, warn_at: r.warnAt, mode: r.mode, shadowed_by: r.shadowedBy ?? null,
    keys: budgetKeysJson(r),
  };
}
