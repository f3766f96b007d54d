import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteArchiveReader } from '../../src/archive/sqlite-reader.js';
import { sessionJson } from '../../src/cli/sessions.js';
import { renderSession } from '../../src/cli/render/session-text.js';
import { makeExchange } from '../../src/exchange.js';
import { MIGRATIONS, openArchive, type ExchangeRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { sessionThreads } from '../../src/sessions/turns.js';
import { sdkConversation, summarize, type Wire } from './sessions-fixtures.js';

/** `llmtap sessions` counts a retried turn once, as `show` does, and keeps the retries visible. */
const T0 = Date.UTC(2026, 11, 1, 9);

function rowOf(w: Wire): ExchangeRow {
  const ex = makeExchange({ id: w.id, provider: 'openai', api: 'chat.completions', timings: { start: w.startedAt, end: w.startedAt + 500 } });
  return { ...exchangeToRow(ex), status: 200, outcome: 'completed' };
}

/** Three turns; the second sent twice (the first attempt failed with 529 and the SDK resent it). */
function withRetry(): Wire[] {
  const [t1, t2, t3] = sdkConversation('retry', 3, '127.0.0.1', ['ex-1', 'ex-2', 'ex-3'], T0);
  return [t1!, { ...t2!, id: 'ex-2a', startedAt: t2!.startedAt - 400 }, t2!, t3!];
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmtap-retries-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('session turns and retries', () => {
  it('a retried request is one turn in the sessions list, with its retry counted apart; show says the same', () => {
    const file = join(dir, 'a.db');
    const archive = openArchive(file);
    const wires = withRetry();
    const rows = wires.map(rowOf);
    rows[1]!.status = 529;
    archive.insertExchanges(rows, wires.map(summarize));
    archive.close();
    const reader = new SqliteArchiveReader(file);
    try {
      const [session] = reader.sessions({ limit: 10 });
      expect(session).toMatchObject({ exchanges: 4, retries: 1 });
      expect(sessionJson(session!)).toMatchObject({ turns: 3, retries: 1 });
      const detail = reader.session(session!.id)!;
      const text = renderSession(detail.session, sessionThreads(detail), { markdown: false, color: false, thinking: false, maxText: 0 });
      expect(text).toContain('3 turns (+1 retry)');
    } finally {
      reader.close();
    }
  });

  it('an archive from before: its sessions get their retries from the exchanges when it is upgraded', () => {
    const file = join(dir, 'old.db');
    // Written by the build before: exchanges and session totals counted every attempt as a turn.
    const archive = openArchive(file);
    const wires = withRetry();
    archive.insertExchanges(wires.map(rowOf), wires.map(summarize));
    archive.close();
    const db = new Database(file);
    db.exec('UPDATE sessions SET retries = 0');
    const version = db.pragma('user_version', { simple: true }) as number;
    expect(version).toBe(MIGRATIONS.length);
    // This undoes the step adding retries (16) and the one after it (usage_parts): the archive as schema 15 left it.
    expect(MIGRATIONS[15]).toContain('ADD COLUMN retries');
    expect(MIGRATIONS.slice(16)).toEqual(['ALTER TABLE exchanges ADD COLUMN usage_parts TEXT']);
    db.exec('ALTER TABLE sessions DROP COLUMN retries');
    db.exec('ALTER TABLE exchanges DROP COLUMN usage_parts');
    db.pragma('user_version = 15');
    db.close();
    openArchive(file).close();
    const reader = new SqliteArchiveReader(file);
    try {
      expect(reader.sessions({ limit: 10 }).map((s) => [s.exchanges, s.retries])).toEqual([[4, 1]]);
    } finally {
      reader.close();
    }
  });
});
