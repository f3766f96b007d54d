import type { BudgetRule, CompiledPolicy, PolicyWarning } from './compile.js';
import { dotted, globs, matchValues, parseCidr } from './match.js';
import type { MatchSpec } from './types.js';

/**
 * Budget rules no request can reach. Within budgets the first enforced rule that matches
 * a request decides and the rules below it are not charged (budget.ts), so a rule below
 * an enforced one that matches every request it matches never applies: `stats --budgets`
 * would show it at $0, ok, for ever. Found conservatively — a rule is flagged only when
 * the earlier rule's match is shown to be a superset of its own, condition by condition;
 * a rule that never applies for a subtler reason may go unflagged, since calling a live
 * rule dead would be the worse mistake.
 */
export function budgetShadows(policy: Pick<CompiledPolicy, 'budget' | 'teams'>): Map<BudgetRule, BudgetRule> {
  const out = new Map<BudgetRule, BudgetRule>();
  policy.budget.forEach((rule, i) => {
    // A shadowed rule never takes a request: the one above it that covers it does (and covers what it covers).
    const by = policy.budget.slice(0, i).find((earlier) => earlier.mode === 'enforce' && !out.has(earlier) && covers(earlier.matchSpec, rule.matchSpec, policy.teams));
    if (by) out.set(rule, by);
  });
  return out;
}

/**
 * A warning per budget rule that never applies, at the rule (`rules[N]`), naming the rule that
 * takes its requests and what to do: one of the policy's load warnings (compile.ts), placed
 * and worded like the others (`file:line: rules[N]: …`).
 */
export function budgetShadowWarnings(policy: Pick<CompiledPolicy, 'budget' | 'teams' | 'asWritten'>): PolicyWarning[] {
  const at = (rule: BudgetRule): number => policy.asWritten.findIndex((r) => r.kind === 'budget' && r.id === rule.id);
  return [...budgetShadows(policy)].map(([rule, by]) => {
    const path = ['rules', at(rule)];
    const message = `budget rule "${rule.id}" never applies: the enforced budget rule "${by.id}" above it (${dotted(['rules', at(by)])}) matches every request it matches (within budgets the first enforced match wins). List it first, or make "${by.id}" mode: monitor to count both`;
    return { path, message, text: `${dotted(path)}: ${message}` };
  });
}

const isGlob = (v: string): boolean => /[*?]/.test(v);

/** Whether every request `later` matches is matched by `earlier`: each of earlier's conditions holds on all of them. */
function covers(earlier: MatchSpec, later: MatchSpec, teams: ReadonlyMap<string, string>): boolean {
  for (const field of Object.keys(earlier) as (keyof MatchSpec)[]) {
    const wide = matchValues(earlier[field]);
    if (wide === undefined) continue;
    const narrow = matchValues(later[field]);
    if (field === 'team' && narrow === undefined) {
      if (!usersInTeams(wide, matchValues(later.user), teams)) return false;
      continue;
    }
    // A condition the later rule lacks: it matches requests the earlier one may not.
    if (narrow === undefined) return false;
    if (!(field === 'client' ? cidrsCover(wide, narrow) : globsCover(wide, narrow))) return false;
  }
  return true;
}

/**
 * Each value the later rule accepts is accepted by the earlier globs (both match without
 * case): a literal they match, a glob written the same, any glob under a bare `*`, or a
 * glob whose literal start begins with a `PREFIX*` of theirs.
 */
function globsCover(wide: string[], narrow: string[]): boolean {
  const test = globs(wide);
  const lower = wide.map((w) => w.toLowerCase());
  return narrow.every((value) => {
    if (!isGlob(value)) return test(value);
    const v = value.toLowerCase();
    const start = v.slice(0, v.search(/[*?]/));
    return lower.some((w) => w === '*' || w === v || (/^[^*?]*\*$/.test(w) && start.startsWith(w.slice(0, -1))));
  });
}

/** Each address or CIDR the later rule names lies inside one the earlier rule names. */
function cidrsCover(wide: string[], narrow: string[]): boolean {
  const outer = wide.map(parseCidr);
  return narrow.every((value) => {
    const inner = parseCidr(value);
    return inner !== undefined && outer.some((o) => o !== undefined && o.v6 === inner.v6 && o.prefix <= inner.prefix && inner.bits >> BigInt(inner.prefix - o.prefix) === o.bits);
  });
}

/**
 * The earlier rule names teams, the later one users: covered when each user is named
 * (literally) in `teams:` in a team the earlier rule names. This assumes, as `teams:`
 * does, that a user named there is that proxy user: a match on `user` ignores case, so
 * a second proxy user whose name differs only in case (and is in no team) would escape.
 */
function usersInTeams(wideTeams: string[], users: string[] | undefined, teams: ReadonlyMap<string, string>): boolean {
  if (users === undefined) return false;
  const test = globs(wideTeams);
  return users.every((user) => {
    if (isGlob(user)) return false;
    const named = [...teams].filter(([name]) => name.toLowerCase() === user.toLowerCase());
    return named.length > 0 && named.every(([, team]) => test(team));
  });
}
