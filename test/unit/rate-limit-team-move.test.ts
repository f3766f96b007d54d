import { describe, expect, it } from 'vitest';
import { makeExchange, type WsMessageRecord } from '../../src/exchange.js';
import { BudgetLedger } from '../../src/policy/budget.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { evaluatePolicy, PolicyBuckets } from '../../src/policy/evaluate.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { spentBudget } from '../../src/policy/stage.js';
import type { MatchFacts } from '../../src/policy/types.js';
import { screenMessage } from '../../src/proxy/ws-screen.js';

const RULES = 'rules:\n  - {id: team-rate, rateLimit: {requestsPerMinute: 2, per: team}}\n';
const withTeams = (teams: string, rules = RULES): CompiledPolicy => loadPolicyText(`teams: ${teams}\n${rules}`, 'p.yaml');
const BEFORE = '{a: [alice, bob], b: [carol]}';
const AFTER = '{a: [bob], b: [alice, carol]}';
const NOW = 1_000_000;
const factsFor = (policy: CompiledPolicy, user: string): MatchFacts => ({ host: 'api.openai.com', path: '/v1/responses', api: 'responses', client: '10.0.0.9', user, team: policy.teams.get(user), model: 'gpt-5-codex' });
const msg = (model: string): WsMessageRecord => ({ seq: 0, direction: 'client', at: 0, opcode: 1, size: 0, compressed: false, truncated: false, text: JSON.stringify({ type: 'response.create', model }) });

/**
 * A reload that moves a user to another team: from then on the user's requests are counted
 * in the new team's bucket (per: team), and the old team's bucket keeps what was taken from
 * it — the buckets survive a reload (a reload must not hand anyone a fresh burst), only which
 * bucket a user's next request goes to changes. A Codex WebSocket session opened before the
 * reload follows the move too: its requests are judged under the live policy, and so under
 * the user's team in it, not the team of its upgrade.
 */
describe('a reload that moves a user to another team, and per: team rate limits', () => {
  it('counts an HTTP request in the new team\'s bucket; the old team keeps what was spent', () => {
    const buckets = new PolicyBuckets(() => NOW);
    const ask = (policy: CompiledPolicy, user: string) => evaluatePolicy(policy, factsFor(policy, user), {}, buckets).block?.code;
    const before = withTeams(BEFORE);
    expect(ask(before, 'alice')).toBeUndefined();
    expect(ask(before, 'bob')).toBeUndefined(); // team a spent
    const after = withTeams(AFTER);
    buckets.retain(after);
    expect(ask(after, 'bob')).toBe('rate_limited'); // team a kept what alice and bob took
    expect(ask(after, 'alice')).toBeUndefined(); // counted in team b now
    expect(ask(after, 'carol')).toBeUndefined();
    expect(ask(after, 'carol')).toBe('rate_limited'); // team b: alice and carol took its two
  });

  it('counts a request of a WebSocket session opened before the reload in the new team\'s bucket', () => {
    const buckets = new PolicyBuckets(() => NOW);
    const before = withTeams(BEFORE);
    const upgrade = factsFor(before, 'alice'); // the session's facts, taken at its upgrade
    const ex = makeExchange({ api: 'responses' });
    const screen = (policy: CompiledPolicy, facts: MatchFacts) => screenMessage(msg('gpt-5-codex'), { policy, buckets }, facts, ex, NOW).refusal?.code;
    expect(screen(before, upgrade)).toBeUndefined();
    const after = withTeams(AFTER);
    buckets.retain(after);
    expect(screen(after, upgrade)).toBeUndefined();
    // Team a: one request left (alice took one before the move); team b: one (she took one after).
    const ask = (user: string) => evaluatePolicy(after, factsFor(after, user), {}, buckets).block?.code;
    expect(ask('bob')).toBeUndefined();
    expect(ask('bob')).toBe('rate_limited');
    expect(ask('carol')).toBeUndefined();
    expect(ask('carol')).toBe('rate_limited');
    expect(ex.policy?.decisions ?? []).toEqual([]);
  });

  it('ends a session on the budget of the user\'s team in the live policy, not the team of its upgrade', () => {
    const rules = 'rules:\n  - {id: team-cap, budget: {usd: 1, period: day, per: team}}\n';
    const before = withTeams(BEFORE, rules);
    const after = withTeams(AFTER, rules);
    const ledger = new BudgetLedger();
    const now = Date.UTC(2026, 11, 7, 12);
    ledger.add(after.budget[0]!, 'team:b', 1.5, now);
    const upgrade = factsFor(before, 'alice');
    const runtime = { policy: after, buckets: new PolicyBuckets(), budgets: ledger } as Parameters<typeof spentBudget>[0];
    expect(spentBudget(runtime, upgrade, now)?.map((d) => d.key)).toEqual(['team:b']);
    expect(screenMessage(msg('gpt-5-codex'), runtime!, upgrade, makeExchange({ api: 'responses' }), now).refusal?.code).toBe('budget_exceeded');
  });
});
