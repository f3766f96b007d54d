import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { ProxyAgent, request } from 'undici';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyText } from '../../src/policy/load.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { assertValidHar } from '../helpers/har-validator.js';
import { ARTIFACTS, launchChromium } from './browser-helpers.js';

/** Gateway mode: every proxy user may open the UI; `uiAdmins` see everything, the others only their own traffic. */
let fake: FakeProvider;
let tp: TestProxy;
const agents: ProxyAgent[] = [];
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ALICE = basic('alice', 'alice-pass');
const BOB = basic('bob', 'bob-pass');

function client(auth: string): OpenAI {
  const agent = new ProxyAgent({ uri: tp.url, token: auth, requestTls: { ca: tp.caPem } });
  agents.push(agent);
  return new OpenAI({ apiKey: 'sk-proj-gateway-0123456789abcdef', fetchOptions: { dispatcher: agent } as never, maxRetries: 0 });
}

async function api<T>(path: string, auth?: string): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
  const res = await request(`${tp.url}${path}`, { headers: auth ? { authorization: auth } : {} });
  return { status: res.statusCode, body: (await res.body.json()) as T, headers: res.headers };
}

type List = { exchanges: { id: string; user: string | null; model: string }[] };

beforeAll(async () => {
  fake = await startFakeProvider();
  // Bob is in a team (the policy's teams:), Alice in none.
  const policy = loadPolicyText('teams: {platform: [bob]}\nrules: []\n', 'policy.yaml');
  tp = await startTestProxy(fake, { auth: [{ user: 'alice', password: 'alice-pass' }, { user: 'bob', password: 'bob-pass' }], uiAdmins: ['alice'], policy });
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.close();
  await tp?.close();
  await fake?.close();
});

describe('the web UI API in gateway mode', () => {
  it('pushes live only what each viewer may see, and lists, searches and opens by role', async () => {
    // Bob watches the live stream while Alice, then Bob, send a request.
    const live = await request(`${tp.url}/ui/api/live`, { headers: { authorization: BOB } });
    expect(live.statusCode).toBe(200);
    expect(live.headers['content-type']).toContain('text/event-stream');
    const events: string[] = [];
    const gotBob = new Promise<void>((resolve) => {
      live.body.on('data', (chunk: Buffer) => {
        events.push(...chunk.toString('utf8').split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)));
        if (events.length > 0) resolve();
      });
    });
    await client(ALICE).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'alice asks about zebras' }] });
    await client(BOB).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'bob asks about otters' }] });
    await gotBob;
    live.body.destroy();
    const first = JSON.parse(events[0]!) as { user: string; model: string; costUsd: number | null };
    expect(first).toMatchObject({ user: 'bob', model: 'gpt-4o' });
    expect(first.costUsd).toBeGreaterThan(0);
    tp.proxy.recorder.flush();

    expect((await api('/ui/api/exchanges')).status).toBe(401);
    expect((await api('/ui/api/exchanges', basic('bob', 'wrong'))).status).toBe(401);
    const all = await api<List>('/ui/api/exchanges', ALICE);
    expect(all.body.exchanges.map((e) => e.user).sort()).toEqual(['alice', 'bob']);
    const own = await api<List>('/ui/api/exchanges', BOB);
    expect(own.body.exchanges.map((e) => e.user)).toEqual(['bob']);
    // The status page's last exchanges are everyone's: shown to an admin only.
    const statusOf = async (auth: string) => (await (await request(`${tp.url}/`, { headers: { authorization: auth, accept: 'application/json' } })).body.json()) as { recent?: { model: string }[] };
    expect((await statusOf(ALICE)).recent?.map((r) => r.model).sort()).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(await statusOf(BOB)).not.toHaveProperty('recent');
    // Asking for another user's exchanges changes nothing for a non-admin.
    expect((await api<List>('/ui/api/exchanges?user=alice', BOB)).body.exchanges.map((e) => e.user)).toEqual(['bob']);
    const alicesId = all.body.exchanges.find((e) => e.user === 'alice')!.id;
    expect((await api(`/ui/api/exchanges/${alicesId}`, BOB)).status).toBe(404);
    const opened = await api<{ id: string; request: { headers: Record<string, string> }; curl: string }>(`/ui/api/exchanges/${alicesId}`, ALICE);
    expect(opened.status).toBe(200);
    expect(JSON.stringify(opened.body)).not.toContain('sk-proj-gateway');
    expect(opened.body.curl).toContain('$OPENAI_API_KEY');

    // Text search over prompts; filters by model and status.
    expect((await api<List>('/ui/api/exchanges?q=ZEBRAS', ALICE)).body.exchanges.map((e) => e.id)).toEqual([alicesId]);
    expect((await api<List>('/ui/api/exchanges?q=zebras', BOB)).body.exchanges).toEqual([]);
    expect((await api<List>('/ui/api/exchanges?model=gpt-4o', ALICE)).body.exchanges.map((e) => e.user)).toEqual(['bob']);
    expect((await api<List>('/ui/api/exchanges?status=4xx', ALICE)).body.exchanges).toEqual([]);

    const sessions = await api<{ sessions: { client: { user: string } }[] }>('/ui/api/sessions', BOB);
    expect(sessions.body.sessions.map((s) => s.client.user)).toEqual(['bob']);
    // The sessions list's filters; a non-admin's own sessions only, whatever `user` says.
    type Sessions = { sessions: { client: { user: string }; models: string[] }[] };
    expect((await api<Sessions>('/ui/api/sessions?model=gpt-4o-mini', ALICE)).body.sessions.map((s) => s.client.user)).toEqual(['alice']);
    expect((await api<Sessions>('/ui/api/sessions?user=bob', ALICE)).body.sessions.map((s) => s.models)).toEqual([['gpt-4o']]);
    expect((await api<Sessions>('/ui/api/sessions?user=alice', BOB)).body.sessions.map((s) => s.client.user)).toEqual(['bob']);
    expect((await api<Sessions>('/ui/api/sessions?model=gpt-4o-mini', BOB)).body.sessions).toEqual([]);
    // The running policy's teams: every user's for an admin, a user's own for anyone else.
    const me = await api<{ user: string; admin: boolean }>('/ui/api/me', ALICE);
    expect(me.body).toEqual({ user: 'alice', admin: true, teams: { bob: 'platform' } });
    expect((await api('/ui/api/me', BOB)).body).toEqual({ user: 'bob', admin: false, teams: { bob: 'platform' } });
    expect(all.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    // The policy page names every user's budget keys: admins only.
    expect((await api<{ policy: { teams: Record<string, string[]> } }>('/ui/api/policy', ALICE)).body.policy.teams).toEqual({ platform: ['bob'] });
    expect((await api<{ error: { code: string } }>('/ui/api/policy', BOB))).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
  });

  it('downloads a session or an exchange as HAR or JSON lines, only what the viewer may see', async () => {
    tp.proxy.recorder.flush();
    const all = await api<List>('/ui/api/exchanges', ALICE);
    const bobs = all.body.exchanges.find((e) => e.user === 'bob')!;
    const alices = all.body.exchanges.find((e) => e.user === 'alice')!;
    const sessionOf = async (id: string) => (await api<{ session_id: string }>(`/ui/api/exchanges/${id}`, ALICE)).body.session_id;
    const download = async (path: string, auth: string) => {
      const res = await request(`${tp.url}${path}`, { headers: { authorization: auth } });
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    };
    // Bob's session, by Bob: a valid HAR of his exchanges, named for a download.
    const bobSession = await sessionOf(bobs.id);
    const har = await download(`/ui/api/sessions/${bobSession}/export`, BOB);
    expect(har.status).toBe(200);
    expect(har.headers['content-disposition']).toBe(`attachment; filename="llmtap-session-${bobSession}.har"`);
    const doc = JSON.parse(har.text) as { log: { entries: { request: { postData?: { text: string } }; _llmtap: { id: string } }[] } };
    assertValidHar(doc);
    expect(doc.log.entries.map((e) => e._llmtap.id)).toEqual([bobs.id]);
    expect(har.text).toContain('bob asks about otters');
    expect(har.text).not.toContain('sk-proj-gateway');
    // One exchange as JSON lines, by the admin.
    const lines = await download(`/ui/api/exchanges/${bobs.id}/export?format=jsonl`, ALICE);
    expect([lines.status, lines.headers['content-type']]).toEqual([200, 'application/x-ndjson; charset=utf-8']);
    expect(lines.text.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([bobs.id]);
    // Not Bob's to see: Alice's exchange and session are not found for him.
    expect((await download(`/ui/api/exchanges/${alices.id}/export`, BOB)).status).toBe(404);
    expect((await download(`/ui/api/sessions/${await sessionOf(alices.id)}/export`, BOB)).status).toBe(404);
    // His session as CSV for a spreadsheet: the header and his one exchange.
    const csv = await download(`/ui/api/sessions/${bobSession}/export?format=csv`, BOB);
    expect([csv.status, csv.headers['content-type'], csv.headers['content-disposition']]).toEqual([200, 'text/csv; charset=utf-8', `attachment; filename="llmtap-session-${bobSession}.csv"`]);
    expect((parse(csv.text, { columns: true }) as { id: string; user: string }[]).map((r) => [r.id, r.user])).toEqual([[bobs.id, 'bob']]);
    expect((await download(`/ui/api/sessions/${bobSession}/export?format=xml`, BOB))).toMatchObject({ status: 400, text: expect.stringContaining('format \\"xml\\": expected har, jsonl or csv') });
    expect((await download(`/ui/api/sessions/${bobSession}/export/more`, BOB)).status).toBe(404);
    expect((await download(`/ui/api/sessions/${bobSession}/export`, basic('bob', 'wrong'))).status).toBe(401);
  });

  it('usage: stats per group over a period, read off the event loop; only the viewer\'s own for a non-admin; CSV to download', async () => {
    tp.proxy.recorder.flush();
    type Usage = { rows: Record<string, unknown>[]; total: { requests: number; cost_usd: number } | null };
    const byUser = await api<Usage>('/ui/api/usage?by=user', ALICE);
    expect(byUser.status).toBe(200);
    expect(byUser.body.rows.map((r) => [r.user, r.requests])).toEqual(expect.arrayContaining([['alice', 1], ['bob', 1]]));
    const total = byUser.body.total!;
    // The same figures as `llmtap stats` on the same archive.
    const cli = JSON.parse((await promisify(execFile)('node', [resolve('dist/cli/main.js'), '--home', tp.home, 'stats', '--by', 'user', '--json'])).stdout) as Record<string, unknown>[];
    expect(byUser.body.rows).toEqual(cli);
    expect(total.requests).toBe(cli.reduce((n, r) => n + (r.requests as number), 0));
    // Bob's own only, whatever he asks for; by team as the running policy's teams key it.
    expect((await api<Usage>('/ui/api/usage?by=user&user=alice', BOB)).body.rows.map((r) => r.user)).toEqual(['bob']);
    expect((await api<Usage>('/ui/api/usage?by=team', ALICE)).body.rows.map((r) => r.team)).toEqual(expect.arrayContaining(['team:platform', 'user:alice']));
    // A period: nothing before the first exchange.
    expect((await api<Usage>(`/ui/api/usage?by=model&until=${Date.now() - 3_600_000}`, ALICE)).body).toEqual({ rows: [], total: null });
    const csv = await request(`${tp.url}/ui/api/usage?by=model&format=csv`, { headers: { authorization: ALICE } });
    expect([csv.statusCode, csv.headers['content-type'], csv.headers['content-disposition']]).toEqual([200, 'text/csv; charset=utf-8', 'attachment; filename="llmtap-usage-by-model.csv"']);
    const lines = (await csv.body.text()).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^model,requests,errors,tokens_input,/);
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect((await api<{ error: { message: string } }>('/ui/api/usage?by=session', ALICE))).toMatchObject({ status: 400, body: { error: { message: 'by "session": expected one of model, tool, host, day, user, team, label' } } });
    expect((await api('/ui/api/usage?since=yesterday', ALICE)).status).toBe(400);
  });

  it('the usage page shows the table with its total and switches grouping (headless Chromium, as the admin)', async () => {
    const chromium = await launchChromium();
    try {
      await chromium.browser.setExtraHTTPHeaders({ authorization: ALICE });
      const page = await chromium.browser.newPage();
      await page.goto(`${tp.url}/ui/#/usage`);
      const firstCells = () => page.locator('table.usage-table tbody tr td:first-child').allTextContents();
      await expect.poll(firstCells).toEqual(expect.arrayContaining(['gpt-4o', 'gpt-4o-mini', 'total']));
      expect(await page.locator('table.usage-table tr.total td').nth(1).textContent()).toBe('2');
      // A group's name opens the live list filtered to its exchanges.
      await page.locator('table.usage-table a', { hasText: /^gpt-4o$/ }).click();
      await page.locator('table.list tbody tr').first().waitFor({ timeout: 10_000 });
      expect(await page.locator('#filter-model').inputValue()).toBe('gpt-4o');
      await expect.poll(() => page.locator('table.list tbody tr td:nth-child(3)').allTextContents()).toEqual(['gpt-4o']);
      await page.goto(`${tp.url}/ui/#/usage`);
      await expect.poll(firstCells).toEqual(expect.arrayContaining(['gpt-4o', 'gpt-4o-mini', 'total']));
      await page.selectOption('#usage-by', 'team');
      await expect.poll(firstCells).toEqual(expect.arrayContaining(['team:platform', 'user:alice', 'total']));
      expect(await page.locator('a.download').getAttribute('href')).toMatch(/^\/ui\/api\/usage\?by=team&since=\d+&format=csv$/);
      await page.selectOption('#usage-period', 'last-month');
      await page.locator('p.empty').waitFor({ timeout: 10_000 });
      await page.selectOption('#usage-period', '30d');
      await expect.poll(firstCells).toContain('total');
      // Days are UTC days, as stats --by day counts them: the page says so.
      await page.selectOption('#usage-by', 'day');
      await expect.poll(async () => (await firstCells()).some((c) => /^\d{4}-\d{2}-\d{2}$/.test(c))).toBe(true);
      expect(await page.locator('table.usage-table th').first().textContent()).toBe('day (UTC)');
      expect(await page.locator('#usage-by option[value="day"]').textContent()).toBe('day (UTC)');
      await page.screenshot({ path: `${ARTIFACTS}/usage.png`, fullPage: true });
    } finally {
      await chromium.close();
    }
  }, 60_000);

  it('a request to the web UI that fails answers 500 with a stable code and takes nothing down', async () => {
    // The archive's reader failing as SQLite does on a damaged file (the UI server's own reader, swapped for the test).
    expect((await api('/ui/api/sessions', ALICE)).status).toBe(200);
    const ui = (tp.proxy.server as unknown as { ui: { reader: unknown } }).ui;
    const reader = ui.reader;
    const malformed = new Error('database disk image is malformed');
    ui.reader = { current: () => ({ inBackground: () => Promise.reject(malformed), sessions: () => { throw malformed; } }), close: () => {} };
    const restore = () => void (ui.reader = reader);
    try {
      const failed = await api<{ error: { code: string } }>('/ui/api/usage', ALICE);
      expect([failed.status, failed.headers['x-llmtap-error'], failed.body.error.code]).toEqual([500, 'internal', 'internal']);
      expect((await api('/ui/api/sessions', ALICE)).status).toBe(500);
    } finally {
      restore();
    }
    // The proxy goes on proxying and answering.
    await client(BOB).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'still there?' }] });
    expect((await api('/ui/api/sessions', ALICE)).status).toBe(200);
  });

  it('the charts split cost and tokens by team when the policy names teams (headless Chromium, as the admin)', async () => {
    const chromium = await launchChromium();
    try {
      await chromium.browser.setExtraHTTPHeaders({ authorization: ALICE });
      const page = await chromium.browser.newPage();
      await page.goto(`${tp.url}/ui/#/charts`);
      await page.locator('.uplot').first().waitFor({ timeout: 10_000 });
      expect(await page.locator('#chart-by option').allTextContents()).toEqual(['model', 'tool', 'user', 'team']);
      await page.selectOption('#chart-by', 'team');
      const labels = (chart: string) => page.locator(`#chart-${chart} .u-legend .u-series .u-label`).allTextContents();
      // Keyed as stats --by team keys them: a member under its team, anyone else as a user.
      await expect.poll(() => labels('cost')).toEqual(expect.arrayContaining(['team:platform', 'user:alice']));
      expect(await labels('tokens')).toEqual(expect.arrayContaining(['team:platform', 'user:alice']));
      expect(await page.locator('#chart-cost h2').textContent()).toContain('Cost over time by team');
      await page.screenshot({ path: `${ARTIFACTS}/charts-by-team.png`, fullPage: true });
    } finally {
      await chromium.close();
    }
  }, 60_000);
});
