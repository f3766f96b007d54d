import type { RuleStatsRow } from '../../archive/store.js';
import { budgetKeysJson, type BudgetReportRow } from '../../policy/budget-report.js';
import { summarize, type CompiledPolicy } from '../../policy/compile.js';
import { builtInRedactor } from '../../redact/redactor.js';

/** The running policy as the proxy holds it: rules, the file they came from, its budgets' ledger. */
export interface RunningPolicy {
  policy: CompiledPolicy;
  file: string | undefined;
  /** When it was loaded (at start or by a reload), epoch ms. */
  loadedAt: number;
  budgets: BudgetReportRow[];
}

/** A reload that did not validate (the running policy, or users, stayed): when, which file, the one-line reason (redacted, as logged). */
export interface RefusedReload {
  at: number;
  file: string;
  message: string;
  /** A users file's refusal under --config: the config file whose reload waits for it. */
  config?: string;
}

/** How far back the policy page counts each rule's decisions. */
export const DECISIONS_DAYS = 7;

/**
 * The web UI's policy page (pure): every rule as written, in file order (its match and
 * what it does; a credentials rule names where its value comes from, never the value),
 * how many exchanges it decided on lately, the teams, and each budget rule's keys against
 * their limit in the current period, from the running proxy's own ledger.
 */
export function policyPage(running: RunningPolicy, decisions: readonly RuleStatsRow[], now: number): Record<string, unknown> {
  const { policy } = running;
  const teams: Record<string, string[]> = {};
  for (const [user, team] of policy.teams) (teams[team] ??= []).push(user);
  return {
    file: running.file ?? null,
    loaded_at: running.loadedAt,
    summary: summarize(policy),
    teams,
    decisions_since: now - DECISIONS_DAYS * 86_400_000,
    rules: policy.asWritten.map((r) => {
      const d = decisions.find((x) => x.rule === r.id && x.kind === r.kind);
      // What it does: allow / deny for an access rule, else its action's settings (a rule's kind is its action's key).
      return {
        id: r.id, kind: r.kind, mode: r.mode, match: shown(r.spec.match ?? {}), does: shown(r.kind === 'access' ? r.spec.action : { [r.kind]: r.spec[r.kind] }),
        decisions: d ? { exchanges: d.exchanges, blocked: d.blocked, changed: d.changed, warned: d.warned, monitor: d.monitor, actions: d.actions } : null,
      };
    }),
    budgets: running.budgets.map((b) => ({
      rule: b.rule, per: b.per, period: b.period, period_start: b.periodStart, period_end: b.periodEnd, budget_usd: b.budgetUsd, warn_at: b.warnAt, mode: b.mode,
      shadowed_by: b.shadowedBy ?? null,
      keys: budgetKeysJson(b),
    })),
  };
}

/** A rule's part as JSON to show, through the redactor (a key pasted into a rule by mistake is not shown). */
function shown(value: unknown): unknown {
  return JSON.parse(builtInRedactor.json(JSON.stringify(value))) as unknown;
}
