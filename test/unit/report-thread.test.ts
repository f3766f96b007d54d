/**
 * The UI's report reads run in a worker thread (report-off-thread.ts) that stays for the
 * next read: answers equal the reader's own on the event loop, a read that fails leaves
 * the thread serving, and a thread that was closed or went idle is started again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReportThread } from '../../src/archive/report-off-thread.js';
import { SqliteArchiveReader } from '../../src/archive/sqlite-reader.js';
import type { StatsDimension } from '../../src/archive/store.js';
import { makeExchange } from '../../src/exchange.js';
import { openArchive, type Archive } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
let dir: string;
let file: string;
let archive: Archive;
const threads: ReportThread[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmtap-report-'));
  file = join(dir, 'a.db');
  archive = openArchive(file);
  archive.insertExchanges(['gpt-4o', 'gpt-4o', 'claude-sonnet-4-5'].map((model, i) => ({
    ...exchangeToRow(makeExchange({ id: `ex-${i}`, timings: { start: T0 + i * 1000, end: T0 + i * 1000 + 300 } })),
    model, status: 200, outcome: 'completed', input_tokens: 10 * (i + 1), output_tokens: 5, cost_usd: 0.001,
  })));
});
afterEach(() => {
  for (const t of threads.splice(0)) t.close();
  archive.close();
  rmSync(dir, { recursive: true, force: true });
});

function thread(idleMs?: number): ReportThread {
  const t = new ReportThread(file, idleMs === undefined ? {} : { idleMs });
  threads.push(t);
  return t;
}
/** The worker behind the thread right now (undefined: none running). */
const workerOf = (t: ReportThread): unknown => (t as unknown as { worker?: unknown }).worker;

describe('ReportThread', () => {
  it("answers as the reader does on the event loop, and keeps one thread for the reads that follow", async () => {
    const t = thread();
    const here = new SqliteArchiveReader(file, { readonly: true });
    try {
      const query = { by: 'model' as const, since: 0 };
      expect(await t.read('statsTable', query)).toEqual(here.statsTable(query));
      const first = workerOf(t);
      expect(first).toBeDefined();
      const [a, b] = await Promise.all([t.read('timeSeries', { since: T0, until: T0 + 60_000, by: 'model' }), t.read('ruleStats', { since: 0 })]);
      expect(a).toEqual(here.timeSeries({ since: T0, until: T0 + 60_000, by: 'model' }));
      expect(b).toEqual([]);
      expect(workerOf(t)).toBe(first);
    } finally {
      here.close();
    }
  });

  it('a read that fails is rejected with its message, and the thread goes on answering', async () => {
    const t = thread();
    await expect(t.read('statsTable', { by: 'nonsense' as StatsDimension })).rejects.toThrow(/no such column/);
    const first = workerOf(t);
    expect((await t.read('statsTable', { by: 'model' })).rows).toHaveLength(2);
    expect(workerOf(t)).toBe(first);
  });

  it('after close or an idle spell the next read starts a thread again', async () => {
    const t = thread(50);
    const cut = t.read('statsTable', { by: 'model' });
    // Sent once the reads queued before it are done (none): the thread is starting, the read in it.
    await new Promise((r) => setImmediate(r));
    expect(workerOf(t)).toBeDefined();
    t.close();
    await expect(cut).rejects.toThrow(/report thread was closed/);
    await t.read('statsTable', { by: 'model' });
    t.close();
    expect(workerOf(t)).toBeUndefined();
    expect((await t.read('statsTable', { by: 'model' })).total?.requests).toBe(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(workerOf(t)).toBeUndefined();
    expect((await t.read('statsTable', { by: 'model' })).total?.requests).toBe(3);
  });

  it('an archive that cannot be opened rejects the read; the next read tries again', async () => {
    const t = new ReportThread(join(dir, 'missing.db'));
    threads.push(t);
    await expect(t.read('statsTable', { by: 'model' })).rejects.toThrow(/unable to open|does not exist/);
    await expect(t.read('statsTable', { by: 'model' })).rejects.toThrow(/unable to open|does not exist/);
  });
});
