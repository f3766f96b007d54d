import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { openArchive } from '../../src/recorder/db.js';
import { Recorder, type WrittenExchange } from '../../src/recorder/recorder.js';
import { typicalExchange } from '../helpers/exchanges.js';

/** What the archive itself says each exchange was assigned. */
function stored(file: string): Map<string, { session_id: string | null; thread_id: string | null; turn: number | null; cost_usd: number | null }> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT id, session_id, thread_id, turn, cost_usd FROM exchanges').all() as { id: string; session_id: string | null; thread_id: string | null; turn: number | null; cost_usd: number | null }[];
    return new Map(rows.map((r) => [r.id, r]));
  } finally {
    db.close();
  }
}

describe('the recorder reports what the archive assigned to each written exchange (Recorder.onWritten)', () => {
  let dir: string;
  let file: string;
  const recorders: Recorder[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmtap-written-'));
    file = join(dir, 'archive.db');
  });
  afterEach(() => {
    for (const r of recorders.splice(0)) r.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ['writer thread', 'calling thread'] as const) {
    it(`reports session, thread, turn and cost per committed batch (${mode}), only while someone listens`, () => {
      const recorder = mode === 'writer thread' ? new Recorder({ file }, { logger: silentLogger() }) : new Recorder(openArchive(file), { logger: silentLogger() });
      recorders.push(recorder);
      const reports: WrittenExchange[][] = [];
      const unsubscribe = recorder.onWritten((written) => reports.push([...written]));
      const exchanges = [typicalExchange(1), typicalExchange(2)];
      for (const ex of exchanges) recorder.recordExchange(ex);
      recorder.recordTunnel({ id: 't', clientAddress: '::1', host: 'h', port: 443, start: 1, end: 2, bytesUp: 3, bytesDown: 4, outcome: 'closed' });
      recorder.flush();

      const written = reports.flat();
      expect(written.map((w) => w.id).sort()).toEqual(exchanges.map((e) => e.id).sort());
      const archive = stored(file);
      for (const w of written) {
        const row = archive.get(w.id)!;
        expect(w.sessionId).not.toBeNull();
        expect(w).toMatchObject({ sessionId: row.session_id, threadId: row.thread_id, turn: row.turn, costUsd: row.cost_usd, user: null });
      }

      unsubscribe();
      recorder.recordExchange(typicalExchange(3));
      recorder.flush();
      expect(reports.flat()).toHaveLength(2);
      expect(stored(file).size).toBe(3);
    });
  }

  it('an observer that throws costs no record', () => {
    const recorder = new Recorder(openArchive(file), { logger: silentLogger() });
    recorders.push(recorder);
    recorder.onWritten(() => {
      throw new Error('observer bug');
    });
    recorder.recordExchange(typicalExchange(1));
    recorder.flush();
    expect(recorder.stats()).toMatchObject({ recorded: 1, lost: 0 });
  });
});
