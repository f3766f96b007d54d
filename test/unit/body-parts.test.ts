import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { BODY_LAYOUT_DDL, BODY_PART_USE_MIGRATION, BODY_PARTS_DDL, BodyPartStore, BodyPartsError, PLAIN_BELOW_BYTES } from '../../src/recorder/body-parts.js';
import { claudeCodeSession, codexSession, sseResponse } from './agent-session-fixtures.js';

const dirs: string[] = [];
afterEach(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }); });

/** A real archive file: WAL like db.ts, a minimal exchanges table, then this module's DDL. */
function openArchive(): { db: Database.Database; store: BodyPartStore } {
  const dir = mkdtempSync(join(tmpdir(), 'llmtap-parts-'));
  dirs.push(dir);
  const db = new Database(join(dir, 'llmtap.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE exchanges (id TEXT PRIMARY KEY, started_at REAL, request_body BLOB, request_body_size INTEGER, response_body BLOB, response_body_size INTEGER)');
  db.exec(BODY_PARTS_DDL);
  db.exec(BODY_LAYOUT_DDL);
  db.exec(BODY_PART_USE_MIGRATION);
  return { db, store: new BodyPartStore(db) };
}

interface Row { id: string; request_body: Buffer; request_body_layout: string | null; response_body: Buffer; response_body_layout: string | null }

/** Writes a session the way the writer thread would (encode inside the insert's transaction); returns timings. */
function writeSession(db: Database.Database, store: BodyPartStore, requests: Buffer[], prefix: string): { encodeUs: number } {
  const insert = db.prepare('INSERT INTO exchanges (id, request_body, request_body_size, request_body_layout, response_body, response_body_size, response_body_layout) VALUES (?, ?, ?, ?, ?, ?, ?)');
  let encodeNs = 0n;
  requests.forEach((body, turn) => {
    const response = sseResponse(turn);
    db.transaction(() => {
      const started = process.hrtime.bigint();
      const request = store.encode(body, 'request');
      const answer = store.encode(response, 'response');
      encodeNs += process.hrtime.bigint() - started;
      insert.run(`${prefix}-${String(turn).padStart(3, '0')}`, request.column, body.length, request.layout, answer.column, response.length, answer.layout);
    })();
  });
  return { encodeUs: Number(encodeNs) / 1000 / requests.length };
}

function checkEveryRow(db: Database.Database, store: BodyPartStore, requests: Map<string, Buffer>): { decodeUs: number } {
  const rows = db.prepare('SELECT id, request_body, request_body_layout, response_body, response_body_layout FROM exchanges ORDER BY id').all() as Row[];
  expect(rows.length).toBe(requests.size);
  let decodeNs = 0n;
  for (const row of rows) {
    const started = process.hrtime.bigint();
    const request = store.decode(row.request_body, row.request_body_layout);
    decodeNs += process.hrtime.bigint() - started;
    expect(request.equals(requests.get(row.id)!), row.id).toBe(true);
    expect(store.decode(row.response_body, row.response_body_layout).equals(sseResponse(Number(row.id.slice(-3)))), row.id).toBe(true);
  }
  return { decodeUs: Number(decodeNs) / 1000 / rows.length };
}

function archiveBytes(db: Database.Database): number {
  db.exec('VACUUM');
  return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
}

const sessions = [
  { name: 'Claude Code (Anthropic Messages)', generate: claudeCodeSession },
  { name: 'Codex (Responses input items)', generate: codexSession },
];

describe('BodyPartStore', () => {
  for (const { name, generate } of sessions) {
    it(`stores a 100-turn ${name} session in at most 3× its final request, every body exact`, () => {
      const { db, store } = openArchive();
      const requests = generate(100);
      const { encodeUs } = writeSession(db, store, requests, 's');
      const byId = new Map(requests.map((body, turn) => [`s-${String(turn).padStart(3, '0')}`, body]));
      const { decodeUs } = checkEveryRow(db, store, byId);
      const layouts = db.prepare('SELECT request_body_layout AS r, response_body_layout AS s, count(*) AS n FROM exchanges GROUP BY 1, 2').all();
      // The small SSE answers stay plain (below PLAIN_BELOW_BYTES); every request is parts.
      expect(layouts).toEqual([{ r: 'parts1', s: null, n: 100 }]);
      const final = requests.at(-1)!.length;
      const plain = requests.reduce((sum, body) => sum + body.length, 0);
      const archive = archiveBytes(db);
      const partBytes = db.prepare('SELECT sum(size) AS raw, sum(length(data)) AS stored, count(*) AS n FROM body_parts').get() as { raw: number; stored: number; n: number };
      console.log(`${name}: final request ${final} B, bodies as sent ${plain} B, archive ${archive} B = ${(archive / final).toFixed(2)}× final, ` +
        `${(plain / archive).toFixed(1)}× smaller than plain; parts ${partBytes.n} rows, ${partBytes.raw} B raw → ${partBytes.stored} B; ` +
        `encode ${encodeUs.toFixed(0)} µs, decode ${decodeUs.toFixed(0)} µs per exchange`);
      expect(archive).toBeLessThanOrEqual(3 * final);
      // Each distinct piece once: the moving cache marker does not store messages twice.
      // (Without the marker cut the raw parts come to ~1.7× the final request; runs of hashes add ~0.2×.)
      expect(partBytes.raw).toBeLessThan(1.3 * final);
      // Rows carry runs of hashes, not one hash per part: all 100 envelopes together stay
      // well under the final request (one 16-byte hash per part per row would be ~1×).
      const envelopes = db.prepare('SELECT sum(length(request_body)) FROM exchanges').pluck().get() as number;
      console.log(`${name}: envelopes ${envelopes} B in all`);
      expect(envelopes).toBeLessThan(0.4 * final);
      // The read side decodes from its own read-only connection.
      const reader = new Database(db.name, { readonly: true });
      const last = reader.prepare("SELECT request_body, request_body_layout FROM exchanges WHERE id = 's-099'").get() as Row;
      expect(new BodyPartStore(reader).decode(last.request_body, last.request_body_layout).equals(requests.at(-1)!)).toBe(true);
      reader.close();
      db.close();
    });
  }

  it('purges the parts only deleted exchanges referred to, and nothing still referenced', () => {
    const { db, store } = openArchive();
    const claude = claudeCodeSession(30);
    const codex = codexSession(30);
    writeSession(db, store, claude, 'a');
    writeSession(db, store, codex, 'b');
    expect(store.purgeUnreferenced()).toBe(0);
    db.prepare("DELETE FROM exchanges WHERE id LIKE 'b-%'").run();
    expect(store.purgeUnreferenced()).toBeGreaterThan(0);
    checkEveryRow(db, store, new Map(claude.map((body, turn) => [`a-${String(turn).padStart(3, '0')}`, body])));
    // Keep only the last Claude turn: it still needs every message.
    db.prepare("DELETE FROM exchanges WHERE id < 'a-029'").run();
    store.purgeUnreferenced();
    checkEveryRow(db, store, new Map([['a-029', claude[29]!]]));
    db.prepare('DELETE FROM exchanges').run();
    store.purgeUnreferenced();
    expect(db.prepare('SELECT count(*) FROM body_parts').pluck().get()).toBe(0);
    db.close();
  });

  it('keeps small bodies and rows from before layouts plain, compresses what it cannot split', () => {
    const { store } = openArchive();
    const small = Buffer.from('{"messages":[{"role":"user","content":"hi"}]}');
    expect(store.encode(small, 'request')).toEqual({ column: small, layout: null });
    expect(small.length).toBeLessThan(PLAIN_BELOW_BYTES);
    expect(store.decode(small, null)).toBe(small);
    const truncated = claudeCodeSession(3)[2]!.subarray(0, 5000);
    const encoded = store.encode(truncated, 'request');
    expect(encoded.layout).toBe('br1');
    expect(encoded.column.length).toBeLessThan(truncated.length);
    expect(store.decode(encoded.column, encoded.layout).equals(truncated)).toBe(true);
    // A response is never split, even when it is a JSON object.
    expect(store.encode(claudeCodeSession(1)[0]!, 'response').layout).toBe('br1');
    const noise = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24));
    expect(store.encode(noise, 'response').layout).toBe(noise.length > store.encode(noise, 'response').column.length ? 'br1' : null);
  });

  it('refuses, never guesses, when a part is missing or the layout is unknown', () => {
    const { db, store } = openArchive();
    const encoded = store.encode(claudeCodeSession(2)[1]!, 'request');
    expect(() => store.decode(encoded.column, 'parts9')).toThrow(BodyPartsError);
    db.prepare('DELETE FROM body_parts WHERE hash = (SELECT max(hash) FROM body_parts)').run();
    try {
      store.decode(encoded.column, encoded.layout);
      expect.unreachable();
    } catch (error) {
      expect((error as BodyPartsError).code).toBe('body_part_missing');
    }
  });
});
