/**
 * The same figure reads the same on every page: tokens nobody reported are `–` (a real
 * 0 stays 0) in the live list as on the exchange page; a request the policy refused cost
 * `$0` wherever it is shown; an error answer that counted nothing does not mark the usage
 * total as partial; the charts' time axis never ticks in fractions of a second; the
 * keyboard hints (the search box's `/` too) are not shown on a phone or a touch screen. Headless Chromium against recorded traffic.
 */
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyText } from '../../src/policy/load.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { ARTIFACTS, launchChromium } from './browser-helpers.js';

let fake: FakeProvider;
let tp: TestProxy;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

beforeAll(async () => {
  fake = await startFakeProvider();
  const policy = loadPolicyText('rules:\n  - {id: no-gpt5, action: deny, match: {model: "gpt-5*"}}\n', 'p.yaml');
  tp = await startTestProxy(fake, { policy });
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await tp?.close();
  await fake?.close();
});

const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-proj-figures-0123456789abcdef', 'user-agent': 'OpenAI/JS 4.70.0' };

async function post(path: string, body: unknown, extra: Record<string, string> = {}): Promise<number> {
  const res = await request(`https://api.openai.com${path}`, { method: 'POST', dispatcher: tp.agent, headers: { ...HEADERS, ...extra }, body: JSON.stringify(body) });
  await res.body.text();
  return res.statusCode;
}

/** An answer that reports its usage, none of it from the cache: a real 0 cached. */
const priced = () => post('/v1/chat/completions', {
  model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a priced question' }],
  id: 'chatcmpl-mirror', object: 'chat.completion', created: 1_700_000_000,
  choices: [{ index: 0, message: { role: 'assistant', content: 'an answer' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 500, completion_tokens: 10, total_tokens: 510, prompt_tokens_details: { cached_tokens: 0 } },
}, { 'x-fake-mirror': '1' });
/** The provider's 404: no usage at all. */
const notFound = () => post('/status/404', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'nowhere' }] });
/** Refused by the policy: never sent upstream. */
const blocked = () => post('/v1/chat/completions', { model: 'gpt-5', messages: [{ role: 'user', content: 'refused' }] });

type Listed = { id: string; status: number | null; outcome: string | null; sessionId: string };
async function listed(): Promise<Listed[]> {
  tp.proxy.recorder.flush();
  return ((await (await fetch(`${tp.url}/ui/api/exchanges`)).json()) as { exchanges: Listed[] }).exchanges;
}

/** A row's in, out, cached and cost cells. */
const figures = (p: Page, id: string) => p.locator(`tr[data-id="${id}"] td`).evaluateAll((tds) => [4, 5, 6, 7].map((i) => tds[i]!.textContent));

describe('figures read alike on every page', () => {
  it('unknown tokens are – and a refused request cost $0, in the live list (pushed and fetched) as on the exchange page and its turn', async () => {
    await page.goto(`${tp.url}/ui/#/`);
    await page.locator('.live-dot.live').waitFor({ timeout: 10_000 });
    expect(await priced()).toBe(200);
    expect(await notFound()).toBe(404);
    expect(await blocked()).toBe(403);
    const all = await listed();
    const ok = all.find((e) => e.status === 200)!;
    const missing = all.find((e) => e.status === 404)!;
    const refused = all.find((e) => e.outcome === 'blocked')!;
    // Pushed live, then as a reload reads them.
    for (const reload of [false, true]) {
      if (reload) await page.reload();
      await page.locator(`tr[data-id="${refused.id}"]`).waitFor({ timeout: 10_000 });
      // Unreported tokens are unknown; the provider's error answer that counted nothing was billed to nobody.
      expect(await figures(page, missing.id)).toEqual(['–', '–', '–', '$0']);
      expect((await figures(page, ok.id)).slice(0, 3)).toEqual(['500', '10', '0']);
      expect((await figures(page, refused.id))[3]).toBe('$0');
    }
    await page.screenshot({ path: `${ARTIFACTS}/figures-list.png` });

    await page.goto(`${tp.url}/ui/#/exchange/${encodeURIComponent(missing.id)}`);
    await page.locator('.facts').waitFor({ timeout: 10_000 });
    expect(await page.locator('.facts').textContent()).toContain('in – · cached – · out –');
    expect(await page.locator('.facts .cost').textContent()).toBe('$0');
    // Its turn in the session view too, and the session's sum.
    await page.goto(`${tp.url}/ui/#/session/${encodeURIComponent(missing.sessionId)}`);
    await page.locator('article.turn').waitFor({ timeout: 10_000 });
    expect(await page.locator('article.turn .turn-head').textContent()).toContain('in – · cached – · out –');
    expect(await page.locator('article.turn .cost').textContent()).toBe('$0');
    expect(await page.locator('.session > .facts .cost').textContent()).toBe('$0');
    // The sessions list: the refused request's session cost nothing, as its only exchange.
    await page.goto(`${tp.url}/ui/#/sessions`);
    const sessionRow = page.locator('tr', { has: page.locator(`a[href="#/session/${encodeURIComponent(refused.sessionId)}"]`) });
    await sessionRow.waitFor({ timeout: 10_000 });
    expect(await sessionRow.locator('td').nth(9).textContent()).toBe('$0');
    await page.goto(`${tp.url}/ui/#/exchange/${encodeURIComponent(refused.id)}`);
    await page.locator('.facts').waitFor({ timeout: 10_000 });
    expect(await page.locator('.facts .cost').textContent()).toBe('$0');
    await page.screenshot({ path: `${ARTIFACTS}/figures-blocked-exchange.png` });
  }, 60_000);

  it('the usage total is not marked partial by an error answer that counted nothing, nor by a refused request; a `+` says what it leaves out', async () => {
    await page.goto(`${tp.url}/ui/#/usage`);
    const total = page.locator('tr.total td').nth(6);
    await total.waitFor({ timeout: 10_000 });
    expect(await total.textContent()).toMatch(/^\$[0-9.]+$/);
    // A group of refused requests, or of error answers that counted nothing, cost nothing: $0, not unknown.
    const cost = (model: string) => page.locator('tr', { has: page.locator('td', { hasText: new RegExp(`^${model.replace(/[()]/g, '\\$&')}$`) }) }).locator('td').nth(6).textContent();
    expect(await cost('gpt-5')).toBe('$0');
    expect(await cost('(none)')).toBe('$0');
    // No figure has a `+`: the footnote does not explain one.
    expect(await page.locator('.footnote').textContent()).not.toContain('+');
    await page.screenshot({ path: `${ARTIFACTS}/figures-usage.png` });
    // An answer that counted nothing and may have been billed does: its `+` says what it leaves out.
    expect(await post('/echo', { model: 'gpt-4o-mini' })).toBe(200);
    tp.proxy.recorder.flush();
    await page.reload();
    await expect.poll(() => total.textContent(), { timeout: 10_000 }).toMatch(/^\$[0-9.]+\+$/);
    expect(await total.getAttribute('title')).toBe('+: 1 exchange with no known price, left out of this sum');
    expect(await page.locator('.footnote').textContent()).toContain('+: some exchanges in the group have no known price');
  });

  it('the time axis of a chart over a second or two ticks in whole seconds; a count axis in whole numbers from 0', async () => {
    const charts = await chromium.browser.newPage();
    await charts.setViewportSize({ width: 1280, height: 800 });
    // uPlot draws its axes on a canvas: what it writes there is read as it is written.
    await charts.addInitScript(`
      window.drawn = [];
      const fillText = CanvasRenderingContext2D.prototype.fillText;
      CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
        window.drawn.push([this.canvas.closest('.chart')?.id ?? '', String(text)]);
        return fillText.call(this, text, ...rest);
      };
    `);
    await charts.goto(`${tp.url}/ui/#/charts`);
    await charts.locator('#chart-errors canvas').waitFor({ timeout: 10_000 });
    const drawn = (await charts.evaluate('window.drawn')) as [string, string][];
    const seconds = drawn.map(([, t]) => t).filter((t) => /^:\d\d/.test(t));
    expect(seconds.length).toBeGreaterThan(0);
    expect(seconds.filter((t) => t.includes('.'))).toEqual([]);
    // The errors chart counts requests: no "1.5" between 1 and 2.
    const counts = drawn.filter(([chart, t]) => chart === 'chart-errors' && /^\d+(\.\d+)?$/.test(t)).map(([, t]) => t);
    expect(counts).toContain('0');
    expect(counts.filter((t) => t.includes('.'))).toEqual([]);
    await charts.screenshot({ path: `${ARTIFACTS}/figures-charts.png`, fullPage: true });
    await charts.close();
  });

  it('shows the keyboard hints, and the search box\'s `/`, on a wide screen, not on a phone nor a touch screen', async () => {
    const search = (p: Page) => p.locator('#filter-q').getAttribute('placeholder');
    await page.goto(`${tp.url}/ui/#/`);
    await page.locator('table.list').waitFor({ timeout: 10_000 });
    expect(await page.locator('.toolbar .hint').isVisible()).toBe(true);
    expect(await search(page)).toBe('search prompts and answers  (/)');
    await page.screenshot({ path: `${ARTIFACTS}/figures-desktop.png` });
    // A touch screen as wide as a desktop's window (a tablet): no keys to press either.
    const tablet = await chromium.browser.newPage();
    await tablet.setViewportSize({ width: 1280, height: 800 });
    await (await tablet.context().newCDPSession(tablet)).send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
    await tablet.goto(`${tp.url}/ui/#/`);
    await tablet.locator('table.list').waitFor({ timeout: 10_000 });
    expect(await tablet.locator('.toolbar .hint').isVisible()).toBe(false);
    expect(await search(tablet)).toBe('search prompts and answers');
    await tablet.screenshot({ path: `${ARTIFACTS}/figures-touch-desktop.png` });
    await tablet.close();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.locator('table.list').waitFor({ timeout: 10_000 });
    expect(await page.locator('.toolbar .hint').isVisible()).toBe(false);
    expect(await search(page)).toBe('search prompts and answers');
    await page.screenshot({ path: `${ARTIFACTS}/figures-phone.png` });
    // The replay's keys neither.
    const [first] = await listed();
    await page.goto(`${tp.url}/ui/#/session/${encodeURIComponent(first!.sessionId)}`);
    await page.locator('.replay').waitFor({ timeout: 10_000 });
    expect(await page.locator('.replay .hint').isVisible()).toBe(false);
    await page.screenshot({ path: `${ARTIFACTS}/figures-phone-session.png` });
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});
