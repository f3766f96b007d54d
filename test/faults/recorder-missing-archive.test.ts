/**
 * Fault list #17: the archive file is deleted while the proxy runs, or cannot be
 * opened at start. SQLite would keep writing to a deleted file and lose everything
 * silently; the recorder notices (one stat per batch) and re-creates it. An archive
 * that cannot be opened does not stop the proxy: fail-open serves and counts the
 * loss, --fail-closed answers 503, and each batch retries until it opens.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { eventually } from '../helpers/archive.js';
import type { TestProxy } from '../helpers/start-proxy.js';
import { expect503, expectNoSecret, expectProviderAnswer, logged, post, recordedIds, untilForwarded, useFaultProxies } from './recorder-helpers.js';

const { start } = useFaultProxies();

/** `llmtap tail --json` on the proxy's home, once it is watching: its lines so far. */
async function startTail(tp: TestProxy) {
  const child = spawn('node', [resolve('dist/cli/main.js'), '--home', tp.home, 'tail', '--json', '--interval', '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  tails.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise((r) => child.stderr!.once('data', r));
  return { child, lines: () => out.split('\n').filter(Boolean), stderr: () => err };
}
const tails: ChildProcess[] = [];
afterAll(() => {
  for (const t of tails) t.kill('SIGKILL');
});

/** How many exchanges the status page lists as the last ones. */
async function statusRecent(tp: TestProxy): Promise<number> {
  const res = await request(`${tp.url}/`, { headers: { accept: 'application/json' } });
  return ((await res.body.json()) as { recent?: unknown[] }).recent?.length ?? 0;
}

/** How many exchanges the web UI's list shows. */
async function uiListed(tp: TestProxy): Promise<number> {
  const res = await request(`${tp.url}/ui/api/exchanges`);
  return ((await res.body.json()) as { exchanges: unknown[] }).exchanges.length;
}

describe('archive file deleted while the proxy runs', () => {
  for (const deleted of [['llmtap.db'], ['llmtap.db', 'llmtap.db-wal', 'llmtap.db-shm']]) {
    it(`rm ${deleted.join(' ')}: detected, logged once, re-created, later exchanges kept`, async () => {
      const { tp, logs, file } = await start();
      const tail = await startTail(tp);
      expectProviderAnswer(await post(tp, 'old-file'));
      await eventually(() => expect(tp.proxy.recorder.stats().recorded).toBe(1));
      // The web UI, the status page and `llmtap tail` (another process) have the file open by now.
      expect(await uiListed(tp)).toBe(1);
      expect(await statusRecent(tp)).toBe(1);
      await eventually(() => expect(tail.lines()).toHaveLength(1));

      for (const f of deleted) rmSync(join(tp.home, f), { force: true });
      expectProviderAnswer(await post(tp, 'new-file-1'));
      expectProviderAnswer(await post(tp, 'new-file-2'));
      await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 3, lost: 0, pending: 0 }));
      expect(tp.proxy.recorder.recreated).toBe(1);
      const notices = logged(logs, /deleted or replaced/);
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({ level: 50 });

      // The new file has the schema and what came after the deletion, nothing of the old one.
      expect(recordedIds(tp)).toEqual(['new-file-1', 'new-file-2']);
      // …and reads the new file, not the deleted one it had open; so does a running `llmtap tail`.
      expect(await uiListed(tp)).toBe(2);
      expect(await statusRecent(tp)).toBe(2);
      await eventually(() => expect(tail.lines()).toHaveLength(3));
      tail.child.kill('SIGINT');
      expect(tail.stderr()).toContain('was re-created; following the new file from its first exchange');
      const check = new Database(file, { readonly: true });
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      check.close();
      expectNoSecret(logs.join('\n'));
    });
  }
});

describe('archive cannot be opened at start (its path is a directory)', () => {
  function homeWithDirectoryArchive(): string {
    const home = mkdtempSync(join(tmpdir(), 'llmtap-dir-'));
    mkdirSync(paths(home).archive);
    return home;
  }

  it('fail-open: starts anyway, logs it, serves, counts losses; retries each batch and recovers', async () => {
    const home = homeWithDirectoryArchive();
    const { tp, logs } = await start({ home });
    expect(tp.proxy.recorder.healthy).toBe(false);
    expect(logged(logs, /archive unavailable/)[0]).toMatchObject({ level: 50, code: 'SQLITE_CANTOPEN' });
    expectProviderAnswer(await post(tp, 'no-archive-1'));
    expectProviderAnswer(await post(tp, 'no-archive-2'));
    await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 0, lost: 2 }));

    rmSync(paths(home).archive, { recursive: true });
    expectProviderAnswer(await post(tp, 'archive-back'));
    await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 1, lost: 2 }));
    expect(tp.proxy.recorder.healthy).toBe(true);
    expect(recordedIds(tp)).toEqual(['archive-back']);
    expectNoSecret(logs.join('\n'));
  });

  it('fail-closed: starts, answers 503 until the archive can be opened', async () => {
    const home = homeWithDirectoryArchive();
    const { tp, logs } = await start({ home, failClosed: true });
    expect503(await post(tp, 'refused-1'));
    expect503(await post(tp, 'refused-2'));
    rmSync(paths(home).archive, { recursive: true });
    expectProviderAnswer(await untilForwarded(tp, 'opened'));
    expectNoSecret(logs.join('\n'));
  });
});
