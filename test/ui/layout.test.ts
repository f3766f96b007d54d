/**
 * Captured text and names of any length stay inside the window: a 300-character token,
 * a long URL, a wide Markdown table or a long model name must not make a page wider than
 * the browser, on a wide screen or a phone. Headless Chromium against real recorded traffic.
 */
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { ARTIFACTS, launchChromium } from './browser-helpers.js';

const LONG_MODEL = `my-org/custom-finetune-model-with-an-extremely-long-name-v2-2025-01-01${'-and-then-some'.repeat(6)}`;
const TOKEN = 'A'.repeat(300);
const URL_TEXT = `https://example.com/${'some-really-long-directory-name/'.repeat(8)}file.ts`;
const ANSWER = `# Heading\n\nA token: ${TOKEN}\n\nA link: ${URL_TEXT}\n\n\`${'x'.repeat(400)}\`\n\n| col1 | col2 | col3 |\n|---|---|---|\n| ${'wide-cell-'.repeat(40)} | b | c |\n\n\`\`\`\n${'code'.repeat(120)}\n\`\`\`\n`;

let fake: FakeProvider;
let tp: TestProxy;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
let exchangeId: string;
let sessionId: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
  // The fake provider mirrors the request body back: the answer is whatever this body says.
  const body = {
    model: LONG_MODEL, messages: [{ role: 'user', content: `Look at ${URL_TEXT} and ${TOKEN}` }],
    id: 'chatcmpl-mirror', object: 'chat.completion', created: 1_700_000_000,
    choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 },
  };
  const res = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: tp.agent, body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-fake-mirror': '1', authorization: 'Bearer sk-proj-layout-0123456789abcdef', 'user-agent': 'OpenAI/JS 4.70.0' },
  });
  expect(res.statusCode).toBe(200);
  await res.body.text();
  tp.proxy.recorder.flush();
  const [stored] = ((await (await fetch(`${tp.url}/ui/api/exchanges`)).json()) as { exchanges: { id: string; sessionId: string }[] }).exchanges;
  exchangeId = stored!.id;
  sessionId = stored!.sessionId;
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await tp?.close();
  await fake?.close();
});

/** How far the whole page is wider than the window, in px (0 when it fits). */
function pageOverflow(p: Page): Promise<number> {
  return p.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth);
}

/** How far the page's content is wider than the window, in px (0 when it fits). */
function overflow(p: Page): Promise<number> {
  return p.locator('main').evaluate((main) => main.scrollWidth - main.ownerDocument.documentElement.clientWidth);
}

describe('long text and names fit the window', () => {
  for (const width of [1400, 400]) {
    it(`wraps rendered Markdown in the exchange and session views at ${width} px`, async () => {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${tp.url}/ui/#/exchange/${encodeURIComponent(exchangeId)}`);
      await page.locator('.answer .md table').waitFor();
      expect(await overflow(page)).toBe(0);
      // The table is cut to its box and scrolls there, its cells intact.
      const table = await page.locator('.answer .md table').evaluate((t) => ({ box: t.clientWidth, content: t.scrollWidth, parent: t.parentElement!.clientWidth }));
      expect(table.box).toBeLessThanOrEqual(table.parent);
      await page.screenshot({ path: `${ARTIFACTS}/layout-exchange-${width}.png`, fullPage: true });

      await page.goto(`${tp.url}/ui/#/session/${encodeURIComponent(sessionId)}`);
      await page.locator('article.turn .md table').waitFor();
      expect(await page.locator('article.turn').first().textContent()).toContain(TOKEN);
      expect(await overflow(page)).toBe(0);
      await page.screenshot({ path: `${ARTIFACTS}/layout-session-${width}.png`, fullPage: true });
    });
  }

  it('cuts a long name in the live list and the sessions table with an ellipsis, whole in its tooltip, and the header spans the page', async () => {
    await page.setViewportSize({ width: 1400, height: 900 });
    for (const [hash, cell] of [['#/', 'table.list tbody tr td[title^="my-org/"]'], ['#/sessions', 'table.list tbody tr td[title^="my-org/"]']] as const) {
      await page.goto(`${tp.url}/ui/${hash}`);
      await page.locator(cell).waitFor();
      expect(await page.locator(cell).getAttribute('title')).toBe(LONG_MODEL);
      // Cut: the cell shows less than its text.
      expect(await page.locator(cell).evaluate((td) => td.scrollWidth > td.clientWidth)).toBe(true);
      expect(await pageOverflow(page)).toBe(0);
      expect(await page.locator('header.top').evaluate((h) => h.getBoundingClientRect().width)).toBe(1400);
    }
    await page.goto(`${tp.url}/ui/#/`);
    await page.locator('table.list tbody tr').first().waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/layout-live-1400.png` });
  });

  it('keeps every tab reachable at 400 px (the header wraps), the tables scrolling in their own box', async () => {
    await page.setViewportSize({ width: 400, height: 900 });
    for (const hash of ['#/', '#/sessions']) {
      await page.goto(`${tp.url}/ui/${hash}`);
      await page.locator('table.list tbody tr').first().waitFor();
      const rights = await page.locator('header.top a').evaluateAll((tabs) => tabs.map((a) => a.getBoundingClientRect().right));
      expect(rights.length).toBeGreaterThanOrEqual(5);
      for (const right of rights) expect(right).toBeLessThanOrEqual(400);
      expect(await pageOverflow(page)).toBe(0);
    }
    await page.screenshot({ path: `${ARTIFACTS}/layout-sessions-400.png` });
  });

  it('keeps every page inside a phone window (390 px): wide tables scroll in their own box, a long group name cut and whole in its tooltip', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, ready] of [['#/', 'table.list tbody tr'], ['#/sessions', 'table.list tbody tr'], ['#/charts', 'table.percentiles td'], ['#/usage', 'table.usage-table tbody tr'], [`#/session/${encodeURIComponent(sessionId)}`, 'article.turn'], [`#/exchange/${encodeURIComponent(exchangeId)}`, '.answer']] as const) {
      await page.goto(`${tp.url}/ui/${hash}`);
      await page.locator(ready).first().waitFor();
      expect({ hash, overflow: await pageOverflow(page) }).toEqual({ hash, overflow: 0 });
      expect(await page.locator('header.top').evaluate((h) => h.getBoundingClientRect().width)).toBe(390);
    }
    // The live list's columns run past a phone's width: a shadow at the box's edge says more is a swipe away.
    await page.goto(`${tp.url}/ui/#/`);
    const box = page.locator('.table-box').first();
    await box.locator('tbody tr').first().waitFor();
    expect(await box.evaluate((b) => b.scrollWidth > b.clientWidth)).toBe(true);
    expect(await box.evaluate((b) => b.ownerDocument.defaultView!.getComputedStyle(b).backgroundAttachment)).toBe('local, local, scroll, scroll');
    await page.goto(`${tp.url}/ui/#/usage`);
    const cell = page.locator('table.usage-table tbody tr td[title^="my-org/"]');
    await cell.waitFor();
    expect(await cell.getAttribute('title')).toBe(LONG_MODEL);
    // The link over the name (to its exchanges) names it whole too: its own tooltip is the one shown.
    expect(await cell.locator('a').getAttribute('title')).toBe(`${LONG_MODEL}: its exchanges, newest first`);
    expect(await cell.evaluate((td) => td.scrollWidth > td.clientWidth)).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/layout-usage-390.png`, fullPage: true });
    // The cache column says what share it is, as the charts name it.
    expect(await page.locator('table.usage-table th').nth(5).textContent()).toBe('cache hit');
    // A period with nothing in it says so, without the table's footnote under no table.
    await page.locator('#usage-period').selectOption('last-month');
    await page.locator('.usage .empty').waitFor();
    expect(await page.locator('.usage .empty').textContent()).toBe('No exchanges in this period.');
    expect(await page.locator('.usage .footnote').count()).toBe(0);
  });

  it('lays the status page (the header\'s Status tab) out at a phone\'s width, its last exchanges scrolling in their own box, counts right-aligned', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${tp.url}/`);
    await page.locator('h1').waitFor();
    expect(await page.locator('meta[name="viewport"]').evaluateAll((metas) => metas.map((m) => m.getAttribute('content')))).toEqual(['width=device-width, initial-scale=1']);
    expect(await pageOverflow(page)).toBe(0);
    const counts = await page.locator('td.n').evaluateAll((tds) => tds.map((td) => td.ownerDocument.defaultView!.getComputedStyle(td).textAlign));
    expect(counts.length).toBeGreaterThan(5);
    for (const align of counts) expect(align).toBe('right');
    await page.screenshot({ path: `${ARTIFACTS}/layout-status-390.png`, fullPage: true });
  });

  it('right-aligns the latency percentiles in tabular figures, on the charts page, as every other table does numbers', async () => {
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(`${tp.url}/ui/#/charts`);
    await page.locator('table.percentiles td').first().waitFor();
    const cells = await page.locator('table.percentiles tr:first-child th:not(:first-child), table.percentiles td').evaluateAll((els) => els.map((e) => {
      const style = e.ownerDocument.defaultView!.getComputedStyle(e);
      return [style.textAlign, style.fontVariantNumeric];
    }));
    expect(cells.length).toBe(6);
    for (const c of cells) expect(c).toEqual(['right', 'tabular-nums']);
  });
});
