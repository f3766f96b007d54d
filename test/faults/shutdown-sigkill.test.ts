/**
 * Fault list #19: SIGKILL while the archive is being written. On restart the archive
 * passes `PRAGMA integrity_check`, every exchange committed before the kill is there,
 * `llmtap export` works and the restarted proxy records into the same file.
 */
import Database from 'better-sqlite3';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive } from '../../src/recorder/db.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { exportJsonl, startCli, waitFor, type Cli } from './shutdown-helpers.js';

let fake: FakeProvider;
const clis: Cli[] = [];
/** Ends the load's loops, also when the test fails before it would (they would run on against a dead proxy). */
let stop = false;

beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  stop = true;
  for (const cli of clis) await cli.dispose();
  await fake?.close();
});

async function post(cli: Cli, id: string): Promise<void> {
  const res = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: cli.agent,
    headers: { 'content-type': 'application/json', 'x-load': id },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `load ${id} ${'x'.repeat(2000)}` }] }),
  });
  await res.body.text();
}

describe('SIGKILL during writes', () => {
  it('leaves an intact archive holding every exchange committed before the kill', async () => {
    const cli = await startCli(fake);
    clis.push(cli);

    // Steady load: 8 clients sending small requests back to back until told to stop.
    let sent = 0;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          await post(cli, `${w}-${i}`);
          sent++;
        } catch {
          // The proxy is being killed under us. A refused request fails within microtasks:
          // without a turn of the event loop here, the loop would starve every timer (and
          // waitFor's deadline with them) if the proxy died early.
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    });

    // Learn what is committed, read-only from outside (WAL lets a reader run next to the writer).
    await waitFor(() => sent > 0, 'the first answers');
    const reader = new Database(cli.archive, { readonly: true, fileMustExist: true });
    const count = (): number => (reader.prepare('SELECT count(*) AS n FROM exchanges').get() as { n: number }).n;
    // Until the kill below, the proxy must stay up: one that died under load says why.
    const alive = (): true => {
      if (cli.child.exitCode !== null || cli.child.signalCode !== null) throw new Error(`the proxy exited under load (${cli.child.exitCode ?? cli.child.signalCode}): ${cli.stderr().slice(-2000)}`);
      return true;
    };
    // The writer thread runs at nice +10: on a machine busy with other tests its commits lag the answers.
    await waitFor(() => alive() && count() >= 100, '100 committed exchanges', 20_000);
    const committed = (reader.prepare('SELECT id FROM exchanges').all() as { id: string }[]).map((r) => r.id);

    // Keep the load going until more has been committed since the snapshot (the writer
    // commits in batches, and its first ones are slow while it warms up), then kill mid-write.
    const before = sent;
    await waitFor(() => alive() && sent >= before + 50 && count() >= committed.length + 20, 'more load and commits after the snapshot', 20_000);
    reader.close();
    cli.child.kill('SIGKILL');
    expect(await cli.exited).toBe('SIGKILL');
    stop = true;
    await Promise.all(workers);

    const archive = openArchive(cli.archive);
    expect(archive.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const ids = new Set((archive.db.prepare('SELECT id FROM exchanges').all() as { id: string }[]).map((r) => r.id));
    archive.close();
    expect(committed.filter((id) => !ids.has(id))).toEqual([]); // nothing committed was lost
    expect(ids.size).toBeGreaterThan(committed.length); // and writes did continue until the kill

    const exported = await exportJsonl(cli.home);
    expect(exported).toHaveLength(ids.size);
    expect(exported.every((r) => r.outcome === 'completed')).toBe(true);

    // The restarted proxy opens the same archive and records into it.
    const again = await startCli(fake, { home: cli.home });
    clis.push(again);
    await post(again, 'after-restart');
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    const final = await exportJsonl(cli.home);
    expect(final).toHaveLength(ids.size + 1);
    expect(final.some((r) => r.request.headers['x-load'] === 'after-restart')).toBe(true);
  }, 60_000);
});
