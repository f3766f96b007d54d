import { describe, expect, it } from 'vitest';
import { budgetReport } from '../../src/policy/budget-report.js';
import { budgetShadows } from '../../src/policy/budget-shadow.js';
import type { SpendRow } from '../../src/policy/budget.js';
import { loadPolicyText } from '../../src/policy/load.js';
import type { MatchFacts } from '../../src/policy/types.js';

const policy = (yaml: string) => loadPolicyText(yaml, 'p.yaml');
/** Rule id → the id of the rule that takes its requests, for the shadowed ones. */
const shadows = (yaml: string): Record<string, string> => {
  const p = policy(yaml);
  return Object.fromEntries([...budgetShadows(p)].map(([rule, by]) => [rule.id, by.id]));
};
const TEAMS = 'teams: {platform: [alice, bob], data: [carol]}\n';

/**
 * Budget rules are first-match within their kind: a budget rule after an enforced one that
 * matches every request it matches is never charged. Found conservatively (a rule flagged
 * must truly never apply; some that never apply may go unflagged).
 */
describe('budget rules no request can reach', () => {
  it('an enforced rule with no match shadows every budget rule below it; a monitor one shadows none', () => {
    expect(shadows(`${TEAMS}rules:
  - {id: team-cap, budget: {usd: 100, period: month, per: team}}
  - {id: alice-cap, match: {user: alice}, budget: {usd: 10, period: month, per: user}}
  - {id: per-user, budget: {usd: 5, period: day, per: user}}
  - {id: watch, mode: monitor, budget: {usd: 5, period: day, per: user}}
`)).toEqual({ 'alice-cap': 'team-cap', 'per-user': 'team-cap', watch: 'team-cap' });
    expect(shadows(`rules:
  - {id: team-cap, mode: monitor, budget: {usd: 100, period: month, per: team}}
  - {id: per-user, budget: {usd: 5, period: day, per: user}}
`)).toEqual({});
    // Other kinds do not take a budget's requests.
    expect(shadows(`rules:
  - {id: deny-none, action: allow}
  - {id: per-user, budget: {usd: 5, period: day, per: user}}
`)).toEqual({});
  });

  it('a condition covers the same condition narrower: a literal its glob matches, a longer prefix, a smaller CIDR, a user of its team', () => {
    expect(shadows(`${TEAMS}rules:
  - {id: gpt, match: {model: ["gpt-4o*", o3]}, budget: {usd: 1, period: day, per: model}}
  - {id: mini, match: {model: GPT-4O-MINI}, budget: {usd: 1, period: day, per: user}}
  - {id: minis, match: {model: "gpt-4o-mini*"}, budget: {usd: 1, period: day, per: user}}
  - {id: o3, match: {model: o3, tool: codex}, budget: {usd: 1, period: day, per: user}}
  - {id: net, match: {client: 10.0.0.0/8}, budget: {usd: 1, period: day, per: user}}
  - {id: subnet, match: {client: [10.1.0.0/16, 10.2.3.4]}, budget: {usd: 1, period: day, per: user}}
  - {id: plat, match: {team: platform}, budget: {usd: 1, period: day, per: team}}
  - {id: plat-users, match: {user: [alice, bob]}, budget: {usd: 1, period: day, per: user}}
  - {id: plat-again, match: {team: platform, provider: openai}, budget: {usd: 1, period: day, per: user}}
`)).toEqual({ mini: 'gpt', minis: 'gpt', o3: 'gpt', subnet: 'net', 'plat-users': 'plat', 'plat-again': 'plat' });
  });

  it('not when the earlier rule could miss a request the later one matches', () => {
    expect(shadows(`${TEAMS}rules:
  - {id: gpt, match: {model: "gpt-4o*"}, budget: {usd: 1, period: day, per: model}}
  - {id: any-gpt, match: {model: "gpt-*"}, budget: {usd: 1, period: day, per: user}}
  - {id: other-glob, match: {model: "*-mini"}, budget: {usd: 1, period: day, per: user}}
  - {id: tool-only, match: {tool: codex}, budget: {usd: 1, period: day, per: user}}
  - {id: mixed, match: {model: [gpt-4o, o3]}, budget: {usd: 1, period: day, per: user}}
  - {id: plat, match: {team: platform}, budget: {usd: 1, period: day, per: team}}
  - {id: carol, match: {user: [alice, carol]}, budget: {usd: 1, period: day, per: user}}
  - {id: stranger, match: {user: dave}, budget: {usd: 1, period: day, per: user}}
  - {id: user-glob, match: {user: "a*"}, budget: {usd: 1, period: day, per: user}}
  - {id: net, match: {client: 10.1.0.0/16}, budget: {usd: 1, period: day, per: user}}
  - {id: wider, match: {client: 10.0.0.0/8}, budget: {usd: 1, period: day, per: user}}
  - {id: v6, match: {client: "fd00::/8"}, budget: {usd: 1, period: day, per: user}}
  - {id: no-match, budget: {usd: 1, period: day, per: user}}
`)).toEqual({});
  });

  it('what it flags never applies: over many requests, whatever the later rule matches the earlier one matches too', () => {
    const yaml = `${TEAMS}rules:
  - {id: gpt, match: {model: ["gpt-4o*", o3], team: platform}, budget: {usd: 1, period: day, per: model}}
  - {id: a, match: {model: gpt-4o-mini, user: alice}, budget: {usd: 1, period: day, per: user}}
  - {id: b, match: {model: "gpt-4o-*", team: platform, tool: codex}, budget: {usd: 1, period: day, per: user}}
  - {id: c, match: {model: o3, user: [alice, bob], client: 10.0.0.0/8}, budget: {usd: 1, period: day, per: user}}
`;
    const p = policy(yaml);
    const found = budgetShadows(p);
    expect([...found.keys()].map((r) => r.id)).toEqual(['a', 'b', 'c']);
    const values = { model: ['gpt-4o', 'GPT-4O-MINI', 'gpt-4o-mini', 'o3', 'o3-mini', 'gpt-5', undefined], user: ['alice', 'bob', 'carol', 'dave', undefined], tool: ['codex', 'claude-code', undefined], client: ['10.1.2.3', '192.168.0.1', '::1'] };
    let checked = 0;
    for (const model of values.model) for (const user of values.user) for (const tool of values.tool) for (const client of values.client) {
      const facts: MatchFacts = { provider: 'openai', host: 'api.openai.com', path: '/v1/chat/completions', model, user, tool, client, team: user === undefined ? undefined : p.teams.get(user) };
      for (const [rule, by] of found) {
        if (rule.match(facts)) {
          checked++;
          expect(by.match(facts), `${rule.id} ${JSON.stringify(facts)}`).toBe(true);
        }
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('warnings name both rules and what to do; stats --budgets marks the rule shadowed instead of a bare $0 ok', () => {
    const p = policy(`${TEAMS}rules:
  - {id: team-cap, budget: {usd: 100, period: month, per: team}}
  - {id: alice-cap, match: {user: alice}, budget: {usd: 10, period: month, per: user}}
`);
    // One of the policy's load warnings, at the rule (loadPolicyText puts the file and line in front).
    expect(p.warnings?.map((w) => w.text)).toEqual([
      expect.stringMatching(/:4: rules\[1\]: budget rule "alice-cap" never applies: the enforced budget rule "team-cap" above it \(rules\[0\]\) matches every request it matches \(within budgets the first enforced match wins\)\. List it first, or make "team-cap" mode: monitor to count both$/),
    ]);
    const now = Date.UTC(2026, 2, 18, 15, 30);
    const rows: SpendRow[] = [{ day: Date.UTC(2026, 2, 18), provider: 'openai', host: 'api.openai.com', path: '/v1/chat/completions', api: 'chat.completions', model: 'gpt-4o', tool: null, client: '10.0.0.1', user: 'alice', session: null, usd: 2 }];
    const report = budgetReport(p, () => rows, now);
    expect(report.map((r) => [r.rule, r.shadowedBy, r.keys.map((k) => k.key)])).toEqual([['team-cap', undefined, ['team:platform']], ['alice-cap', 'team-cap', []]]);
  });
});
