import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LABEL_OF_SESSION } from '../../src/archive/sqlite-reader.js';
import { rowUsage } from '../../src/cost/unpriced-reason.js';
import { assertKnownSchema, DEFAULT_BUSY_TIMEOUT_MS, EXCHANGE_COLUMNS, MIGRATIONS, openArchive, SCHEMA_VERSION, TUNNEL_COLUMNS, type ExchangeRow } from '../../src/recorder/db.js';

describe('archive migrations', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmtap-db-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads a session's run label from an index alone, never from the rows (the label sits after the body blobs)", () => {
    const archive = openArchive(join(dir, 'llmtap.db'));
    const plan = archive.db.prepare(`EXPLAIN QUERY PLAN SELECT ${LABEL_OF_SESSION} FROM sessions`).all() as Array<{ detail: string }>;
    archive.close();
    expect(plan.map((p) => p.detail)).toContain('SEARCH e USING COVERING INDEX exchanges_session_label (session_id=? AND client_label>?)');
  });

  it('creates the parent directory and sets user_version on a fresh file', () => {
    const file = join(dir, 'nested', 'deeper', 'archive.db');
    const archive = openArchive(file);
    expect(archive.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(1);
    archive.close();
  });

  it('turns on WAL, NORMAL sync, busy timeout and foreign keys', () => {
    const archive = openArchive(join(dir, 'a.db'));
    expect(archive.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(archive.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(archive.db.pragma('busy_timeout', { simple: true })).toBe(DEFAULT_BUSY_TIMEOUT_MS);
    expect(archive.db.pragma('foreign_keys', { simple: true })).toBe(1);
    archive.close();
  });

  it('reopening an up-to-date archive changes nothing', () => {
    const file = join(dir, 'a.db');
    const first = openArchive(file);
    first.insertTunnels([
      { id: 't1', started_at: 1, ended_at: 2, client_address: '::1', client_user: null, host: 'h', port: 443, bytes_up: 1, bytes_down: 2, outcome: 'closed' },
    ]);
    const schema = first.db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all();
    first.checkpoint();
    first.close();


    const second = openArchive(file);
    // Any committed write would have appended frames to the (fresh, empty) WAL.
    expect(second.db.pragma('wal_checkpoint(PASSIVE)')).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
    expect(second.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(second.db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all()).toEqual(schema);
    expect(second.db.prepare('SELECT id FROM tunnels').all()).toEqual([{ id: 't1' }]);
    second.checkpoint();
    second.close();
  });

  it('refuses an archive written by a newer llmtap, with a clear message', () => {
    const file = join(dir, 'a.db');
    openArchive(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    expect(() => openArchive(file)).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 5}.*only knows up to ${SCHEMA_VERSION}`));
    expect(() => assertKnownSchema(file)).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 5}.*only knows up to ${SCHEMA_VERSION}`));
  });

  it('the start-time schema check passes a current archive, a missing file and one it cannot read (the recorder reports those)', () => {
    const file = join(dir, 'a.db');
    expect(() => assertKnownSchema(file)).not.toThrow();
    openArchive(file).close();
    expect(() => assertKnownSchema(file)).not.toThrow();
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, 'not a database at all, just text that is long enough to look like a header......');
    expect(() => assertKnownSchema(garbage)).not.toThrow();
  });

  it('insert column lists match the tables', () => {
    const archive = openArchive(join(dir, 'a.db'));
    const columns = (table: string) =>
      (archive.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name).sort();
    expect(columns('exchanges')).toEqual([...EXCHANGE_COLUMNS].sort());
    expect(columns('tunnels')).toEqual([...TUNNEL_COLUMNS].sort());
    const indexes = (archive.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'exchanges'").all() as { name: string }[])
      .map((i) => i.name);
    expect(indexes).toEqual(expect.arrayContaining(['exchanges_started_at', 'exchanges_host', 'exchanges_model']));
    archive.close();
  });

  it('an archive from schema 16 gains usage_parts (17); its rows keep null: no parts recorded', () => {
    const file = join(dir, 'old.db');
    const old = new Database(file);
    for (const step of MIGRATIONS.slice(0, 16)) old.exec(step);
    old.pragma('user_version = 16');
    old.prepare(`INSERT INTO exchanges (id, connection_id, started_at, host, port, method, path, request_headers, request_body_size, request_body_truncated,
      provider, api, model, input_tokens, output_tokens) VALUES ('x1', 'c1', 1, 'api.openai.com', 443, 'POST', '/v1/images/edits', '[]', 0, 0, 'openai', 'images', 'gpt-image-1', 373, 4160)`).run();
    old.close();

    const archive = openArchive(file);
    try {
      expect(archive.db.pragma('user_version', { simple: true })).toBe(17);
      expect(SCHEMA_VERSION).toBe(17);
      const columns = (archive.db.prepare('PRAGMA table_info(exchanges)').all() as { name: string; type: string; notnull: number }[]);
      expect(columns.find((c) => c.name === 'usage_parts')).toMatchObject({ type: 'TEXT', notnull: 0 });
      const row = archive.db.prepare("SELECT * FROM exchanges WHERE id = 'x1'").get() as ExchangeRow;
      expect(row.usage_parts).toBeNull();
      const usage = rowUsage(row);
      expect([usage.inputTokens, usage.outputTokens, usage.outputImageTokens]).toEqual([373, 4160, undefined]);
    } finally {
      archive.close();
    }
  });

  it.skipIf(process.platform === 'win32')('creates the archive file owner-only', () => {
    const file = join(dir, 'private.db');
    openArchive(file).close();
    expect(statSync(file).mode & 0o077).toBe(0);
  });
});
