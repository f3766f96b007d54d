/**
 * While the proxy cannot write its archive, every page of the web UI says so: traffic is
 * forwarded (fail-open) and the live list still shows it, but nothing is kept. Headless
 * Chromium against a proxy whose archive is read-only, then writable again.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { openArchive, type ArchiveOptions } from '../../src/recorder/db.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { ARTIFACTS, launchChromium } from './browser-helpers.js';

let fake: FakeProvider;
let tp: TestProxy;
const archive: ArchiveOptions = { readonly: true };

beforeAll(async () => {
  fake = await startFakeProvider();
  const home = mkdtempSync(join(tmpdir(), 'llmtap-banner-'));
  openArchive(paths(home).archive).close();
  tp = await startTestProxy(fake, { home }, { archive });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

async function chat(): Promise<number> {
  const res = await request('https://api.openai.com/v1/chat/completions', { method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' });
  await res.body.text();
  return res.statusCode;
}

describe('the archive banner', () => {
  it('shows on every page while the archive fails, and is gone once it records again', async () => {
    expect(await chat()).toBe(200); // forwarded, not recorded
    await expect.poll(() => tp.proxy.recorder.stats().lost).toBe(1);
    const state = await request(`${tp.url}/ui/api/archive`);
    expect(await state.body.json()).toEqual({ healthy: false, recorded: 0, lost: 1 });

    const chromium = await launchChromium();
    try {
      const page = await chromium.browser.newPage();
      for (const view of ['#/', '#/sessions', '#/usage']) {
        await page.goto(`${tp.url}/ui/${view}`);
        await expect.poll(() => page.locator('.archive-failing').textContent(), { timeout: 10_000 }).toContain('traffic is forwarded but not recorded (1 record lost since the proxy started)');
      }
      await page.goto(`${tp.url}/ui/#/`);
      await page.locator('.archive-failing').waitFor();
      await page.screenshot({ path: `${ARTIFACTS}/archive-failing.png` });

      archive.readonly = false; // fixed: the next exchange is written
      expect(await chat()).toBe(200);
      await expect.poll(() => tp.proxy.recorder.healthy).toBe(true);
      // The page's own look at the archive after a reload says it records: no banner.
      const looked = page.waitForResponse((r) => r.url().endsWith('/ui/api/archive'));
      await page.reload();
      expect(await (await looked).json()).toMatchObject({ healthy: true, lost: 1 });
      await page.locator('.tab.active').waitFor();
      expect(await page.locator('.archive-failing').count()).toBe(0);
    } finally {
      await chromium.close();
    }
  });
});
