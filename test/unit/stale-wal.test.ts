import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { openArchive } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/** Another process reading the archive (as `llmtap tail` does) until its stdin closes. */
const HOLD = `const db = new (require('better-sqlite3'))(process.argv[1]);
db.prepare('SELECT COUNT(*) FROM exchanges').get();
process.stdout.write('open\\n');
process.stdin.resume().on('end', () => db.close());`;

describe('openArchive where an archive was deleted', () => {
  it("drops the deleted archive's -wal and -shm, which another process's connection kept, and writes the new file", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'llmtap-stale-')), 'llmtap.db');
    const old = openArchive(file);
    old.insertExchanges([exchangeToRow(makeExchange({ id: 'old' }))]);
    const holder = spawn('node', ['-e', HOLD, file], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise((r) => holder.stdout.once('data', r));
      // Closing ours is not the last close: SQLite leaves the -wal and -shm at the path.
      rmSync(file);
      old.close();
      expect([existsSync(`${file}-wal`), existsSync(`${file}-shm`)]).toEqual([true, true]);

      const fresh = openArchive(file);
      fresh.insertExchanges([exchangeToRow(makeExchange({ id: 'new' }))]);
      expect(fresh.db.prepare('SELECT id FROM exchanges').all()).toEqual([{ id: 'new' }]);
      expect(fresh.db.pragma('integrity_check', { simple: true })).toBe('ok');
      fresh.close();
    } finally {
      holder.stdin.end();
    }
  });
});
