import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { SIGNED_NOT_APPLIED } from '../../src/policy/signed-request.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { ARTIFACTS, launchChromium } from './browser-helpers.js';

/** A prompt that would run script if the UI ever put captured text into the page as markup. */
const HOSTILE = 'What is the weather in Paris? <script>alert("xss")</script><img src=x onerror="alert(\'img\')"> **bold**';
const weatherTool = { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };

const BEDROCK = 'bedrock-runtime.us-west-2.amazonaws.com';

let fake: FakeProvider;
let tp: TestProxy;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const dialogs: string[] = [];

beforeAll(async () => {
  fake = await startFakeProvider();
  // Bedrock requests too (the fake answers them): a route model and a clamp that SigV4 keeps from applying.
  const policy = loadPolicyText(`rules:
  - {id: no-gpt5, action: deny, match: {model: "gpt-5*"}}
  - {id: cap, match: {provider: bedrock}, limits: {maxTokens: 100}}
  - {id: cheaper, match: {provider: bedrock}, route: {model: amazon.nova-micro-v1:0}}
`, 'policy.yaml');
  const connectTo = [...FAKE_HOSTS, BEDROCK].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`));
  tp = await startTestProxy(fake, { policy, connectTo });
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await tp?.close();
  await fake?.close();
});

async function rowCount(p: Page): Promise<number> {
  return p.locator('table.list tbody tr').count();
}

describe('the web UI in headless Chromium, against traffic from the real SDKs', () => {
  it('serves the page with a strict CSP, and the list updates live as requests complete', async () => {
    const response = await page.goto(`${tp.url}/ui/`);
    const headers = response!.headers();
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['x-content-type-options']).toBe('nosniff');
    await page.locator('.live-dot.live').waitFor({ timeout: 10_000 });
    expect(await rowCount(page)).toBe(0);
    // Nothing recorded yet: how to start.
    expect(await page.locator('p.empty').textContent()).toContain('Point a tool at this proxy');

    // An agent loop with a tool, from the real Anthropic SDK, while the page is open.
    const anthropic = new Anthropic({ apiKey: 'sk-ant-api03-webui-0123456789abcdef', fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: HOSTILE }];
    // The fake provider answers with these subscription quota headers (the session view shows the burn).
    const quota = (used: number) => ({ headers: { 'X-Fake-Answer-Headers': JSON.stringify({ 'anthropic-ratelimit-unified-5h-utilization': String(used) }) } });
    const first = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, tools: [weatherTool], messages }, quota(0.1));
    // The row arrives by server push: no reload, no polling.
    await page.locator('table.list tbody tr').first().waitFor({ timeout: 10_000 });
    expect(await rowCount(page)).toBe(1);
    // Its session is assigned as the archive writes it; the writer's report completes the row, still without a reload.
    const sessionLink = page.locator('table.list tbody tr').first().locator('td a[href^="#/session/"]');
    await sessionLink.waitFor({ timeout: 10_000 });
    tp.proxy.recorder.flush();
    const [stored] = ((await (await fetch(`${tp.url}/ui/api/exchanges`)).json()) as { exchanges: { id: string; sessionId: string }[] }).exchanges;
    expect(await sessionLink.getAttribute('href')).toBe(`#/session/${encodeURIComponent(stored!.sessionId)}`);
    const call = first.content.find((b) => b.type === 'tool_use')!;
    messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18°C and sunny' }] });
    await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, tools: [weatherTool], messages }, quota(0.13));
    await expect.poll(() => rowCount(page), { timeout: 10_000 }).toBe(2);

    const openai = new OpenAI({ apiKey: 'sk-proj-webui-0123456789abcdef', fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }] });
    await expect.poll(() => rowCount(page), { timeout: 10_000 }).toBe(3);
    const top = page.locator('table.list tbody tr').first();
    expect(await top.textContent()).toContain('gpt-4o-mini');
    expect(await top.textContent()).toContain('openai-sdk-node');

    // Keyboard: j moves down, Enter opens the exchange.
    await page.keyboard.press('j');
    expect(await page.locator('tr.selected').textContent()).toContain('claude-sonnet-4-5');
    tp.proxy.recorder.flush();
    await page.reload();
    await page.locator('table.list tbody tr').nth(2).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/live-list.png` });
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.locator('section.exchange').waitFor();
    expect(page.url()).toContain('#/exchange/');
    // Prompt tokens counted as the list counts them: Anthropic's 21 uncached and 4 cache reads are 25 in.
    expect(await page.locator('section.exchange .facts').textContent()).toContain('in 25 · cached 4 · out 9');
    const curl = await page.locator('pre.curl').textContent();
    expect(curl).toContain('$ANTHROPIC_API_KEY');
    expect(curl).not.toContain('sk-ant-api03');
    await page.screenshot({ path: `${ARTIFACTS}/exchange-view.png`, fullPage: true });
  });

  it('opens a session with its turns, shows the diff between requests, and renders hostile text as text', async () => {
    tp.proxy.recorder.flush();
    const { sessions } = (await (await fetch(`${tp.url}/ui/api/sessions`)).json()) as { sessions: { id: string; tool: string }[] };
    const session = sessions.find((s) => s.tool === 'anthropic-sdk-node')!;
    await page.goto(`${tp.url}/ui/#/session/${encodeURIComponent(session.id)}`);
    await page.locator('article.turn').nth(1).waitFor();
    expect(await page.locator('article.turn').count()).toBe(2);
    const firstTurn = page.locator('article.turn').first();
    // The markup in the prompt is shown as characters, never parsed into elements.
    expect(await firstTurn.textContent()).toContain('<script>alert("xss")</script>');
    expect(await firstTurn.textContent()).toContain('<img src=x onerror=');
    expect(await page.locator('main script, main img, .md [onerror]').count()).toBe(0);
    // Markdown still renders (captured answers are mostly Markdown).
    expect(await firstTurn.locator('.md strong').first().textContent()).toBe('bold');
    expect(await firstTurn.textContent()).toContain('get_weather');

    // The second request added the assistant's tool call and the tool result.
    const diff = page.locator('article.turn').nth(1).locator('details.diff');
    expect(await diff.locator(':scope > summary').textContent()).toContain('+2 messages');
    await diff.locator(':scope > summary').click();
    const added = diff.locator('.msg.added');
    expect(await added.count()).toBe(2);
    expect(await added.nth(1).textContent()).toContain('18°C and sunny');
    await page.screenshot({ path: `${ARTIFACTS}/session-view.png`, fullPage: true });
    expect(dialogs).toEqual([]);

    // The session downloads as a HAR document of its two exchanges.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.downloads a', { hasText: 'HAR' }).click()]);
    expect(download.suggestedFilename()).toBe(`llmtap-session-${session.id}.har`);
    const har = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { log: { entries: { _llmtap: { session_id: string } }[] } };
    expect(har.log.entries.map((e) => e._llmtap.session_id)).toEqual([session.id, session.id]);
  });

  it('shows the quota burn, and replays the session turn by turn (n steps, space plays, speed selector)', async () => {
    const { sessions } = (await (await fetch(`${tp.url}/ui/api/sessions`)).json()) as { sessions: { id: string; tool: string }[] };
    const session = sessions.find((s) => s.tool === 'anthropic-sdk-node')!;
    await page.goto(`${tp.url}/ui/#/session/${encodeURIComponent(session.id)}`);
    await page.locator('article.turn').nth(1).waitFor();
    // The 5h window went from 10% to 13% over the session.
    expect(await page.locator('.facts .quota').textContent()).toBe('quota burn 5h +3.0%');
    expect(await page.locator('.replay-pos').textContent()).toBe('2 turns');

    await page.keyboard.press('n');
    await expect.poll(() => page.locator('article.turn').count()).toBe(1);
    expect(await page.locator('article.turn').first().getAttribute('data-turn')).toBe('1');
    expect(await page.locator('article.turn').first().textContent()).toContain('What is the weather in Paris?');
    expect(await page.locator('.replay-pos').textContent()).toBe('turn 1 / 2');
    await page.screenshot({ path: `${ARTIFACTS}/session-replay.png` });
    await page.keyboard.press('n');
    await expect.poll(() => page.locator('article.turn').count()).toBe(2);
    expect(await page.locator('article.turn.replay-current').getAttribute('data-turn')).toBe('2');
    expect(await page.locator('article.turn.replay-current').textContent()).toContain('18°C and sunny');
    expect(await page.locator('.replay-next').isDisabled()).toBe(true);

    // Back to the start, then play at 20×: the turns come back by themselves and playback stops at the end.
    await page.getByRole('button', { name: '« restart' }).click();
    expect(await page.locator('article.turn').count()).toBe(0);
    await page.selectOption('.replay-speed', '20');
    await page.locator('h1').click(); // keys typed into the speed selector are its own
    await page.keyboard.press(' ');
    await expect.poll(() => page.locator('.replay-pos').textContent(), { timeout: 10_000 }).toBe('turn 2 / 2');
    expect(await page.locator('article.turn').count()).toBe(2);
    await expect.poll(() => page.locator('.replay-play').textContent()).toBe('▶ play');
    await page.getByRole('button', { name: 'show all' }).click();
    expect(await page.locator('.replay-pos').textContent()).toBe('2 turns');
  });

  it('opens a streamed exchange pushed live with Enter, and lists its SSE events', async () => {
    await page.goto(`${tp.url}/ui/#/`);
    await page.locator('.live-dot.live').waitFor({ timeout: 10_000 });
    await page.locator('table.list tbody tr').nth(2).waitFor();
    const before = await rowCount(page);
    const anthropic = new Anthropic({ apiKey: 'sk-ant-api03-webui-0123456789abcdef', fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const stream = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Stream please' }] });
    for await (const _event of stream) { /* drain */ }
    await expect.poll(() => rowCount(page), { timeout: 10_000 }).toBe(before + 1);
    await page.keyboard.press('Enter');
    await page.locator('table.sse').waitFor({ timeout: 10_000 });
    const names = await page.locator('table.sse th').allTextContents();
    expect(names[0]).toBe('message_start');
    expect(names).toContain('content_block_delta');
    expect(names.at(-1)).toBe('message_stop');
    // A small event reads on one line (a large one pretty-printed: sse-event-unit.test.ts): a word of text is not eight lines of page.
    const data = async (event: string) => page.locator('table.sse tr', { has: page.locator('th', { hasText: new RegExp(`^${event}$`) }) }).first().locator('pre').textContent();
    expect(await data('content_block_delta')).toMatch(/^\{"type":"content_block_delta",.*\}$/);
    expect(await data('message_stop')).toBe('{"type":"message_stop"}');
    // On a phone an event's name goes above its data, which gets the whole width.
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const widths = await page.locator('table.sse tr').first().evaluate((tr) => [tr.querySelector('td')!.getBoundingClientRect().width, tr.closest('table')!.getBoundingClientRect().width]);
      expect(widths[0]).toBeGreaterThan(widths[1]! * 0.9);
    } finally {
      await page.setViewportSize({ width: 1400, height: 900 });
    }
  });

  it('shows a policy block in the live list', async () => {
    await page.goto(`${tp.url}/ui/#/`);
    await page.locator('.live-dot.live').waitFor({ timeout: 10_000 });
    await page.locator('table.list tbody tr').nth(3).waitFor();
    const before = await rowCount(page);
    const openai = new OpenAI({ apiKey: 'sk-proj-webui-0123456789abcdef', fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    await expect(openai.chat.completions.create({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow();
    await expect.poll(() => rowCount(page), { timeout: 10_000 }).toBe(before + 1);
    const top = page.locator('table.list tbody tr').first();
    expect(await top.locator('td.policy.blocked').textContent()).toBe('blocked: no-gpt5');
    expect(await top.locator('.status.bad').textContent()).toContain('403');
    // Opened, the block reads as `show` words it; the record itself is one click away.
    tp.proxy.recorder.flush();
    const { exchanges } = (await (await fetch(`${tp.url}/ui/api/exchanges`)).json()) as { exchanges: { id: string; model: string | null; sessionId: string | null }[] };
    const blocked = exchanges.find((e) => e.model === 'gpt-5')!;
    await page.goto(`${tp.url}/ui/#/exchange/${blocked.id}`);
    await page.locator('.policy-box li').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('.policy-box li').allTextContents()).toEqual(['no-gpt5 · access deny', 'refused: model_not_allowed']);
    expect(await page.locator('.policy-box li.refused').textContent()).toBe('refused: model_not_allowed');
    expect(await page.locator('.policy-box details pre').isVisible()).toBe(false);
    // Refused before it went upstream: it cost nothing, `$0` as the list and a Codex session's refused request say it.
    // No first byte: said with its name, not a lone dash; timed as the list, the turn and usage label it.
    expect(await page.locator('.facts .cost').textContent()).toBe('$0');
    expect(await page.locator('.facts').textContent()).toMatch(/\d+ ms \(TTFT –\)/);
    await page.locator('.policy-box summary').click();
    expect(JSON.parse((await page.locator('.policy-box details pre').textContent())!)).toMatchObject({ blocked: 'model_not_allowed', decisions: [{ rule: 'no-gpt5', kind: 'access', action: 'deny', enforced: true }] });
    // Its session shows the same lines on the turn.
    await page.goto(`${tp.url}/ui/#/session/${blocked.sessionId}`);
    await page.locator('.turn-policy li').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('.turn-policy li').allTextContents()).toEqual(['no-gpt5 · access deny', 'refused: model_not_allowed']);
    expect(await page.locator('article.turn .cost').textContent()).toBe('$0');
  });

  it('shows why a decision was not applied (a SigV4-signed Bedrock request), as show words it, on the exchange and its turn', async () => {
    // Signed as the AWS SDK signs (the fake does not check it): the policy may not change path or body.
    const res = await request(`https://${BEDROCK}/model/amazon.nova-lite-v1:0/converse`, {
      method: 'POST', dispatcher: tp.agent,
      headers: { 'content-type': 'application/json', authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7FAKEKEY/20260101/us-west-2/bedrock/aws4_request, SignedHeaders=host, Signature=00', 'x-amz-date': '20260101T000000Z' },
      body: JSON.stringify({ inferenceConfig: { maxTokens: 4096 }, messages: [{ role: 'user', content: [{ text: 'signed, not rewritten' }] }] }),
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    tp.proxy.recorder.flush();
    const { exchanges } = (await (await fetch(`${tp.url}/ui/api/exchanges`)).json()) as { exchanges: { id: string; model: string | null; sessionId: string | null }[] };
    const signed = exchanges.find((e) => e.model === 'amazon.nova-lite-v1:0')!;
    const lines = [
      `cap · limits clamp · inferenceConfig.maxTokens 4096 → 100 not applied (${SIGNED_NOT_APPLIED})`,
      expect.stringMatching(/^cheaper · route · model amazon\.nova-micro-v1:0 not applied \(Bedrock.*SigV4/),
    ];
    await page.goto(`${tp.url}/ui/#/exchange/${signed.id}`);
    await page.locator('.policy-box li').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('.policy-box li').allTextContents()).toEqual(lines);
    // Set apart from the decisions that did what they say.
    expect(await page.locator('.policy-box li.not-applied').count()).toBe(2);
    await page.goto(`${tp.url}/ui/#/session/${signed.sessionId}`);
    await page.locator('.turn-policy li').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('.turn-policy li').allTextContents()).toEqual(lines);
    expect(await page.locator('.turn-policy li.not-applied').count()).toBe(2);
  });

  it('refuses a request whose Host is not a loopback name (DNS rebinding) on a local proxy', async () => {
    const res = await request(`${tp.url}/ui/api/exchanges`, { headers: { host: `rebound.example:${new URL(tp.url).port}` } });
    expect(res.statusCode).toBe(403);
    await res.body.dump();
  });

  it('lists the sessions and narrows them by tool as one types', async () => {
    await page.goto(`${tp.url}/ui/#/sessions`);
    const tools = () => page.locator('table.list tbody tr td:nth-child(4)').allTextContents();
    await expect.poll(tools).toEqual(expect.arrayContaining(['anthropic-sdk-node', 'openai-sdk-node']));
    await page.fill('#sessions-tool', 'openai-sdk-node');
    await expect.poll(async () => [...new Set(await tools())]).toEqual(['openai-sdk-node']);
    await page.fill('#sessions-tool', 'no-such-tool');
    await page.locator('p.empty', { hasText: 'No sessions match these filters.' }).waitFor();
    await page.locator('.clear-filters').click();
    await expect.poll(tools).toEqual(expect.arrayContaining(['anthropic-sdk-node', 'openai-sdk-node']));
    expect(await page.locator('#sessions-tool').inputValue()).toBe('');
  });

  it('searches prompts and answers: each found exchange shows where, and the words around the text, marked', async () => {
    await page.goto(`${tp.url}/ui/#/`);
    await page.locator('table.list tbody tr').first().waitFor();
    await page.fill('#filter-q', 'SUNNY');
    const match = page.locator('tr.match-row').first();
    await match.waitFor({ timeout: 10_000 });
    // The tool result the second Claude turn sent (and every turn after it resends).
    expect(await match.locator('.match-in').textContent()).toBe('prompt');
    expect(await match.textContent()).toContain('18°C and sunny');
    expect(await match.locator('mark').allTextContents()).toEqual(['sunny']);
    const models = await page.locator('table.list tbody tr[data-id] td:nth-child(3)').allTextContents();
    expect(new Set(models)).toEqual(new Set(['claude-sonnet-4-5']));
    await page.fill('#filter-q', 'bonjour');
    await expect.poll(() => page.locator('tr.match-row .match-in').first().textContent()).toBe('answer');
    // Captured text is text here too: the hostile prompt found, no markup run.
    await page.fill('#filter-q', 'onerror');
    await expect.poll(() => page.locator('tr.match-row').first().textContent()).toContain('<img src=x onerror=');
    await page.screenshot({ path: `${ARTIFACTS}/search.png` });
    expect(dialogs).toEqual([]);
  });

  it('draws the charts: cost and tokens by model, tool or user, cache hit ratio, errors', async () => {
    tp.proxy.recorder.flush();
    const { exchanges } = (await (await fetch(`${tp.url}/ui/api/exchanges`)).json()) as { exchanges: { promptTokens: number; cachedTokens: number; status: number | null }[] };
    const failures = exchanges.filter((e) => (e.status ?? 0) >= 400).length;
    expect(failures).toBeGreaterThan(0);
    const hit = (100 * exchanges.reduce((n, e) => n + e.cachedTokens, 0)) / exchanges.reduce((n, e) => n + e.promptTokens, 0);
    expect(hit).toBeGreaterThan(0);

    await page.goto(`${tp.url}/ui/#/charts`);
    await page.locator('.uplot').first().waitFor();
    expect(await page.locator('.uplot').count()).toBe(4);
    const labels = (chart: string) => page.locator(`#chart-${chart} .u-legend .u-series .u-label`).allTextContents();
    expect(await labels('cost')).toEqual(expect.arrayContaining(['claude-sonnet-4-5', 'gpt-4o-mini']));
    // This proxy's policy names no teams: nothing to split by team.
    expect(await page.locator('#chart-by option').allTextContents()).toEqual(['model', 'tool', 'user']);
    await page.selectOption('#chart-by', 'tool');
    await expect.poll(() => labels('cost')).toEqual(expect.arrayContaining(['anthropic-sdk-node', 'openai-sdk-node']));
    expect(await labels('tokens')).toEqual(expect.arrayContaining(['anthropic-sdk-node', 'openai-sdk-node']));
    expect(await page.locator('#chart-errors .chart-note').textContent()).toContain(`${failures} of ${exchanges.length} failed`);
    expect(await page.locator('#chart-cache .chart-note').textContent()).toContain(`overall ${hit.toFixed(1)}%`);
    expect(await labels('cache')).toContain('cache hit %');
    // Summed by the proxy per time bucket over the period (the whole archive here), latency from the same period's total.
    expect(await page.locator('.charts .toolbar').textContent()).toContain(`${exchanges.length} exchanges · buckets of`);
    expect(await page.locator('table.percentiles').textContent()).toMatch(/latency\d+ ms\d+ ms/);
    await page.screenshot({ path: `${ARTIFACTS}/charts.png`, fullPage: true });
    await page.selectOption('#chart-period', 'last-month');
    await page.locator('.charts p.empty').waitFor();
    await page.selectOption('#chart-period', '7d');
    await page.locator('.uplot').first().waitFor();
  });
});
