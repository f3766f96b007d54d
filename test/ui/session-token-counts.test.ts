/**
 * The token counts asked in a session (Claude Code's count_tokens before and between its
 * turns) belong to it without being turns: the session page's facts line counts them
 * beside the turns, as `llmtap show SESSION` does ("1 turn, 2 token counts"), from the
 * session JSON's `token_counts`. Headless Chromium against traffic through the proxy.
 */
import Anthropic from '@anthropic-ai/sdk';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { ARTIFACTS, launchChromium } from './browser-helpers.js';

let fake: FakeProvider;
let tp: TestProxy;
let chromium: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
  chromium = await launchChromium();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await tp?.close();
  await fake?.close();
});

const client = (sid: string) => new Anthropic({
  apiKey: 'sk-ant-test-count-0123456789', maxRetries: 0, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never,
  defaultHeaders: { 'x-claude-code-session-id': sid, 'user-agent': 'claude-cli/2.0.14 (external, cli)' },
});

/** A Claude Code session of one turn, with a count before it and one of the next turn after it, or without counts. */
async function session(sid: string, counts: boolean): Promise<void> {
  const c = client(sid);
  const messages = [{ role: 'user' as const, content: `Fix the failing test (${sid.slice(0, 4)})` }];
  if (counts) await c.messages.countTokens({ model: 'claude-sonnet-4-5', messages });
  await c.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages });
  if (counts) await c.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [...messages, { role: 'assistant', content: 'Done.' }, { role: 'user', content: 'Now run the suite' }] });
  await eventually(() => {
    const rows = exported(tp).filter((r) => r.session_id === sid);
    if (rows.length < (counts ? 3 : 1)) throw new Error(`${rows.length} recorded`);
  });
}

describe('a session\'s token counts on its page', () => {
  it('the facts line counts them beside the turns; a session without any does not mention them', async () => {
    const withCounts = '7c2e9a10-4b3d-4f6e-8a1b-2c3d4e5f6a7b';
    const without = '0d1e2f30-4b3d-4f6e-8a1b-2c3d4e5f6a7b';
    await session(withCounts, true);
    await session(without, false);

    const json = async (sid: string) => (await (await fetch(`${tp.url}/ui/api/sessions/${sid}`)).json()) as { token_counts?: number };
    expect((await json(withCounts)).token_counts).toBe(2);
    expect((await json(without)).token_counts).toBe(0);

    const page = await chromium.browser.newPage();
    for (const [width, height] of [[1280, 800], [390, 844]] as const) {
      await page.setViewportSize({ width, height });
      await page.goto(`${tp.url}/ui/#/session/${withCounts}`);
      await page.locator('article.turn').waitFor({ timeout: 10_000 });
      expect(await page.locator('.session > .facts').textContent()).toContain('1 thread, 1 turn, 2 token counts');
      await page.screenshot({ path: `${ARTIFACTS}/session-token-counts-${width}.png` });
    }
    await page.goto(`${tp.url}/ui/#/session/${without}`);
    await page.locator('article.turn').waitFor({ timeout: 10_000 });
    const facts = await page.locator('.session > .facts').textContent();
    expect(facts).toContain('1 thread, 1 turn');
    expect(facts).not.toContain('token count');
    await page.close();
  }, 60_000);
});
