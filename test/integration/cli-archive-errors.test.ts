import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { archiveErrorLine } from '../../src/cli/archive-error.js';
import { openArchive } from '../../src/recorder/db.js';

const CLI = resolve('dist/cli/main.js');
const run = promisify(execFile);
const dirs: string[] = [];
afterEach(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }); });

describe('an archive command SQLite refuses', () => {
  it('ends in one line naming the problem and exit code 1, never a stack trace', async () => {
    const home = mkdtempSync(join(tmpdir(), 'llmtap-archive-error-'));
    dirs.push(home);
    openArchive(join(home, 'llmtap.db')).close();
    // Another process holds the write lock past the command's busy timeout (2 s).
    const holder = new Database(join(home, 'llmtap.db'));
    holder.exec('BEGIN IMMEDIATE');
    try {
      const failed = (await run('node', [CLI, '--home', home, 'purge', '--before', '1d']).catch((e: unknown) => e)) as { code: number; stderr: string };
      expect(failed.code).toBe(1);
      expect(failed.stderr).toBe('llmtap: purge: the archive is locked by another process (SQLITE_BUSY: database is locked); try again\n');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  }, 20_000);

  it('says what a full disk means for a purge, and leaves other errors alone', () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    expect(archiveErrorLine('purge', full)).toBe("llmtap: purge: the archive's disk is full (a purge writes before it frees; what it deleted so far stays deleted); "
      + 'free some space there and run it again (SQLITE_FULL: database or disk is full)');
    expect(archiveErrorLine('stats', Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }))).toBe('llmtap: stats: disk I/O error (SQLITE_IOERR_WRITE)');
    expect(archiveErrorLine('export', Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBeUndefined();
  });
});
