import { describe, expect, it } from 'vitest';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { PolicyBuckets } from '../../src/policy/evaluate.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { sessionBudgetCharges, sessionCharges } from '../../src/policy/stage.js';
import type { MatchFacts } from '../../src/policy/types.js';

const BEFORE = loadPolicyText(`teams: {a: [alice]}
rules:
  - {id: team-tokens, match: {api: realtime}, rateLimit: {tokensPerMinute: 1000, per: team}}
  - {id: team-day, budget: {usd: 5, period: day, per: team}}
`, 'p.yaml');
const AFTER = loadPolicyText(`teams: {b: [alice]}
rules:
  - {id: user-tokens, match: {api: realtime}, rateLimit: {tokensPerMinute: 40, per: user}}
  - {id: codex-model, match: {model: "gpt-5*"}, budget: {usd: 1, period: day, per: model}}
  - {id: team-day, budget: {usd: 5, period: day, per: team}}
`, 'p.yaml');
const upgrade = (api: 'realtime' | 'responses', policy: CompiledPolicy, model?: string): MatchFacts =>
  ({ host: 'api.openai.com', path: `/v1/${api}`, api, client: '10.0.0.9', user: 'alice', team: policy.teams.get('alice'), model });
const describeCharges = (c: ReturnType<typeof sessionCharges>) => ({ tokens: c.charges.map((t) => t.key), budgets: c.budgetCharges?.map((b) => `${b.rule.id} ${b.key}`) });

/**
 * A WebSocket session's responses are charged under the policy in force when each ends,
 * not the one of its upgrade: a reload's new rules, and the team it moves the user to.
 */
describe('what a session\'s response is charged to after a reload', () => {
  it('a Realtime session: the token buckets and budgets of the live rules, the user in the live team', () => {
    const facts = upgrade('realtime', BEFORE, 'gpt-realtime');
    const buckets = new PolicyBuckets();
    expect(describeCharges(sessionCharges({ policy: BEFORE, buckets }, facts))).toEqual({ tokens: ['team:a'], budgets: ['team-day team:a'] });
    const after = sessionCharges({ policy: AFTER, buckets }, facts);
    expect(describeCharges(after)).toEqual({ tokens: ['user:alice'], budgets: ['team-day team:b'] });
    expect(after.charges[0]!.limiter).toBe(buckets.for(AFTER.rateLimit[0]!).tokens);
  });

  it('a Codex session: the budgets of the model that answered, under the live rules and team', () => {
    const facts = upgrade('responses', BEFORE);
    expect(sessionBudgetCharges(BEFORE, facts, 'gpt-5-codex')?.map((b) => `${b.rule.id} ${b.key}`)).toEqual(['team-day team:a']);
    expect(sessionBudgetCharges(AFTER, facts, 'gpt-5-codex')?.map((b) => `${b.rule.id} ${b.key}`)).toEqual(['codex-model model:gpt-5-codex']);
    expect(sessionBudgetCharges(AFTER, facts, 'o4-mini')?.map((b) => `${b.rule.id} ${b.key}`)).toEqual(['team-day team:b']);
  });
});
