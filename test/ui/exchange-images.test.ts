/**
 * An image generation's exchange page shows the images it answered with, not only their
 * count above a wall of base64: a JSON answer's and a stream's final image, under the
 * page's CSP; an image answered by URL is not fetched. And its long address, the heading,
 * wraps at a slash on a phone. Headless Chromium, real traffic.
 */
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_PNG_B64 } from '../helpers/fake-media-apis.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { answerImages } from '../../ui/src/answer-images.js';
import { ARTIFACTS, launchChromium } from './browser-helpers.js';

let fake: FakeProvider;
let tp: TestProxy;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const ids = new Map<string, string>();

async function generate(name: string, body: Record<string, unknown>): Promise<void> {
  const res = await request('https://api.openai.com/v1/images/generations', {
    method: 'POST', dispatcher: tp.agent, body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-proj-images-0123456789abcdef' },
  });
  expect(res.statusCode).toBe(200);
  await res.body.text();
  tp.proxy.recorder.flush();
  const [newest] = ((await (await fetch(`${tp.url}/ui/api/exchanges`)).json()) as { exchanges: { id: string }[] }).exchanges;
  ids.set(name, newest!.id);
}

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
  await generate('json', { model: 'gpt-image-1', prompt: 'a lighthouse at dusk', n: 2 });
  await generate('stream', { model: 'gpt-image-1', prompt: 'a lighthouse at dawn', stream: true, partial_images: 2 });
  await generate('url', { model: 'dall-e-3', prompt: 'a lighthouse at noon' });
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await tp?.close();
  await fake?.close();
});

async function images(name: string): Promise<{ width: number; src: string }[]> {
  const id = encodeURIComponent(ids.get(name)!);
  await page.goto(`${tp.url}/ui/#/exchange/${id}`);
  // This exchange's page, not the one before it still on screen.
  await page.locator(`.facts a[href^="/ui/api/exchanges/${id}/"]`).first().waitFor({ timeout: 10_000 });
  await page.locator('.exchange .msg.answer').waitFor({ timeout: 10_000 });
  type Img = { decode(): Promise<void>; naturalWidth: number; src: string };
  return page.locator('.answer .images img').evaluateAll((imgs) => Promise.all((imgs as unknown as Img[]).map(async (img) => {
    await img.decode();
    return { width: img.naturalWidth, src: img.src };
  })));
}

describe('an image answer on its exchange page', () => {
  it('shows each image of a JSON answer, decoded under the page\'s CSP; a click shows it whole', async () => {
    const shown = await images('json');
    expect(shown).toEqual([{ width: 1, src: `data:image/png;base64,${TINY_PNG_B64}` }, { width: 1, src: `data:image/png;base64,${TINY_PNG_B64}` }]);
    const first = page.locator('.answer .images img').first();
    await first.click();
    expect(await first.getAttribute('class')).toBe('whole');
    await page.screenshot({ path: `${ARTIFACTS}/exchange-images.png`, fullPage: true });
  });

  it('shows a stream\'s final image, not its partial ones', async () => {
    expect((await images('stream')).map((i) => i.width)).toEqual([1]);
  });

  it('fetches no image answered by URL (the provider\'s signed link; the page loads nothing from elsewhere)', async () => {
    expect(await images('url')).toEqual([]);
  });

  it('wraps the address in its heading after a slash on a phone, not inside a word', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await images('json');
      const h1 = page.locator('.exchange h1');
      expect(await h1.textContent()).toBe('POST api.openai.com/v1/images/generations');
      // The last segment is on one line: a Range over it has one box.
      expect(await h1.evaluate((el) => {
        const doc = el.ownerDocument;
        const walker = doc.createTreeWalker(el, 4);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const at = node.textContent!.indexOf('generations');
          if (at < 0) continue;
          const range = doc.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + 'generations'.length);
          return range.getClientRects().length;
        }
        return -1;
      })).toBe(1);
      expect(await h1.evaluate((el) => el.getBoundingClientRect().height > 30)).toBe(true);
    } finally {
      await page.setViewportSize({ width: 1400, height: 900 });
    }
  });

  it('makes a data: URL of base64 in a known image format only', () => {
    const json = (data: unknown, format?: string) => JSON.stringify({ data, ...(format ? { output_format: format } : {}) });
    expect(answerImages(json([{ b64_json: 'QUJD' }], 'webp'), [])).toEqual(['data:image/webp;base64,QUJD']);
    expect(answerImages(json([{ b64_json: 'QUJD' }], 'svg+xml'), [])).toEqual([]);
    expect(answerImages(json([{ b64_json: 'not base64!' }]), [])).toEqual([]);
    expect(answerImages(json([{ url: 'https://example.com/a.png' }]), [])).toEqual([]);
    expect(answerImages('not json', [])).toEqual([]);
  });
});
