/**
 * `llmtap sessions` run a moment after an answer that reported no usage: the writer
 * commits the row awaiting its estimate and amends it (and its session) just after, so
 * sessions and show wait for that as tail holds its line, rather than printing 0 tokens;
 * a row a killed proxy left awaiting long ago is not waited for.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { openArchive, type Archive } from '../../src/recorder/db.js';
import { amendWithEstimates } from '../../src/recorder/estimate-pass.js';
import { groupingSummary } from '../../src/recorder/row-grouping.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { typicalExchange } from '../helpers/exchanges.js';

const CLI = resolve('dist/cli/main.js');
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function freshArchive(): { home: string; archive: Archive } {
  const home = mkdtempSync(join(tmpdir(), 'llmtap-sessions-estimate-'));
  const archive = openArchive(paths(home).archive);
  cleanups.push(() => archive.close(), () => rmSync(home, { recursive: true, force: true }));
  return { home, archive };
}

/** An answer without usage as the writer commits it: no tokens, awaiting its estimate (0), its session rolled up. */
function commitAwaiting(archive: Archive, endedAt: number, agentSession?: string) {
  const ex = typicalExchange(1);
  delete ex.usage;
  // A session id on the wire (Claude Code's) names the session: the exchange keeps an id of its own for `show`.
  if (agentSession) ex.agent = { sessionId: agentSession };
  ex.timings = { start: endedAt - 300, end: endedAt };
  const row = exchangeToRow(ex);
  row.usage_estimated = 0;
  archive.insertExchanges([row], [groupingSummary(row, ex)]);
  return { ex, row };
}

/** `llmtap sessions --json`: its sessions and how long it took. */
function sessionsJson(home: string): Promise<{ sessions: { tokens: { input: number; output: number } }[]; ms: number }> {
  return cliJson(home, ['sessions', '--json']).then(({ out, ms }) => ({ sessions: out as never, ms }));
}

/** A command's parsed --json output and how long it took. */
function cliJson(home: string, args: string[]): Promise<{ out: unknown; ms: number }> {
  const started = Date.now();
  const child = spawn('node', [CLI, '--home', home, ...args]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', () => done({ out: JSON.parse(out) as unknown, ms: Date.now() - started }));
  });
}

describe('sessions and the estimated usage of an answer that reported none', () => {
  it('lists a session whose answer awaits its estimate once the writer has amended it, with the estimated tokens, not 0', async () => {
    const { home, archive } = freshArchive();
    const item = commitAwaiting(archive, Date.now());
    const listed = sessionsJson(home);
    // Amended after the command has read the archive (it reads in ~0.5 s), as a writer loading its tokenizer would.
    await new Promise((r) => setTimeout(r, 1_500));
    amendWithEstimates(archive.db, [item], undefined, (ex) => {
      ex.usage = { inputTokens: 12, outputTokens: 34 };
      ex.usageEstimated = 'all';
      return true;
    });
    const { sessions } = await listed;
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.tokens).toMatchObject({ input: 12, output: 34 });
  });

  it('show of the session and of the exchange wait for the estimate too', async () => {
    const { home, archive } = freshArchive();
    const item = commitAwaiting(archive, Date.now(), 'claude-session-1');
    const { session_id: sessionId } = archive.db.prepare('SELECT session_id FROM exchanges WHERE id = ?').get(item.row.id) as { session_id: string };
    expect(sessionId).not.toBe(item.row.id);
    const shownSession = cliJson(home, ['show', sessionId, '--json']);
    const shownExchange = cliJson(home, ['show', item.row.id, '--json']);
    await new Promise((r) => setTimeout(r, 1_500));
    amendWithEstimates(archive.db, [item], undefined, (ex) => {
      ex.usage = { inputTokens: 12, outputTokens: 34 };
      ex.usageEstimated = 'all';
      return true;
    });
    const session = (await shownSession).out as { session: { tokens: { input: number; output: number } } };
    expect(session.session.tokens).toMatchObject({ input: 12, output: 34 });
    const exchange = (await shownExchange).out as { usage: { input_tokens: number; output_tokens: number } };
    expect(exchange.usage).toMatchObject({ input_tokens: 12, output_tokens: 34 });
  });

  it('does not wait for a row a proxy killed long ago left awaiting: it will never be amended', async () => {
    const { home, archive } = freshArchive();
    commitAwaiting(archive, Date.now() - 60_000);
    const { sessions, ms } = await sessionsJson(home);
    expect(sessions[0]!.tokens).toMatchObject({ input: 0, output: 0 });
    expect(ms).toBeLessThan(4_000);
  });
});
