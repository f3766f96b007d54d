import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyText } from '../../src/policy/load.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { ARTIFACTS, launchChromium } from './browser-helpers.js';

/**
 * The web UI's policy page on a local proxy (everyone an admin): every rule as written
 * with what it decided, the teams, and each budget's keys against their limit, from the
 * running proxy's own ledger — after real requests through the proxy with the openai SDK.
 */
const POLICY = `
teams: {platform: [alice, bob]}
rules:
  - {id: no-gpt5, action: deny, match: {model: "gpt-5*"}}
  - {id: watch-o3, mode: monitor, action: deny, match: {model: "o3*"}}
  - {id: pii, redact: {detectors: [email]}}
  - {id: gpt4o-daily, match: {model: gpt-4o}, budget: {usd: 0.0001, period: day, per: model}}
  - {id: gpt4o-alice, match: {model: gpt-4o, user: alice}, budget: {usd: 1, period: day, per: user}}
  - {id: gateway-key, credentials: {fromEnv: LLMTAP_TEST_POLICY_PAGE_KEY}}
`;

let fake: FakeProvider;
let tp: TestProxy;
let openai: OpenAI;
beforeAll(async () => {
  fake = await startFakeProvider();
  const policy = loadPolicyText(POLICY, 'policy.yaml', { env: { LLMTAP_TEST_POLICY_PAGE_KEY: 'sk-proj-policy-page-secret-0123456789' } });
  tp = await startTestProxy(fake, { policy });
  openai = new OpenAI({ apiKey: 'sk-proj-client-0123456789abcdef', fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
}, 60_000);
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

type Page = { policy: { rules: { id: string; kind: string; mode: string; match: unknown; does: unknown; decisions: { exchanges: number; blocked: number; changed: number; monitor: number } | null }[]; teams: Record<string, string[]>; budgets: { rule: string; budget_usd: number; shadowed_by: string | null; keys: { key: string; state: string; spent_usd: number }[] }[] } | null };

describe('the policy page', () => {
  it('lists every rule as written with its decisions, the teams, and the budget spent this period', async () => {
    await expect(openai.chat.completions.create({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 403 });
    await openai.chat.completions.create({ model: 'o3-mini', messages: [{ role: 'user', content: 'mail me at someone@example.com' }] });
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'spend it' }] });
    await expect(openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'and more' }] })).rejects.toMatchObject({ status: 429 });
    tp.proxy.recorder.flush();

    const res = await fetch(`${tp.url}/ui/api/policy`);
    const text = await res.text();
    // Where a credential comes from, never the credential.
    expect(text).toContain('LLMTAP_TEST_POLICY_PAGE_KEY');
    expect(text).not.toContain('policy-page-secret');
    const page = (JSON.parse(text) as Page).policy!;
    expect(page.rules.map((r) => [r.id, r.kind, r.mode])).toEqual([
      ['no-gpt5', 'access', 'enforce'], ['watch-o3', 'access', 'monitor'], ['pii', 'redact', 'enforce'], ['gpt4o-daily', 'budget', 'enforce'], ['gpt4o-alice', 'budget', 'enforce'], ['gateway-key', 'credentials', 'enforce'],
    ]);
    expect(page.rules[0]).toMatchObject({ match: { model: 'gpt-5*' }, does: 'deny', decisions: { exchanges: 1, blocked: 1 } });
    expect(page.rules[1]!.decisions).toMatchObject({ exchanges: 1, monitor: 1, blocked: 0 });
    expect(page.rules[2]).toMatchObject({ match: {}, does: { redact: { detectors: ['email'] } }, decisions: { changed: 1 } });
    expect(page.rules[3]!.decisions).toMatchObject({ blocked: 1 });
    expect(page.teams).toEqual({ platform: ['alice', 'bob'] });
    expect((JSON.parse(text) as { policy: { summary: string } }).policy.summary).toBe('6 rules (2 access, 1 redact, 0 rate limit, 2 budget, 1 credentials; 1 in monitor mode), 1 team');
    const budget = page.budgets.find((b) => b.rule === 'gpt4o-daily')!;
    expect(budget.budget_usd).toBe(0.0001);
    expect(budget.keys).toEqual([expect.objectContaining({ key: 'model:gpt-4o', state: 'spent' })]);
    expect(budget.keys[0]!.spent_usd).toBeGreaterThan(0.0001);
    // A budget rule the enforced one above takes every request of: said, not "nothing spent yet" for ever.
    expect(page.budgets.map((b) => [b.rule, b.shadowed_by])).toEqual([['gpt4o-daily', null], ['gpt4o-alice', 'gpt4o-daily']]);

    const chromium = await launchChromium();
    try {
      const browser = await chromium.browser.newPage();
      await browser.goto(`${tp.url}/ui/#/policy`);
      await browser.locator('table.rules tbody tr').nth(5).waitFor({ timeout: 10_000 });
      expect(await browser.locator('a.tab', { hasText: 'Policy' }).count()).toBe(1);
      const row = (id: string) => browser.locator(`tr[data-rule="${id}"]`);
      expect(await row('no-gpt5').textContent()).toContain('model: gpt-5*');
      expect(await row('watch-o3').locator('.tag').textContent()).toBe('monitor');
      expect(await row('gateway-key').textContent()).toContain('credentials: {fromEnv: LLMTAP_TEST_POLICY_PAGE_KEY}');
      expect(await browser.locator('tr[data-key="model:gpt-4o"] .state').textContent()).toBe('spent');
      expect(await browser.locator('[data-budget="gpt4o-alice"] .shadowed').textContent()).toBe('never applies: gpt4o-daily, above it and enforced, matches every request it matches');
      await browser.screenshot({ path: `${ARTIFACTS}/policy.png`, fullPage: true });
      // On a phone the rules and budget tables scroll in their own box: the page stays as wide as the window.
      await browser.setViewportSize({ width: 390, height: 844 });
      expect(await browser.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth)).toBe(0);
      expect(await browser.locator('table.rules').evaluate((t) => t.parentElement!.scrollWidth > t.parentElement!.clientWidth)).toBe(true);
      // A rule id wraps (at most 16em wide): the rule's kind and match stay in sight beside it.
      expect(await browser.locator('tr[data-rule="gateway-key"] td.rule-id').evaluate((td) => td.ownerDocument.defaultView!.getComputedStyle(td).whiteSpace)).toBe('normal');
      expect(await browser.locator('tr[data-rule="gateway-key"] td').nth(2).evaluate((td) => td.getBoundingClientRect().left)).toBeLessThan(390);
      await browser.screenshot({ path: `${ARTIFACTS}/policy-390.png`, fullPage: true });
      await browser.setViewportSize({ width: 1400, height: 900 });


      // A reload that did not validate: the page says so above the policy still running.
      tp.proxy.server.noteRefusedReload('/etc/llmtap/policy.yaml', '/etc/llmtap/policy.yaml:3: rules[0].match.model: must be string or array');
      await browser.reload();
      const refused = browser.locator('.refused-reload');
      await refused.waitFor({ timeout: 10_000 });
      expect(await refused.textContent()).toContain('policy.yaml:3: rules[0].match.model: must be string or array');
      expect(await refused.textContent()).toContain('still the one running');
      expect(await browser.locator('table.rules tbody tr').count()).toBe(6);
      await browser.screenshot({ path: `${ARTIFACTS}/policy-refused.png` });

      // A users file reload refused: said apart (the running users stay), file:line and the problem, until the file loads.
      tp.proxy.server.noteRefusedUsersReload('/etc/llmtap/users.txt', '/etc/llmtap/users.txt:3: expected user:scrypt$N$r$p$salt$key (make one with "llmtap passwd USER")');
      await browser.reload();
      const users = browser.locator('.refused-users-reload');
      await users.waitFor({ timeout: 10_000 });
      expect(await users.textContent()).toContain('users.txt:3: expected user:scrypt$N$r$p$salt$key');
      expect(await users.textContent()).toContain('the users loaded before it still log in');
      expect(await refused.textContent()).toContain('policy.yaml:3:');
      // Under --config the users file's refusal says the config's reload waits for it (one note, not a config one beside it).
      tp.proxy.server.noteRefusedReload('/etc/llmtap/config.json', '/etc/llmtap/config.json: an earlier problem');
      tp.proxy.server.noteRefusedUsersReload('/etc/llmtap/users.txt', '/etc/llmtap/users.txt:3: expected user:scrypt$N$r$p$salt$key (make one with "llmtap passwd USER")', '/etc/llmtap/config.json');
      await browser.reload();
      await users.waitFor({ timeout: 10_000 });
      expect(await users.textContent()).toContain('The reload of /etc/llmtap/config.json waits for it: the policy below, loaded before it, is still the one running.');
      expect(await refused.count()).toBe(0);
      tp.proxy.server.setUsers([], undefined);
      await browser.reload();
      await browser.locator('table.rules tbody tr').nth(5).waitFor({ timeout: 10_000 });
      expect(await users.count()).toBe(0);

      // A reload puts an enforced rule above gpt4o-daily: it keeps what it was charged, and says it never applies now.
      // Meanwhile the config file was refused: the policy file loading does not answer that.
      tp.proxy.server.noteRefusedReload('/etc/llmtap/config.json', '/etc/llmtap/config.json:2: "retainDays": 0: must be a positive number of days');
      tp.proxy.server.setPolicy(loadPolicyText(POLICY.replace('rules:\n', 'rules:\n  - {id: all-models, budget: {usd: 5, period: day, per: model}}\n'), 'policy.yaml', { env: { LLMTAP_TEST_POLICY_PAGE_KEY: 'sk-proj-policy-page-secret-0123456789' } }), '/etc/llmtap/policy.yaml');
      await browser.reload();
      expect(await browser.locator('.refused-reload').textContent()).toContain('config.json:2: "retainDays": 0');
      const daily = browser.locator('[data-budget="gpt4o-daily"]');
      await daily.locator('.shadowed').waitFor({ timeout: 10_000 });
      expect(await daily.locator('.shadowed').textContent()).toBe('never applies: all-models, above it and enforced, matches every request it matches (spent below before a reload put it there)');
      expect(await daily.locator('tr[data-key="model:gpt-4o"] .state').textContent()).toBe('spent');
    } finally {
      await chromium.close();
    }
  }, 60_000);
});
