import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listWhere, type ExchangeListQuery } from '../../src/archive/exchange-list.js';
import { olderThan } from '../../src/archive/list-cursor.js';
import { SqliteArchiveReader } from '../../src/archive/sqlite-reader.js';
import { makeExchange } from '../../src/exchange.js';
import { openArchive } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { parseListQuery } from '../../src/ui/server/list-query.js';
import { viewerFor } from '../../src/ui/server/access.js';
import { listUrl, NO_FILTERS } from '../../ui/src/api.js';

const T = Date.parse('2026-12-01T10:00:00Z');
// 450 exchanges in one millisecond (more than four pages of 100), a few on either side;
// ids in no particular order, as a replayed batch or ids from an older archive have them.
const SAME_MS = 450;
const times = [...Array.from({ length: 30 }, (_, i) => T + 1 + i), ...Array.from({ length: SAME_MS }, () => T), ...Array.from({ length: 30 }, (_, i) => T - 1 - i)];

let dir: string;
let reader: SqliteArchiveReader;
const all: { id: string; started_at: number; tool: string; needle: boolean }[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmtap-paging-'));
  const archive = openArchive(join(dir, 'a.db'));
  const rows = times.map((start, i) => {
    const id = `ex-${randomBytes(6).toString('hex')}`;
    const tool = i % 2 ? 'codex' : 'claude-code';
    // Every third one mentions the needle the text search pages through.
    const needle = i % 3 === 0;
    all.push({ id, started_at: start, tool, needle });
    const text = needle ? `look for the needle in ${i}` : `nothing in ${i}`;
    const body = Buffer.from(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: text }] }));
    return exchangeToRow(makeExchange({ id, timings: { start }, outcome: 'completed', tool: { name: tool },
      request: { method: 'POST', path: '/v1/chat/completions', headers: ['content-type', 'application/json'], body: { bytes: body, size: body.length, truncated: false } } }));
  });
  archive.insertExchanges(rows);
  archive.close();
  reader = new SqliteArchiveReader(join(dir, 'a.db'));
  all.sort((a, b) => b.started_at - a.started_at || (a.id < b.id ? 1 : -1));
});
afterAll(() => {
  reader.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every page of a query, each asked with the cursor after the page before, as the web UI does. */
function pages(query: ExchangeListQuery): string[][] {
  const out: string[][] = [];
  let page: Partial<ExchangeListQuery> = {};
  for (let n = 0; n < 50; n++) {
    const rows = reader.listExchanges({ ...query, ...page });
    if (rows.length === 0) break;
    out.push(rows.map((r) => r.id));
    // The last row listed, as the web UI's "load older" sends it.
    const last = rows[rows.length - 1]!;
    page = { before: last.started_at, beforeId: last.id };
  }
  return out;
}

describe('paging the exchange list', () => {
  it('walks hundreds of rows sharing one millisecond, page by page, none skipped or repeated, newest first', () => {
    const got = pages({ limit: 100 });
    expect(got.length).toBe(Math.ceil(all.length / 100));
    expect(got.flat()).toEqual(all.map((r) => r.id));
  });

  it('does the same with a filter and with a text search (which reads bodies)', () => {
    expect(pages({ limit: 70, tool: 'claude-code' }).flat()).toEqual(all.filter((r) => r.tool === 'claude-code').map((r) => r.id));
    expect(pages({ limit: 40, text: 'needle' }).flat()).toEqual(all.filter((r) => r.needle).map((r) => r.id));
  });

  it('keeps `before` alone as it was: what started before that millisecond', () => {
    const rows = reader.listExchanges({ limit: 1000, before: T });
    expect(rows.length).toBe(30);
    expect(rows.every((r) => r.started_at < T)).toBe(true);
  });

  it('reads the cursor from the list API query and writes it into the UI\'s next-page address', () => {
    const viewer = viewerFor(undefined, false, []);
    expect(parseListQuery(new URLSearchParams(`before=${T}.5&before_id=ex-1`), viewer)).toMatchObject({ before: T + 0.5, beforeId: 'ex-1' });
    expect(parseListQuery(new URLSearchParams(`before=${T}`), viewer)).toMatchObject({ before: T, beforeId: undefined });
    const url = new URL(listUrl({ ...NO_FILTERS, tool: 'codex' }, { startedAt: T + 0.25, id: 'ex-9' }), 'http://x');
    expect(Object.fromEntries(url.searchParams)).toEqual({ tool: 'codex', before: String(T + 0.25), before_id: 'ex-9' });
  });

  it('is one parameterised condition that the started_at index serves', () => {
    expect(olderThan({ before: T })).toEqual({ sql: 'started_at < ?', params: [T] });
    const { sql, params } = listWhere({ limit: 10, before: T, beforeId: "x' OR 1=1" });
    expect(sql).toBe('WHERE started_at <= ? AND (started_at < ? OR id < ?)');
    expect(params).toEqual([T, T, "x' OR 1=1"]);
    const plan = (reader.db.prepare(`EXPLAIN QUERY PLAN SELECT id FROM exchanges ${sql} ORDER BY started_at DESC, id DESC LIMIT 10`).all(...params) as { detail: string }[])
      .map((r) => r.detail).join(' | ');
    expect(plan).toContain('USING INDEX exchanges_started_at (started_at<?)');
  });
});
