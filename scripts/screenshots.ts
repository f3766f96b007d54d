/**
 * Regenerates the README's web UI screenshots (docs/ui-*.png) from the current UI:
 *
 *   npm run build && npm run build:ui && node --import tsx scripts/screenshots.ts
 *
 * A proxy in gateway mode (users alice, bob, carol; a policy with teams, an access rule, a
 * monitor-mode rule, redaction, an output cap and a team budget) records a few days of
 * sessions from Claude Code, aider, Gemini CLI, Codex and SDK scripts
 * (screenshots-traffic.ts) against the tests' fake provider. The requests happen now, so
 * their times are then moved to the days and paces the story gives, with latencies a real
 * provider would take; the proxy is started again on that archive (budgets and the policy
 * page's counts are read from it) and Debian's Chromium takes each page at the size the
 * README's images have. Nothing leaves the machine: every provider host is the fake.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Page } from 'playwright-core';
import { parseConnectTo } from '../src/config.js';
import { loadPolicyText } from '../src/policy/load.js';
import { startFakeProvider } from '../test/helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy } from '../test/helpers/start-proxy.js';
import { sendTraffic, USERS, type Phase } from './screenshots-traffic.js';

const POLICY = (teamDailyUsd: number) => `
teams: {platform: [alice, bob], research: [carol]}
rules:
  - {id: no-opus-research, action: deny, match: {model: "claude-opus-*", team: research}}
  - {id: watch-gpt5, mode: monitor, action: deny, match: {model: "gpt-5*"}}
  - {id: pii, redact: {detectors: [email]}}
  - {id: cap-output, match: {tool: aider}, limits: {maxTokens: 4096}}
  - {id: team-daily, budget: {usd: ${teamDailyUsd}, period: day, per: team}}
`;
/** Each image at the size the README has always shown it. */
const SHOTS = [
  { file: 'ui-live-list.png', hash: '', height: 900, ready: 'table.list tbody tr' },
  { file: 'ui-session.png', hash: 'session', height: 912, ready: 'article.turn' },
  { file: 'ui-charts.png', hash: '#/charts', height: 1440, ready: '#chart-errors .uplot' },
  { file: 'ui-usage.png', hash: '#/usage', height: 900, ready: 'table tbody tr' },
  { file: 'ui-policy.png', hash: '#/policy', height: 900, ready: 'table.rules tbody tr' },
] as const;
const WIDTH = 1400;
const DOCS = join(import.meta.dirname, '..', 'docs');
const HOSTS = [...FAKE_HOSTS, 'generativelanguage.googleapis.com'];

const home = mkdtempSync(join(tmpdir(), 'llmtap-screenshots-'));
const fake = await startFakeProvider();
// All of the story's spend happens today while it is recorded: the budget is the README's once the spend is spread over its days.
const options = (teamDailyUsd: number) => ({
  home,
  policy: loadPolicyText(POLICY(teamDailyUsd), 'policy.yaml'),
  auth: USERS.map((user) => ({ user, password: `${user}-pass` })),
  uiAdmins: ['alice'],
  connectTo: HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)),
});

// 1. The traffic, recorded now; each phase's window remembered.
const windows: { phase: Phase; from: number; to: number }[] = [];
let tp = await startTestProxy(fake, options(1000));
await sendTraffic({
  url: tp.url, caPem: tp.caPem,
  async phase(phase, send) {
    // Apart by more than the exchange clock (performance.timeOrigin + now()) may drift from Date.now().
    await new Promise((r) => setTimeout(r, 100));
    const from = Date.now() - 30;
    await send();
    windows.push({ phase, from, to: Date.now() + 30 });
  },
});
tp.proxy.recorder.flush();
await tp.close();

// 2. Each phase's requests moved to its day, paced, with a real provider's latencies.
retime(join(home, 'llmtap.db'), windows);

// 3. The proxy again on that archive, and the pages as alice (an admin: everyone's traffic).
tp = await startTestProxy(fake, options(0.2));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
try {
  const context = await browser.newContext({ viewport: { width: WIDTH, height: 900 }, httpCredentials: { username: 'alice', password: 'alice-pass' } });
  const page = await context.newPage();
  const sessionHash = `#/session/${encodeURIComponent(await claudeCodeSession(page))}`;
  for (const shot of SHOTS) {
    await page.setViewportSize({ width: WIDTH, height: shot.height });
    await page.goto(`${tp.url}/ui/${shot.hash === 'session' ? sessionHash : shot.hash}`);
    await page.locator(shot.ready).first().waitFor({ timeout: 10_000 });
    if (shot.file === 'ui-usage.png') await page.selectOption('#usage-by', 'tool');
    await page.waitForTimeout(300); // the live dot connects, charts settle
    writeFileSync(join(DOCS, shot.file), smaller(await page.screenshot()));
    process.stderr.write(`wrote docs/${shot.file}\n`);
  }
} finally {
  await browser.close();
  await tp.close();
  await fake.close();
  rmSync(home, { recursive: true, force: true });
}

/** Debian's pngquant (256 colours, `apt-get install pngquant`) keeps the images small; without it, Chromium's own PNG. */
function smaller(png: Buffer): Buffer {
  try {
    return execFileSync('pngquant', ['--speed', '1', '256', '-'], { input: png, maxBuffer: 64 << 20 });
  } catch {
    return png;
  }
}

/** The Claude Code session: the session view's picture. */
async function claudeCodeSession(page: Page): Promise<string> {
  const res = await page.request.get(`${tp.url}/ui/api/sessions?tool=claude-code`);
  const { sessions } = (await res.json()) as { sessions: { id: string; turns: number }[] };
  return sessions.sort((a, b) => b.turns - a.turns)[0]!.id;
}

/** A repeatable pseudo-random number in [0, 1) per exchange, so reruns draw the same latencies. */
function jitter(seed: number): number {
  const x = Math.sin(seed * 12.9898) * 43758.5453;
  return x - Math.floor(x);
}

function retime(file: string, phases: typeof windows): void {
  const db = new Database(file);
  const now = Date.now();
  const today = now - (now % 86_400_000);
  type Row = { id: string; started_at: number; first_byte_at: number | null; output_tokens: number | null };
  const move = db.prepare('UPDATE exchanges SET started_at = ?, request_end_at = ?, upstream_headers_at = ?, first_byte_at = ?, ended_at = ? WHERE id = ?');
  db.transaction(() => {
    let n = 0;
    for (const { phase, from, to } of phases) {
      const rows = db.prepare('SELECT id, started_at, first_byte_at, output_tokens FROM exchanges WHERE started_at BETWEEN ? AND ? ORDER BY started_at').all(from, to) as Row[];
      // Today's phase ends an hour before now, whatever the hour the script runs at.
      const base = Math.min(today - phase.daysAgo * 86_400_000 + phase.hour * 3_600_000, now - 3_600_000 - rows.length * phase.paceS * 1000);
      for (const [i, r] of rows.entries()) {
        const at = base + i * phase.paceS * 1000 * (0.6 + 0.8 * jitter(++n));
        // Refused by the policy: answered by the proxy at once. Else a first token in 0.5–2 s, then ~70 tokens a second.
        const ttft = r.first_byte_at === null ? 2 : 500 + 1500 * jitter(n + 1000);
        const total = r.first_byte_at === null ? 3 : ttft + ((r.output_tokens ?? 0) / 70) * 1000;
        move.run(at, at + 1, at + ttft - 5, at + ttft, at + total, r.id);
      }
    }
    db.exec(`UPDATE sessions SET started_at = (SELECT MIN(started_at) FROM exchanges e WHERE e.session_id = sessions.id),
      ended_at = (SELECT MAX(ended_at) FROM exchanges e WHERE e.session_id = sessions.id);
      UPDATE threads SET started_at = (SELECT MIN(started_at) FROM exchanges e WHERE e.thread_id = threads.id),
      ended_at = (SELECT MAX(ended_at) FROM exchanges e WHERE e.thread_id = threads.id);`);
  })();
  db.close();
}
