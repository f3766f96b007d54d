/**
 * The small things a page says: counts in words (1 turn, 2 turns), long prompts and answers
 * folded in a turn, the copy button that
 * comes back, a tab icon (no 404 in the browser's log), and charts whose groups keep one
 * colour each and whose legend writes values as the axis does. Headless Chromium.
 */
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAIL_MID_STREAM } from '../helpers/fake-faults.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { ARTIFACTS, launchChromium } from './browser-helpers.js';

let fake: FakeProvider;
let tp: TestProxy;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

/** An answer the fake provider mirrors back: any model, any usage, any prompt and answer text. */
async function answer(model: string, tokens: number, text: { prompt: { role: string; content: string }[]; answer: string } = { prompt: [{ role: 'user', content: `hello ${model}` }], answer: 'hi' }): Promise<void> {
  const body = {
    model, messages: text.prompt,
    id: 'chatcmpl-mirror', object: 'chat.completion', created: 1_700_000_000,
    choices: [{ index: 0, message: { role: 'assistant', content: text.answer }, finish_reason: 'stop' }],
    usage: { prompt_tokens: tokens, completion_tokens: 10, total_tokens: tokens + 10 },
  };
  const res = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: tp.agent, body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-fake-mirror': '1', authorization: 'Bearer sk-proj-details-0123456789abcdef', 'user-agent': 'OpenAI/JS 4.70.0' },
  });
  expect(res.statusCode).toBe(200);
  await res.body.text();
}

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
  // Two priced models that cost the most, and six unpriced ones with more tokens: the cost
  // chart and the token chart rank different groups first, and together show more groups than either.
  await answer('gpt-4o', 500);
  await answer('gpt-4o-mini', 400);
  for (const [i, name] of ['a', 'b', 'c', 'd', 'e', 'f'].entries()) await answer(`acme-model-${name}`, 6000 - i * 1000);
  tp.proxy.recorder.flush();
  chromium = await launchChromium();
  await chromium.browser.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: tp.url });
  page = await chromium.browser.newPage();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await tp?.close();
  await fake?.close();
});

type Listed = { id: string; sessionId: string };
async function newest(): Promise<Listed> {
  return ((await (await fetch(`${tp.url}/ui/api/exchanges`)).json()) as { exchanges: Listed[] }).exchanges[0]!;
}

describe('page details', () => {
  it('counts in words: a session of one turn says "1 turn"', async () => {
    const { sessionId } = await newest();
    await page.goto(`${tp.url}/ui/#/session/${encodeURIComponent(sessionId)}`);
    await page.locator('article.turn').waitFor();
    expect(await page.locator('.replay-pos').textContent()).toBe('1 turn');
    expect(await page.locator('.thread-head').textContent()).toContain('1 turn ·');
    expect(await page.locator('.facts').textContent()).toContain('1 thread, 1 turn');
  });

  it('folds a long prompt (a pasted file) and a long answer in a turn behind "show all", short text whole', async () => {
    const file = Array.from({ length: 80 }, (_, i) => `line ${i + 1} of the pasted file`).join('\n');
    const essay = `${'All work and no play. '.repeat(250)}THE END`;
    await answer('gpt-4o', 100, { prompt: [{ role: 'user', content: 'a short question' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: file }], answer: essay });
    tp.proxy.recorder.flush();
    const { id, sessionId } = await newest();
    await page.goto(`${tp.url}/ui/#/session/${encodeURIComponent(sessionId)}`);
    const turn = page.locator(`article.turn[data-exchange="${id}"]`);
    await turn.waitFor();
    const [prompt, answerBox] = [turn.locator('.msg.role-user').nth(1), turn.locator('.msg.answer')];
    // Short text as before: whole, no toggle.
    expect((await turn.locator('.msg.role-user').first().textContent())!.trim()).toBe('usera short question');
    expect(await turn.locator('.msg.role-user').first().locator('button.fold').count()).toBe(0);
    // The file by its first lines, the answer by its first characters; each says how much there is.
    expect(await prompt.innerText()).toContain('line 1 of the pasted file');
    expect(await prompt.innerText()).not.toContain('line 80 of');
    expect(await prompt.locator('button.fold').textContent()).toBe('show all (80 lines)');
    expect(await answerBox.innerText()).not.toContain('THE END');
    expect(await answerBox.locator('button.fold').textContent()).toBe(`show all (${essay.length.toLocaleString('en-US')} characters)`);
    const folded = (await turn.boundingBox())!.height;
    await prompt.locator('button.fold').click();
    expect(await prompt.innerText()).toContain('line 80 of the pasted file');
    expect(await prompt.locator('button.fold').textContent()).toBe('show less');
    await answerBox.locator('button.fold').click();
    expect(await answerBox.innerText()).toContain('THE END');
    expect((await turn.boundingBox())!.height).toBeGreaterThan(folded + 500);
    await prompt.locator('button.fold').click();
    expect(await prompt.innerText()).not.toContain('line 80 of');
  });

  it('keeps a folded text\'s rest in the page, hidden until found: the browser\'s find reveals it and the fold opens', async () => {
    const file = Array.from({ length: 80 }, (_, i) => `${i + 1}. entry ${i + 1} of the log`).join('\n');
    const essay = `${'Nothing to see here. '.repeat(250)}FAR DOWN`;
    await answer('gpt-4o', 100, { prompt: [{ role: 'user', content: file }], answer: essay });
    tp.proxy.recorder.flush();
    const { id, sessionId } = await newest();
    const url = `${tp.url}/ui/#/session/${encodeURIComponent(sessionId)}`;
    await page.goto(url);
    const turn = page.locator(`article.turn[data-exchange="${id}"]`);
    await turn.waitFor();
    const [prompt, answerBox] = [turn.locator('.msg.role-user'), turn.locator('.msg.answer')];
    // Not shown, yet in the page for find-in-page to search.
    const rest = prompt.locator('[hidden="until-found"]');
    expect(await rest.count()).toBe(1);
    expect(await rest.textContent()).toContain('entry 80 of the log');
    expect(await prompt.innerText()).not.toContain('entry 80 of');
    expect(await answerBox.locator('[hidden="until-found"]').textContent()).toContain('FAR DOWN');
    // A numbered list cut in two goes on counting in the rest.
    expect(await rest.locator('ol').getAttribute('start')).toBe('13');

    // The browser's own find: a text fragment (#:~:text=) searches as find-in-page does and fires beforematch.
    await page.goto('about:blank');
    await page.goto(`${url}:~:text=${encodeURIComponent('entry 80 of the log')}`);
    await prompt.locator('button.fold', { hasText: 'show less' }).waitFor({ timeout: 5000 });
    expect(await prompt.innerText()).toContain('entry 80 of the log');
    expect(await prompt.locator('[hidden]').count()).toBe(0);
    // Folded again, it is hidden until found again.
    await prompt.locator('button.fold').click();
    expect(await prompt.locator('button.fold').textContent()).toBe('show all (80 lines)');
    expect(await prompt.locator('[hidden="until-found"]').count()).toBe(1);
    expect(await prompt.innerText()).not.toContain('entry 80 of');

    // beforematch however it comes opens the fold the button would.
    await answerBox.locator('[hidden="until-found"]').dispatchEvent('beforematch');
    await answerBox.locator('button.fold', { hasText: 'show less' }).waitFor({ timeout: 5000 });
    expect(await answerBox.innerText()).toContain('FAR DOWN');
    expect(await answerBox.locator('[hidden]').count()).toBe(0);
  });

  it('folds a long answer on the exchange page as in a turn, hidden until found', async () => {
    const essay = `${'An answer of many words. '.repeat(250)}LAST WORDS`;
    await answer('gpt-4o', 100, { prompt: [{ role: 'user', content: 'write at length' }], answer: essay });
    tp.proxy.recorder.flush();
    const { id } = await newest();
    await page.goto(`${tp.url}/ui/#/exchange/${encodeURIComponent(id)}`);
    const answerBox = page.locator('.exchange .msg.answer');
    await answerBox.waitFor();
    expect(await answerBox.locator('button.fold').textContent()).toBe(`show all (${essay.length.toLocaleString('en-US')} characters)`);
    expect(await answerBox.innerText()).not.toContain('LAST WORDS');
    expect(await answerBox.locator('[hidden="until-found"]').textContent()).toContain('LAST WORDS');
    await answerBox.locator('button.fold').click();
    expect(await answerBox.innerText()).toContain('LAST WORDS');
  });

  it('the copy button says "copied", then is "copy" again', async () => {
    const { id } = await newest();
    await page.goto(`${tp.url}/ui/#/exchange/${encodeURIComponent(id)}`);
    const button = page.getByRole('button', { name: 'copy' });
    await button.click();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toContain('curl');
    const copied = page.getByRole('button', { name: 'copied' });
    await copied.waitFor();
    const at = Date.now();
    await button.waitFor({ timeout: 5000 });
    expect(Date.now() - at).toBeGreaterThan(1000);
  });

  it('declares a tab icon of its own, inline, that loads under the page\'s CSP (a browser then asks for no /favicon.ico)', async () => {
    // Headless Chromium fetches no tab icon at all: what the page declares is what can be checked.
    await page.goto(`${tp.url}/ui/`);
    await page.locator('.live-dot.live').waitFor({ timeout: 10_000 });
    expect(await page.locator('link[rel="icon"]').count()).toBe(1);
    const href = (await page.locator('link[rel="icon"]').getAttribute('href'))!;
    expect(href).toMatch(/^data:image\/svg\+xml,/);
    const width = await page.evaluate<number>(`new Promise((done) => { const img = new Image(); img.onload = () => done(img.naturalWidth); img.onerror = () => done(0); img.src = ${JSON.stringify(href)}; })`);
    expect(width).toBeGreaterThan(0);
  });

  it('gives a group one colour in both charts, never two groups one colour, and writes legend values as the axis', async () => {
    await page.goto(`${tp.url}/ui/#/charts`);
    await page.locator('#chart-tokens .uplot').waitFor();
    const legend = (chart: string) => page.locator(`#chart-${chart} .u-legend .u-series`).evaluateAll((rows) => rows.slice(1).map((row) => [
      row.querySelector('.u-label')!.textContent!, row.ownerDocument.defaultView!.getComputedStyle(row.querySelector('.u-marker')!).borderColor,
    ] as const));
    const cost = await legend('cost');
    const tokens = await legend('tokens');
    expect(cost.map(([n]) => n).slice(0, 2)).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(tokens.map(([n]) => n).slice(0, 2)).toEqual(['acme-model-a', 'acme-model-b']);
    for (const chart of [cost, tokens]) expect(new Set(chart.map(([, c]) => c)).size).toBe(chart.length);
    const costColour = new Map(cost);
    for (const [name, colour] of tokens) if (costColour.has(name)) expect(colour, name).toBe(costColour.get(name));

    // Hovered, the legend gives each line's value as the axis writes it: dollars, not 0.0033.
    const over = page.locator('#chart-cost .u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    const values = await page.locator('#chart-cost .u-legend .u-series .u-value').allTextContents();
    expect(values.slice(1).length).toBeGreaterThan(0);
    for (const v of values.slice(1)) expect(v).toMatch(/^(\$[\d.]+|–)$/);
    // And the time as every page writes one: year first, a 24-hour clock (not uPlot's "12/7/26 9:31pm").
    expect(await page.locator('#chart-cost .u-legend .u-series').first().locator('.u-label').textContent()).toBe('time');
    expect(values[0]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    await page.screenshot({ path: `${ARTIFACTS}/charts-colours.png`, fullPage: true });
  });

  it('draws the charts as wide as their box on a wide window, and again at the new width when the window is resized', async () => {
    const widths = () => page.locator('.chart').evaluateAll((charts) => charts.map((c) => [c.clientWidth, c.querySelector('.uplot canvas')!.clientWidth]));
    const fits = async (expectWide: (box: number) => void) => {
      await expect.poll(async () => (await widths()).every(([box, canvas]) => Math.abs(box! - canvas!) <= 2), { timeout: 3000 }).toBe(true);
      for (const [box] of await widths()) expectWide(box!);
    };
    try {
      await page.setViewportSize({ width: 1900, height: 900 });
      await page.goto(`${tp.url}/ui/#/charts`);
      await page.locator('#chart-errors .uplot').waitFor();
      await fits((box) => expect(box).toBeGreaterThan(1800));
      await page.screenshot({ path: `${ARTIFACTS}/charts-wide.png`, fullPage: true });
      await page.setViewportSize({ width: 700, height: 900 });
      await fits((box) => expect(box).toBeLessThan(700));
      // Never narrower than can be read: a phone scrolls the chart sideways instead.
      await page.setViewportSize({ width: 250, height: 900 });
      await expect.poll(async () => (await widths()).every(([, canvas]) => canvas === 320), { timeout: 3000 }).toBe(true);
    } finally {
      await page.setViewportSize({ width: 1400, height: 900 });
    }
  });

  it('names under the usage table the models without a price, with provider, host and why (as under `stats`\' table)', async () => {
    type Reason = { provider: string | null; host: string; model: string | null; exchanges: number; reason: string };
    type Usage = { rows: { model: string; unpriced_reasons: Reason[] }[]; total: { unpriced_reasons: Reason[] } };
    const usage = (await (await fetch(`${tp.url}/ui/api/usage?by=model`)).json()) as Usage;
    const acmeA = { provider: 'openai', host: 'api.openai.com', model: 'acme-model-a', exchanges: 1, reason: 'unknown model "acme-model-a" for openai' };
    expect(usage.rows.find((r) => r.model === 'acme-model-a')!.unpriced_reasons).toEqual([acmeA]);
    expect(usage.rows.find((r) => r.model === 'gpt-4o')!.unpriced_reasons).toEqual([]);
    expect(usage.total.unpriced_reasons).toContainEqual(acmeA);

    await page.goto(`${tp.url}/ui/#/usage`);
    const note = page.locator('.usage .unpriced');
    await note.waitFor();
    const lines = await note.locator('li').allTextContents();
    // The newest first among equals, five named and the rest counted, as `stats` does.
    expect(lines[0]).toBe('1 exchange of acme-model-f (openai, api.openai.com) has no price: unknown model "acme-model-f" for openai');
    expect(lines).toHaveLength(6);
    expect(lines[5]).toBe('… and 1 exchange of 1 more model');
    expect(await note.textContent()).toContain('--prices file given to the proxy prices a model the price list lacks');
  });

  it('points the footnote on "+" at that list: a link that scrolls to it on the usage page, whose address opens the page there', async () => {
    const inView = () => page.locator('#unpriced').evaluate((el) => {
      const { top, bottom } = el.getBoundingClientRect();
      return top >= 0 && bottom <= el.ownerDocument.defaultView!.innerHeight;
    });
    try {
      // Short enough that the list starts below the fold.
      await page.setViewportSize({ width: 1400, height: 300 });
      await page.goto(`${tp.url}/ui/#/usage`);
      await page.locator('#unpriced li').first().waitFor();
      expect(await inView()).toBe(false);
      const link = page.locator('.usage .footnote a');
      expect(await link.textContent()).toBe('which, and why');
      await link.click();
      await expect.poll(inView, { timeout: 3000 }).toBe(true);
      await page.screenshot({ path: `${ARTIFACTS}/usage-unpriced-link.png` });
      // Still the usage page, its table as it was.
      expect(await page.locator('.tab.active').textContent()).toBe('Usage');
      expect(await page.locator('.usage-table tbody tr').count()).toBeGreaterThan(1);
      const url = page.url();
      await page.goto('about:blank');
      await page.goto(url);
      await page.locator('#unpriced li').first().waitFor();
      await expect.poll(inView, { timeout: 3000 }).toBe(true);
    } finally {
      await page.setViewportSize({ width: 1400, height: 900 });
    }
  });

  // Last: it adds a model to the archive the chart test above counts.
  it('marks subscription traffic\'s cost ~ (API-equivalent) in the thread\'s head as in the session\'s', async () => {
    const res = await request('https://api.anthropic.com/v1/messages', {
      method: 'POST', dispatcher: tp.agent,
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'on a subscription' }] }),
      // Claude Code signed in with a Claude subscription: an OAuth token, priced as the API would have cost.
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-ant-oat01-details-0123456789abcdef', 'anthropic-version': '2023-06-01' },
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    tp.proxy.recorder.flush();
    const { sessionId } = await newest();
    await page.goto(`${tp.url}/ui/#/session/${encodeURIComponent(sessionId)}`);
    await page.locator('article.turn').waitFor();
    expect(await page.locator('.facts .cost').textContent()).toMatch(/^~\$/);
    expect(await page.locator('article.turn .cost').textContent()).toMatch(/^~\$/);
    expect(await page.locator('.thread-head').textContent()).toMatch(/· ~\$[\d.]+$/);
  });

  it('a turn the provider ended with its own error after the 200 says which, beside the status, as tail and the list do', async () => {
    const res = await request('https://api.anthropic.com/v1/messages', {
      method: 'POST', dispatcher: tp.agent,
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: FAIL_MID_STREAM }] }),
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-api03-details-0123456789abcdef', 'anthropic-version': '2023-06-01' },
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toContain('overloaded_error');
    tp.proxy.recorder.flush();
    const { id, sessionId } = await newest();
    await page.goto(`${tp.url}/ui/#/session/${encodeURIComponent(sessionId)}`);
    const status = page.locator(`article.turn[data-exchange="${id}"] .status`);
    await status.waitFor();
    expect(await status.textContent()).toBe('200 overloaded_error');
    expect(await status.getAttribute('class')).toContain('bad');
  });
});

