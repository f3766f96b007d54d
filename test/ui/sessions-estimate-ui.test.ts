/**
 * The web UI's sessions list and session page, read a moment after an answer that
 * reported no usage: the row is committed awaiting the writer's estimate and amended
 * just after. The API says `estimates_due` meanwhile and the pages ask again, so they
 * end on the estimated tokens rather than 0; a row a killed proxy left long ago is not
 * waited for. Headless Chromium against a proxy on such an archive.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { openArchive, type Archive } from '../../src/recorder/db.js';
import { amendWithEstimates } from '../../src/recorder/estimate-pass.js';
import { groupingSummary } from '../../src/recorder/row-grouping.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { typicalExchange } from '../helpers/exchanges.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { launchChromium } from './browser-helpers.js';

let fake: FakeProvider;
let tp: TestProxy;
let home: string;
let archive: Archive;

beforeAll(async () => {
  fake = await startFakeProvider();
  home = mkdtempSync(join(tmpdir(), 'llmtap-ui-estimate-'));
  archive = openArchive(paths(home).archive);
  tp = await startTestProxy(fake, { home });
}, 60_000);
afterAll(async () => {
  await tp?.close();
  await fake?.close();
  archive?.close();
  rmSync(home, { recursive: true, force: true });
});

/** An answer without usage as the writer commits it: no tokens, awaiting its estimate (0), its session rolled up. */
function commitAwaiting(seq: number, endedAt: number) {
  const ex = typicalExchange(seq);
  delete ex.usage;
  ex.timings = { start: endedAt - 300, end: endedAt };
  const row = exchangeToRow(ex);
  row.usage_estimated = 0;
  archive.insertExchanges([row], [groupingSummary(row, ex)]);
  const { session_id: sessionId } = archive.db.prepare('SELECT session_id FROM exchanges WHERE id = ?').get(row.id) as { session_id: string };
  return { ex, row, sessionId };
}

function amend(item: ReturnType<typeof commitAwaiting>, input: number, output: number): void {
  amendWithEstimates(archive.db, [item], undefined, (ex) => {
    ex.usage = { inputTokens: input, outputTokens: output };
    ex.usageEstimated = 'all';
    return true;
  });
}

async function getJson<T>(path: string): Promise<T> {
  const res = await request(`${tp.url}${path}`);
  return (await res.body.json()) as T;
}

type Listed = { sessions: { id: string; tokens: { input: number; output: number } }[]; estimates_due?: boolean };

describe('the web UI and an answer awaiting its token estimate', () => {
  it('says estimates_due until the writer amends the row, then gives the estimated tokens; the pages ask again and show them', async () => {
    // The browser first: the wait is bounded from the exchange's end (a few seconds).
    const chromium = await launchChromium();
    try {
      const item = commitAwaiting(1, Date.now());
      const sessionPath = `/ui/api/sessions/${encodeURIComponent(item.sessionId)}`;
      const before = await getJson<Listed>('/ui/api/sessions');
      expect(before.estimates_due).toBe(true);
      expect(before.sessions[0]!.tokens).toMatchObject({ input: 0, output: 0 });
      expect((await getJson<{ estimates_due?: boolean }>(sessionPath)).estimates_due).toBe(true);
      const list = await chromium.browser.newPage();
      const session = await chromium.browser.newPage();
      await Promise.all([list.goto(`${tp.url}/ui/#/sessions`), session.goto(`${tp.url}/ui/#/session/${encodeURIComponent(item.sessionId)}`)]);
      await expect.poll(() => session.locator('.facts').textContent(), { timeout: 10_000 }).toContain('in 0 ');
      await expect.poll(() => list.locator('td.num').allTextContents(), { timeout: 10_000 }).toContain('0');
      // Both pages read the row at 0 tokens; the writer's estimate lands after.
      amend(item, 987, 65);
      await expect.poll(() => list.locator('td.num').allTextContents(), { timeout: 10_000 }).toContain('987');
      await expect.poll(() => session.locator('.facts').textContent(), { timeout: 10_000 }).toContain('in 987');
    } finally {
      await chromium.close();
    }
    const after = await getJson<Listed>('/ui/api/sessions');
    expect(after.estimates_due).toBeUndefined();
    expect(after.sessions[0]!.tokens).toMatchObject({ input: 987, output: 65 });
  }, 60_000);

  it('does not say estimates_due for a row a proxy killed long ago left awaiting: it will never be amended', async () => {
    const item = commitAwaiting(2, Date.now() - 60_000);
    const listed = await getJson<Listed>('/ui/api/sessions');
    expect(listed.sessions.find((s) => s.id === item.sessionId)!.tokens).toMatchObject({ input: 0, output: 0 });
    expect(listed.estimates_due).toBeUndefined();
    expect((await getJson<{ estimates_due?: boolean }>(`/ui/api/sessions/${encodeURIComponent(item.sessionId)}`)).estimates_due).toBeUndefined();
  });
});
