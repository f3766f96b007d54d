import type { BudgetRule, CompiledPolicy } from './compile.js';
import type { BudgetDecision, BudgetPer, BudgetPeriod, MatchFacts } from './types.js';

const DAY_MS = 86_400_000;

/** The day last asked about: every budgeted request asks, nearly always about the same day. */
let lastDay = { from: 0, to: 0, day: 0, week: 0, month: 0 };

/** Start of the period holding `t` (epoch ms), in UTC: midnight, Monday midnight, the 1st. */
export function periodStart(period: BudgetPeriod, t: number): number {
  if (!(t >= lastDay.from && t < lastDay.to)) {
    const from = computePeriodStart('day', t);
    lastDay = { from, to: from + DAY_MS, day: from, week: computePeriodStart('week', t), month: computePeriodStart('month', t) };
  }
  return lastDay[period];
}

function computePeriodStart(period: BudgetPeriod, t: number): number {
  const d = new Date(t);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  switch (period) {
    case 'day': return midnight;
    case 'week': return midnight - ((d.getUTCDay() + 6) % 7) * DAY_MS;
    case 'month': return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
}

/** First instant of the next period (when a spent budget opens again). */
export function periodEnd(period: BudgetPeriod, t: number): number {
  const start = periodStart(period, t);
  if (period === 'day') return start + DAY_MS;
  if (period === 'week') return start + 7 * DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** What spend is kept per: the proxy user (else the client address), the team (else the user), the tool or the model. */
export function budgetKey(per: BudgetPer, f: MatchFacts): string {
  const who = f.user ?? f.client;
  switch (per) {
    case 'user': return `user:${who}`;
    case 'team': return f.team === undefined ? `user:${who}` : `team:${f.team}`;
    case 'tool': return `tool:${f.tool ?? ''}`;
    case 'model': return `model:${f.model ?? ''}`;
  }
}

interface Spend {
  start: number;
  usd: number;
  /** The warning line was logged for this key and period (or the spend came from the archive already past it). */
  warned: boolean;
}

/** A crossing worth one log line: past warnAt, or past the whole budget. */
export interface BudgetCrossing {
  rule: BudgetRule;
  key: string;
  crossed: 'warn' | 'exceeded';
  spentUsd: number;
}

/** Spend per budget rule and key for the current period; a key whose period ended starts again at zero. */
export class BudgetLedger {
  private readonly byRule = new Map<string, Map<string, Spend>>();

  /** Rule signatures seeded (from the archive) or charged since. */
  has(rule: BudgetRule): boolean {
    return this.byRule.has(signature(rule));
  }

  /** After a reload: forgets rules that are gone or changed; returns the rules to seed from the archive. */
  retain(rules: readonly BudgetRule[]): BudgetRule[] {
    const live = new Set(rules.map(signature));
    for (const sig of this.byRule.keys()) if (!live.has(sig)) this.byRule.delete(sig);
    return rules.filter((r) => !this.byRule.has(signature(r)));
  }

  /** Marks a rule as seeded (even with no spend), so a reload does not seed it again. */
  open(rule: BudgetRule): void {
    if (!this.byRule.has(signature(rule))) this.byRule.set(signature(rule), new Map());
  }

  spent(rule: BudgetRule, key: string, now: number): number {
    return this.entry(rule, key, now)?.usd ?? 0;
  }

  /** Spend that was recorded before this process saw it (the archive): no warning is logged for it. */
  seed(rule: BudgetRule, key: string, usd: number, now: number): void {
    const spend = this.entry(rule, key, now, true)!;
    spend.usd += usd;
    if (spend.usd >= rule.warnAt * rule.usd) spend.warned = true;
  }

  /** Adds an exchange's cost; says when this crossed the warning threshold or the budget (once each per key and period). */
  add(rule: BudgetRule, key: string, usd: number, now: number): BudgetCrossing | undefined {
    const spend = this.entry(rule, key, now, true)!;
    const before = spend.usd;
    spend.usd += usd;
    if (before < rule.usd && spend.usd >= rule.usd) {
      spend.warned = true;
      return { rule, key, crossed: 'exceeded', spentUsd: spend.usd };
    }
    if (!spend.warned && spend.usd >= rule.warnAt * rule.usd) {
      spend.warned = true;
      return { rule, key, crossed: 'warn', spentUsd: spend.usd };
    }
    return undefined;
  }

  /** Every key with spend in its current period, per rule (for `stats --budgets`). */
  keys(rule: BudgetRule, now: number): { key: string; spentUsd: number }[] {
    const start = periodStart(rule.period, now);
    const spends = this.byRule.get(signature(rule));
    if (!spends) return [];
    return [...spends.entries()].filter(([, s]) => s.start === start).map(([key, s]) => ({ key, spentUsd: s.usd }));
  }

  private entry(rule: BudgetRule, key: string, now: number, create = false): Spend | undefined {
    const sig = signature(rule);
    let spends = this.byRule.get(sig);
    if (!spends) {
      if (!create) return undefined;
      this.byRule.set(sig, (spends = new Map()));
    }
    const start = periodStart(rule.period, now);
    let spend = spends.get(key);
    if (spend && spend.start !== start) {
      // A new period: what was spent before no longer counts.
      spends.delete(key);
      spend = undefined;
    }
    if (!spend && create) spends.set(key, (spend = { start, usd: 0, warned: false }));
    return spend;
  }
}

/**
 * Spend kept across a reload only while what it was counted for is the same (teams too,
 * where they decide it: compile.ts teamsSource). The amount may change.
 * Remembered per compiled rule: the ledger is read twice per budgeted request.
 */
const signatures = new WeakMap<BudgetRule, string>();
function signature(rule: BudgetRule): string {
  let sig = signatures.get(rule);
  if (sig === undefined) signatures.set(rule, (sig = `${rule.id}\u0000${rule.period}\u0000${rule.per}\u0000${rule.matchSource}\u0000${rule.teamsSource}`));
  return sig;
}

/** Which budget rule a charge goes to, and under which key. */
export interface BudgetCharge {
  rule: BudgetRule;
  key: string;
}

export interface BudgetEvaluation {
  decisions: BudgetDecision[];
  /** An enforced budget is spent: refuse, and say when it opens again. */
  block?: { retryAfterSeconds: number };
  charges: BudgetCharge[];
}

/**
 * Budget rules for one request, pure over the facts and the ledger. Like every kind,
 * the first enforced rule that matches decides; monitor rules matched before it are
 * recorded and charged too (so they show when they would have blocked). A decision is
 * recorded only past the warning threshold (warn) or the budget (block).
 */
export function evaluateBudgets(rules: readonly BudgetRule[], facts: MatchFacts, ledger: BudgetLedger, now: number): BudgetEvaluation {
  const out: BudgetEvaluation = { decisions: [], charges: [] };
  for (const rule of rules) {
    if (!rule.match(facts)) continue;
    const enforced = rule.mode === 'enforce';
    const key = budgetKey(rule.per, facts);
    const spent = ledger.spent(rule, key, now);
    const over = spent >= rule.usd;
    if (over || spent >= rule.warnAt * rule.usd) {
      out.decisions.push({
        rule: rule.id, kind: 'budget', action: over ? 'block' : 'warn', enforced, key, period: rule.period,
        periodStart: new Date(periodStart(rule.period, now)).toISOString(), spentUsd: round(spent), limitUsd: rule.usd,
      });
    }
    if (over && enforced) {
      out.block = { retryAfterSeconds: Math.max(1, Math.ceil((periodEnd(rule.period, now) - now) / 1000)) };
      out.charges = [];
      return out;
    }
    out.charges.push({ rule, key });
    if (enforced) break;
  }
  return out;
}

/**
 * The budgets a cost goes to, whatever they have spent: each matching rule up to the first
 * enforced one, as evaluateBudgets charges them. For a Codex WebSocket session, whose
 * requests name their models one by one (each response is charged with its own model's).
 */
export function budgetChargesFor(rules: readonly BudgetRule[], facts: MatchFacts): BudgetCharge[] {
  const out: BudgetCharge[] = [];
  for (const rule of rules) {
    if (!rule.match(facts)) continue;
    out.push({ rule, key: budgetKey(rule.per, facts) });
    if (rule.mode === 'enforce') break;
  }
  return out;
}

/** Archived spend, summed per UTC day and the facts rules match on (ArchiveReader.spendSince). */
export interface SpendRow {
  /** Start of the UTC day (epoch ms). */
  day: number;
  provider: string | null;
  host: string;
  path: string;
  api: string | null;
  model: string | null;
  tool: string | null;
  client: string;
  user: string | null;
  session: string | null;
  usd: number;
}

/** Where archived spend starts to matter: the start of the longest current period of any budget rule. */
export function spendSince(rules: readonly BudgetRule[], now: number): number {
  return Math.min(now, ...rules.map((r) => periodStart(r.period, now)));
}

/**
 * Seeds `rules` (new to the ledger) with spend already in the archive for their current
 * period, choosing rules per row as a request would have (first enforced match wins,
 * monitor rules before it count too). Rules of the policy not in `rules` keep their state.
 */
export function seedBudgets(ledger: BudgetLedger, policy: CompiledPolicy, rules: readonly BudgetRule[], rows: Iterable<SpendRow>, now: number): void {
  const seeding = new Set(rules);
  for (const rule of rules) ledger.open(rule);
  if (seeding.size === 0) return;
  for (const row of rows) {
    const facts = spendFacts(row, policy.teams);
    for (const rule of policy.budget) {
      if (!rule.match(facts)) continue;
      if (seeding.has(rule) && row.day >= periodStart(rule.period, now)) ledger.seed(rule, budgetKey(rule.per, facts), row.usd, now);
      if (rule.mode === 'enforce') break;
    }
  }
}

function spendFacts(row: SpendRow, teams: ReadonlyMap<string, string>): MatchFacts {
  const opt = (v: string | null): string | undefined => v ?? undefined;
  return {
    provider: opt(row.provider) as MatchFacts['provider'], host: row.host, path: row.path, api: opt(row.api) as MatchFacts['api'],
    model: opt(row.model), tool: opt(row.tool), client: row.client, user: opt(row.user),
    team: row.user === null ? undefined : teams.get(row.user), session: opt(row.session),
  };
}

function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
