/**
 * The live list as exchanges arrive while it is open: filtered by session, with a row
 * selected, past its first page, and empty. Headless Chromium against recorded traffic.
 */
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { ARTIFACTS, launchChromium } from './browser-helpers.js';

let fake: FakeProvider;
let tp: TestProxy;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await tp?.close();
  await fake?.close();
});

/** One Claude Code request in the session its header names. */
async function claudeCode(session: string, text: string): Promise<void> {
  const res = await request('https://api.anthropic.com/v1/messages', {
    method: 'POST', dispatcher: tp.agent,
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-api03-live-0123456789abcdef', 'anthropic-version': '2023-06-01', 'user-agent': 'claude-cli/1.0.83 (external, cli)', 'x-claude-code-session-id': session },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: text }] }),
  });
  expect(res.statusCode).toBe(200);
  await res.body.text();
}

async function chat(model = 'gpt-4o-mini', text = 'hi'): Promise<void> {
  const res = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: tp.agent,
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-proj-live-0123456789abcdef', 'user-agent': 'OpenAI/JS 4.70.0' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: text }] }),
  });
  expect(res.statusCode).toBe(200);
  await res.body.text();
}

type Listed = { id: string; sessionId: string; model: string };
async function listed(query = ''): Promise<Listed[]> {
  tp.proxy.recorder.flush();
  return ((await (await fetch(`${tp.url}/ui/api/exchanges?${query}`)).json()) as { exchanges: Listed[] }).exchanges;
}

const rows = (p: Page) => p.locator('table.list tbody tr[data-id]');

describe('the live list', () => {
  it('filtered by session, gains that session\'s new exchanges as they are written, and no one else\'s', async () => {
    const SESSION = '7f2d1c3e-1111-4222-8333-944455556666';
    await claudeCode(SESSION, 'first question');
    const [first] = await listed();
    await page.goto(`${tp.url}/ui/#/?session=${encodeURIComponent(first!.sessionId)}`);
    await page.locator('.live-dot.live').waitFor({ timeout: 10_000 });
    await expect.poll(() => rows(page).count()).toBe(1);

    await chat(); // another session: stays out
    await claudeCode(SESSION, 'second question');
    await expect.poll(() => rows(page).count(), { timeout: 10_000 }).toBe(2);
    const mine = (await listed(`session=${encodeURIComponent(first!.sessionId)}`)).map((e) => e.id);
    expect(mine).toHaveLength(2);
    expect(await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')))).toEqual(mine);
    expect(await rows(page).first().locator(`a[href="#/session/${encodeURIComponent(first!.sessionId)}"]`).count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}/live-session-filter.png` });
  });

  it('keeps the selection on the exchange picked, the top one too, when rows are pushed above it', async () => {
    await page.goto(`${tp.url}/ui/#/`);
    await page.locator('.live-dot.live').waitFor({ timeout: 10_000 });
    await rows(page).nth(2).waitFor();
    const count = await rows(page).count();
    // Picked by a click, the top row.
    await rows(page).first().click();
    const picked = (await rows(page).first().getAttribute('data-id'))!;
    await chat();
    await expect.poll(() => rows(page).count(), { timeout: 10_000 }).toBe(count + 1);
    expect(await page.locator('tr.selected').getAttribute('data-id')).toBe(picked);
    // And by the keyboard: up to the top (k stops there), then a push.
    for (let i = 0; i < 3; i++) await page.keyboard.press('k');
    const top = (await rows(page).first().getAttribute('data-id'))!;
    expect(await page.locator('tr.selected').getAttribute('data-id')).toBe(top);
    await chat();
    await expect.poll(() => rows(page).count(), { timeout: 10_000 }).toBe(count + 2);
    expect(await page.locator('tr.selected').getAttribute('data-id')).toBe(top);
    // `s` opens the picked exchange's session.
    const session = (await listed()).find((e) => e.id === top)!.sessionId;
    await expect.poll(() => page.locator('tr.selected a[href^="#/session/"]').count(), { timeout: 10_000 }).toBe(1);
    await page.keyboard.press('s');
    await expect.poll(() => page.url()).toContain(`#/session/${encodeURIComponent(session)}`);
  });

  it('says how many rows it shows, and loads older ones past the first page, in the live list and the sessions list', async () => {
    // Past a page of 200: conversations of their own, a session each.
    for (let i = 0; i < 210; i += 15) await Promise.all(Array.from({ length: 15 }, (_, k) => chat('gpt-4o-mini', `question number ${i + k}`)));
    const total = (await listed('limit=1000')).length;
    expect(total).toBeGreaterThan(200);
    await page.goto(`${tp.url}/ui/#/`);
    await rows(page).nth(199).waitFor();
    expect(await rows(page).count()).toBe(200);
    expect(await page.locator('.paging').textContent()).toContain('200 exchanges shown');
    await page.locator('.paging .load-older').click();
    await expect.poll(() => rows(page).count()).toBe(total);
    expect(await page.locator('.paging').textContent()).toBe(`${total} exchanges shown · no older ones`);
    expect(await page.locator('.paging .load-older').count()).toBe(0);
    const ids = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    expect(new Set(ids).size).toBe(total);

    tp.proxy.recorder.flush();
    const sessions = (await (await fetch(`${tp.url}/ui/api/sessions?limit=1000`)).json()) as { sessions: { id: string }[] };
    expect(sessions.sessions.length).toBeGreaterThan(200);
    await page.goto(`${tp.url}/ui/#/sessions`);
    await page.locator('table.list tbody tr').nth(199).waitFor();
    expect(await page.locator('table.list tbody tr').count()).toBe(200);
    await page.locator('.paging .load-older').click();
    await expect.poll(() => page.locator('table.list tbody tr').count()).toBe(sessions.sessions.length);
    expect(await page.locator('.paging').textContent()).toBe(`${sessions.sessions.length} sessions shown · no older ones`);
    const shown = await page.locator('table.list tbody tr td:first-child a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(shown).toEqual(sessions.sessions.map((s) => `#/session/${encodeURIComponent(s.id)}`));
    // Sessions of one second share their ids' head: each reads differently all the same.
    const labels = await page.locator('table.list tbody tr td:first-child a').allTextContents();
    expect(new Set(labels).size).toBe(labels.length);
    await page.locator('.paging').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${ARTIFACTS}/sessions-load-older.png` });
  }, 60_000);

  it('says nothing matches a filter or a search, which, with a way to clear it; not how to start', async () => {
    await page.goto(`${tp.url}/ui/#/?model=no-such-model`);
    await page.locator('p.empty').waitFor();
    expect(await page.locator('p.empty').textContent()).toContain('No exchanges match model no-such-model');
    expect(await page.locator('p.empty').textContent()).not.toContain('Point a tool');
    // No column headings over nothing, as on the sessions list.
    expect(await page.locator('table.list').count()).toBe(0);
    await page.locator('.clear-filters').click();
    await rows(page).first().waitFor();
    expect(page.url()).toMatch(/#\/$/);
    expect(await page.locator('#filter-model').inputValue()).toBe('');

    await page.fill('#filter-q', 'words nobody sent');
    await expect.poll(() => page.locator('p.empty').textContent()).toContain('No exchanges match text “words nobody sent”');
    expect(await rows(page).count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}/live-no-match.png` });
    await page.locator('.clear-filters').click();
    await rows(page).first().waitFor();
    expect(await page.locator('#filter-q').inputValue()).toBe('');
  });
});

describe('the live list and estimated usage', () => {
  it('shows the tokens the archive estimated for a stream that reported none (the OpenAI SDK\'s default), with ~, without a reload', async () => {
    await page.goto(`${tp.url}/ui/#/?model=gpt-4o`);
    await page.locator('.live-dot.live').waitFor({ timeout: 10_000 });
    const res = await request('https://api.openai.com/v1/chat/completions', {
      method: 'POST', dispatcher: tp.agent,
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-proj-live-0123456789abcdef', 'user-agent': 'OpenAI/JS 4.70.0' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.body.text();
    const row = rows(page).first();
    await row.waitFor({ timeout: 30_000 });
    // Pushed as the exchange ended, without tokens; the writer's report (once its tokenizer
    // has loaded) brings the estimate and the cost priced from it. The proxy is fresh, so
    // the tokenizer loads now: ~1 s, but 10-15 s on a machine whose cores are busy (the
    // writer thread runs at a lower priority), hence the deadline; nothing else brings it.
    const cells = row.locator('td[title^="estimated by llmtap"]');
    await expect.poll(() => cells.allTextContents(), { timeout: 60_000 }).toEqual(['~8', expect.stringMatching(/^~\d+$/)]);
    const [listedRow] = (await listed('model=gpt-4o')) as (Listed & { promptTokens: number; outputTokens: number; estimated?: string })[];
    expect(await cells.allTextContents()).toEqual([`~${listedRow!.promptTokens}`, `~${listedRow!.outputTokens}`]);
    expect(listedRow!.estimated).toBe('all');
    expect(await row.textContent()).toMatch(/\$0\.\d+/);
    await page.screenshot({ path: `${ARTIFACTS}/live-estimated.png` });
  }, 90_000);
});

describe('the sessions list', () => {
  it('marks a cost that leaves out exchanges with no known price with +, as the CLI does', async () => {
    const session = 'sess-unpriced-0001';
    await claudeCode(session, 'a priced turn');
    const res = await request('https://api.anthropic.com/v1/messages', {
      method: 'POST', dispatcher: tp.agent,
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-api03-live-0123456789abcdef', 'anthropic-version': '2023-06-01', 'user-agent': 'claude-cli/1.0.83 (external, cli)', 'x-claude-code-session-id': session },
      body: JSON.stringify({ model: 'claude-in-house-finetune', max_tokens: 64, messages: [{ role: 'user', content: 'an unpriced turn' }] }),
    });
    await res.body.text();
    tp.proxy.recorder.flush();
    await page.goto(`${tp.url}/ui/#/sessions`);
    const cost = page.locator(`table.list tbody tr:has(a[href*="${session}"]) td:nth-child(10)`);
    await expect.poll(() => cost.textContent()).toMatch(/^\$[\d.]+\+$/);
    expect(await cost.getAttribute('title')).toBe('not counted: 1 exchange with no known price');
  });
});
