import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, WS_TEXT, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { ARTIFACTS, launchChromium } from './browser-helpers.js';

/**
 * A Codex session (Responses over WebSocket) in the web UI's session view: one exchange in
 * the archive, a turn per request in it — through a real `ws` client and server, one
 * request refused by the policy on the way, looked at in headless Chromium.
 */
let fake: FakeWs;
let tp: TestProxy;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
beforeAll(async () => {
  fake = await startFakeWs({ perMessageDeflate: false });
  const policy = loadPolicyText('rules:\n  - {id: no-o3, action: deny, match: {model: "o3*"}}\n', 'p.yaml');
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile], policy });
  chromium = await launchChromium();
}, 60_000);
afterAll(async () => {
  await chromium?.close();
  await tp?.close();
  await fake?.close();
});

describe('a Codex WebSocket session in the web UI', () => {
  it('reads request by request: each its own turn with its input and answer, the refused one saying why; the replay steps through them', async () => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls, perMessageDeflate: false });
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const ask = async (model: string, words: string): Promise<void> => {
      const from = got.length;
      ws.send(JSON.stringify({ type: 'response.create', model, input: [{ role: 'user', content: words }] }));
      await eventually(() => expect(got.slice(from).some((m) => m.includes('"response.completed"') || m.includes('"type":"error"'))).toBe(true));
    };
    await ask('gpt-5-codex', 'first, read the failing test');
    await ask('o3', 'now think very hard');
    await ask('gpt-5-codex', 'then fix it');
    ws.close(1000);
    const row = await eventually(() => {
      const r = exported(tp).find((e) => e.status === 101);
      if (!r?.session_id) throw new Error('session not recorded yet');
      return r;
    });

    const page = await chromium.browser.newPage();
    await page.goto(`${tp.url}/ui/#/session/${encodeURIComponent(row.session_id as string)}`);
    await page.locator('article.turn').nth(2).waitFor({ timeout: 10_000 });
    const turns = page.locator('article.turn');
    expect(await turns.count()).toBe(3);
    expect(await turns.evaluateAll((els) => els.map((e) => e.getAttribute('data-turn')))).toEqual(['1', '2', '3']);
    expect(await turns.nth(0).textContent()).toContain('first, read the failing test');
    expect(await turns.nth(0).textContent()).toContain(WS_TEXT);
    expect(await turns.nth(1).textContent()).toContain('now think very hard');
    expect(await turns.nth(1).textContent()).toContain('error: model_not_allowed');
    expect(await turns.nth(2).textContent()).toContain('then fix it');
    expect(await page.locator('.facts').textContent()).toContain('1 thread, 3 turns');
    await page.screenshot({ path: `${ARTIFACTS}/websocket-session.png`, fullPage: true });

    // The replay reveals them one at a time, though all three are one exchange.
    expect(await page.locator('.replay-pos').textContent()).toBe('3 turns');
    await page.keyboard.press('n');
    await expect.poll(() => turns.count()).toBe(1);
    await page.keyboard.press('n');
    await expect.poll(() => turns.count()).toBe(2);
    expect(await page.locator('article.turn.replay-current').getAttribute('data-turn')).toBe('2');

    // The exchange's own page reads it request by request too, each with its share of the session's cost.
    await page.goto(`${tp.url}/ui/#/exchange/${encodeURIComponent(row.id as string)}`);
    await page.locator('h2', { hasText: 'Requests (3)' }).waitFor({ timeout: 10_000 });
    const requests = page.locator('article.turn');
    expect(await requests.count()).toBe(3);
    expect(await requests.nth(1).textContent()).toContain('error: model_not_allowed');
    expect(await page.locator('.facts').textContent()).toContain('turns 1–3');
    const costs = await requests.locator('.cost').allTextContents();
    expect(costs[1]).toBe('$0');
    // Two answers of the same size at the same model: half the session's cost each.
    expect(costs[0]).toBe(costs[2]);
    expect(costs[0]).not.toBe('–');
    // No link from a request to the page it is on.
    expect(await requests.locator('a', { hasText: 'exchange' }).count()).toBe(0);
    // The frames stay one click away, a close frame read as its code.
    const log = page.locator('details.ws-log');
    expect(await log.getAttribute('open')).toBeNull();
    await log.locator('summary').click();
    expect(await log.locator('tr').last().textContent()).toContain('close 1000');
    await page.screenshot({ path: `${ARTIFACTS}/websocket-exchange.png`, fullPage: true });
    await page.close();
  }, 60_000);

  it('names every model of a session that switched models, as tail and the CSV do, and the model filter finds it by either', async () => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls, perMessageDeflate: false });
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    for (const model of ['gpt-5-codex', 'gpt-5-mini']) {
      const from = got.length;
      ws.send(JSON.stringify({ type: 'response.create', model, input: [{ role: 'user', content: `asking ${model}` }] }));
      await eventually(() => expect(got.slice(from).some((m) => m.includes('"response.completed"'))).toBe(true));
    }
    ws.close(1000);
    // Named after its last model in the archive's model column.
    const row = await eventually(() => {
      const r = exported(tp).find((e) => e.status === 101 && e.model === 'gpt-5-mini');
      if (!r?.session_id) throw new Error('session not recorded yet');
      return r;
    });
    const id = row.id as string;
    const modelCell = (page: Page) => page.locator(`tr[data-id="${id}"] td`).nth(2);

    const page = await chromium.browser.newPage();
    await page.goto(`${tp.url}/ui/#/`);
    expect(await modelCell(page).textContent({ timeout: 10_000 })).toBe('gpt-5-codex+gpt-5-mini');
    await page.goto(`${tp.url}/ui/#/exchange/${encodeURIComponent(id)}`);
    await page.locator('h2', { hasText: 'Requests (2)' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('.facts').textContent()).toContain('gpt-5-codex+gpt-5-mini');
    // Filtered by the model it switched from (not the row's), the list still has it; by the other, it alone.
    await page.goto(`${tp.url}/ui/#/?model=gpt-5-codex`);
    await modelCell(page).waitFor({ timeout: 10_000 });
    await page.goto(`${tp.url}/ui/#/?model=gpt-5-mini`);
    await modelCell(page).waitFor({ timeout: 10_000 });
    expect(await page.locator('table.list tbody tr').count()).toBe(1);
    await page.close();
  }, 60_000);
});
