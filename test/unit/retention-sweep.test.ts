/**
 * Hourly retention over a large archive: a pass that finds little or nothing old must not
 * read every exchange's stored body (the parts sweep did: ~7.5 s per 100,000 exchanges in
 * the writer thread), nor every WebSocket message, and must delete exactly what a full
 * mark-and-sweep would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ORPHANED_SESSIONS, purgeArchive } from '../../src/archive/purge.js';
import { decodeStoredBodies } from '../../src/archive/stored-bodies.js';
import { makeExchange } from '../../src/exchange.js';
import { sweepUnused, USE_PENDING, USE_STEP_MS } from '../../src/recorder/body-part-sweep.js';
import { BodyPartStore } from '../../src/recorder/body-parts.js';
import { openArchive, type Archive, type ExchangeRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { ArchiveWriter } from '../../src/recorder/writer.js';
import { claudeCodeSession, codexSession } from './agent-session-fixtures.js';

const T0 = Date.parse('2026-10-01T00:00:00Z');
const MIN = 60_000;

let dir: string;
let file: string;
let archive: Archive;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmtap-retention-'));
  file = join(dir, 'llmtap.db');
  archive = openArchive(file);
});
afterEach(() => {
  if (archive.db.open) archive.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A session's turns, one a minute from `start`: agent requests resent whole, so consecutive turns share nearly all their parts. */
function session(prefix: string, bodies: Buffer[], start: number): ExchangeRow[] {
  return bodies.map((body, turn) => exchangeToRow(makeExchange({
    id: `${prefix}-${String(turn).padStart(3, '0')}`, timings: { start: start + turn * MIN }, outcome: 'completed',
    request: { method: 'POST', path: '/v1/messages', headers: ['content-type', 'application/json'], body: { bytes: body, size: body.length, truncated: false } },
  })));
}

/** Every exchange left decodes, and a full mark-and-sweep finds nothing more to delete: the pass deleted exactly the unused parts. */
function expectExact(): void {
  const rows = archive.db.prepare('SELECT * FROM exchanges').all() as ExchangeRow[];
  for (const row of rows) expect(() => decodeStoredBodies(row, archive.db), row.id).not.toThrow();
  expect(new BodyPartStore(archive.db).purgeUnreferenced()).toBe(0);
  expect(archive.db.prepare('SELECT count(*) FROM body_parts').pluck().get()).toBe(archive.db.prepare('SELECT count(*) FROM body_part_use').pluck().get());
}

describe('retention sweeping body parts by their last use', () => {
  it('deletes exactly the parts only purged exchanges used, also those last used just before the cut', () => {
    // Claude Code sessions share the system prompt and tools; the Codex one shares nothing with them.
    const claude = claudeCodeSession(20);
    archive.insertExchanges(session('old', claude.slice(0, 10), T0));
    archive.insertExchanges(session('codex', codexSession(10), T0 + 5 * MIN));
    // Continues the old conversation three minutes after the cut: its parts were last used within a step of it.
    archive.insertExchanges(session('new', claude.slice(10), T0 + 20 * MIN));
    const before = T0 + 17 * MIN;
    const parts = archive.db.prepare('SELECT count(*) FROM body_parts').pluck().get() as number;
    const counts = purgeArchive(archive.db, before, undefined, 'unused');
    expect(counts.exchanges).toBe(20);
    expect(counts.bodyParts).toBeGreaterThan(0);
    expect(archive.db.prepare('SELECT count(*) FROM body_parts').pluck().get()).toBe(parts - counts.bodyParts);
    expectExact();
    // The rest, past the step: the parts go with them.
    purgeArchive(archive.db, T0 + 60 * MIN, undefined, 'unused');
    expect(archive.db.prepare('SELECT count(*) FROM body_parts').pluck().get()).toBe(0);
    expect(archive.db.prepare('SELECT count(*) FROM body_part_use').pluck().get()).toBe(0);
  });

  it('a pass with nothing old reads no stored body: a damaged envelope far from the cut does not stop it', () => {
    archive.insertExchanges(session('s', claudeCodeSession(5), T0));
    archive.insertExchanges(session('far', claudeCodeSession(1), T0 + 300 * MIN));
    archive.db.prepare("UPDATE exchanges SET request_body = x'00ff00ff' WHERE id = 'far-000'").run();
    archive.close();
    const writer = new ArchiveWriter(() => openArchive(file), () => {});
    // Retention runs in the writer; the full sweep (`llmtap purge`) reads every envelope and stops at the damaged one.
    expect(writer.purge(T0 - 86_400_000)).toMatchObject({ exchanges: 0, bodyParts: 0 });
    expect(writer.purge(T0 + 2 * MIN)).toMatchObject({ exchanges: 2, bodyParts: expect.any(Number) });
    writer.close();
    archive = openArchive(file);
    expect(() => purgeArchive(archive.db, 0)).toThrow();
  });

  it('keeps the parts of a row written during the pass that started before the cut (a long session ends late)', () => {
    const bodies = claudeCodeSession(6);
    archive.insertExchanges(session('a', bodies.slice(0, 5), T0));
    purgeArchive(archive.db, T0 + 30 * MIN, undefined, 'unused');
    // The purge deleted its exchanges, then this row (started before the cut) came before the sweep.
    archive.insertExchanges(session('late', bodies.slice(5), T0 + 10 * MIN));
    sweepUnused(new BodyPartStore(archive.db), T0 + 30 * MIN);
    const late = archive.db.prepare("SELECT * FROM exchanges WHERE id = 'late-000'").get() as ExchangeRow;
    expect(decodeStoredBodies(late, archive.db).request_body!.equals(bodies[5]!)).toBe(true);
  });

  it('an archive whose parts predate their last use: the first pass reads every envelope once and fills it in, later passes use the index', () => {
    archive.insertExchanges(session('a', claudeCodeSession(8), T0));
    archive.insertExchanges(session('b', codexSession(8), T0 + 60 * MIN));
    // As the migration leaves an older archive: parts without a use row, and the pending mark.
    archive.db.exec('DELETE FROM body_part_use');
    archive.db.prepare('INSERT INTO body_part_use (hash, last_used) VALUES (?, 0)').run(USE_PENDING);
    purgeArchive(archive.db, T0 - 1, undefined, 'unused');
    expect(archive.db.prepare('SELECT count(*) FROM body_part_use WHERE hash = ?').pluck().get(USE_PENDING)).toBe(0);
    expectExact();
    // Each part's last use came from the exchanges read: the Codex parts after the Claude ones.
    const lastUse = archive.db.prepare('SELECT max(last_used) FROM body_part_use').pluck().get() as number;
    expect(lastUse).toBe(T0 + 60 * MIN + 7 * MIN);
    purgeArchive(archive.db, T0 + 30 * MIN, undefined, 'unused');
    expectExact();
    expect(archive.db.prepare('SELECT count(*) FROM exchanges').pluck().get()).toBe(8);
  });

  it('keeps each part\'s last use within a step of the latest exchange using it, moving it on once a step at most', () => {
    archive.insertExchanges(session('a', claudeCodeSession(30), T0));
    // 30 turns a minute apart: every part the last turn uses was last used at most a step before it.
    const store = new BodyPartStore(archive.db);
    const last = archive.db.prepare("SELECT request_body FROM exchanges WHERE id = 'a-029'").pluck().get() as Buffer;
    const hashes = store.envelopeRuns(last).flatMap((run) => [run, ...store.runHashes(run)]);
    expect(hashes.length).toBeGreaterThan(30);
    const lastUsed = archive.db.prepare('SELECT last_used FROM body_part_use WHERE hash = ?').pluck();
    for (const hash of hashes) expect(lastUsed.get(hash) as number).toBeGreaterThanOrEqual(T0 + 29 * MIN - USE_STEP_MS);
    // The first turn's parts, used by every turn since, moved on three times in 30 minutes, not 29.
    expect(new Set(hashes.map((hash) => lastUsed.get(hash))).size).toBeLessThan(30);
  });
});

describe('retention over WebSocket messages', () => {
  it('finds the sessions whose row never came through the `at` index, not by reading every message', () => {
    const plan = (archive.db.prepare(`EXPLAIN QUERY PLAN DELETE FROM ws_messages WHERE exchange_id IN (${ORPHANED_SESSIONS})`).all({ cut: T0 }) as { detail: string }[])
      .map((r) => r.detail);
    expect(plan.join(' | ')).toContain('USING COVERING INDEX ws_messages_at (at<?)');
    expect(plan.filter((d) => /^SCAN /.test(d))).toEqual([]);
  });
});
