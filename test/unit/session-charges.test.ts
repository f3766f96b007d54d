import { describe, expect, it } from 'vitest';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { PolicyBuckets } from '../../src/policy/evaluate.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { BudgetLedger } from '../../src/policy/budget.js';
import { sessionBudgetCharges, sessionCharges, spentBudget } from '../../src/policy/stage.js';
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

  it('a response that names another model than its upgrade: the budgets of the model that answered, and the spent check looks at those; tokens keep the upgrade\'s model, or take the response\'s when the upgrade named none', () => {
    const realtime = upgrade('realtime', AFTER, 'gpt-realtime');
    const buckets = new PolicyBuckets();
    const PER_MODEL = loadPolicyText('rules:\n  - {id: model-tokens, rateLimit: {tokensPerMinute: 40, per: model}}\n  - {id: mini-day, match: {model: "gpt-realtime-mini"}, budget: {usd: 1, period: day, per: model}}\n', 'p.yaml');
    expect(describeCharges(sessionCharges({ policy: PER_MODEL, buckets }, realtime, 'gpt-realtime-mini'))).toEqual({ tokens: ['model:gpt-realtime'], budgets: ['mini-day model:gpt-realtime-mini'] });
    expect(describeCharges(sessionCharges({ policy: PER_MODEL, buckets }, realtime))).toEqual({ tokens: ['model:gpt-realtime'], budgets: undefined });
    expect(describeCharges(sessionCharges({ policy: PER_MODEL, buckets }, upgrade('responses', AFTER), 'gpt-5-codex')).tokens).toEqual(['model:gpt-5-codex']);
    const budgets = new BudgetLedger();
    budgets.retain(PER_MODEL.budget);
    budgets.open(PER_MODEL.budget[0]!);
    const now = Date.now();
    budgets.add(PER_MODEL.budget[0]!, 'model:gpt-realtime-mini', 2, now);
    const runtime = { policy: PER_MODEL, buckets, budgets };
    expect(spentBudget(runtime, realtime, now)).toBeUndefined();
    expect(spentBudget(runtime, realtime, now, 'gpt-realtime-mini')?.map((d) => `${d.rule} ${d.key}`)).toEqual(['mini-day model:gpt-realtime-mini']);
  });
});
