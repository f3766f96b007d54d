import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { openArchive, type Archive, type ExchangeRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { SessionRollup, type RowGrouping } from '../../src/recorder/session-rollup.js';
import { MemoryGroupIndex, type GroupRecord } from '../../src/sessions/group-index.js';
import { StagedGroupIndex } from '../../src/sessions/staged-group-index.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

function row(i: number, over: Partial<ExchangeRow>): ExchangeRow {
  const ex = makeExchange({ id: `ex-${i}`, timings: { start: T0 + i * 1000, end: T0 + i * 1000 + 500 } });
  return { ...exchangeToRow(ex), status: 200, outcome: 'completed', ...over };
}

/** Counts the puts that reach the store under the staged view. */
class CountingIndex extends MemoryGroupIndex {
  puts: string[] = [];
  override put(key: string, record: GroupRecord): void {
    this.puts.push(key);
    super.put(key, record);
  }
}

const rec = (turn: number): GroupRecord => ({ sessionId: 's', threadId: 't', turn, at: T0 + turn });

describe('staged group index (one batch)', () => {
  it('reads its own staged writes, and writes each key once, last value winning', () => {
    const store = new CountingIndex();
    store.put('k0', rec(0));
    store.puts = [];
    const staged = new StagedGroupIndex(store);
    expect(staged.get('k0')?.turn).toBe(0);
    staged.put('k1', rec(1));
    expect(staged.get('k1')?.turn).toBe(1); // the same exchange sees its own write
    staged.keep();
    staged.put('k1', rec(2));
    staged.put('k0', rec(3));
    staged.keep();
    expect(store.puts).toEqual([]); // nothing before write()
    staged.write();
    expect(store.puts.sort()).toEqual(['k0', 'k1']);
    expect(store.get('k1')?.turn).toBe(2);
    expect(store.get('k0')?.turn).toBe(3);
  });

  it('forgets the writes of an exchange that is dropped', () => {
    const store = new CountingIndex();
    const staged = new StagedGroupIndex(store);
    staged.put('kept', rec(1));
    staged.keep();
    staged.put('failed', rec(2));
    staged.put('kept', rec(9));
    staged.drop();
    expect(staged.get('failed')).toBeUndefined();
    staged.write();
    expect(store.puts).toEqual(['kept']);
    expect(store.get('kept')?.turn).toBe(1);
  });
});

describe('session totals added up over a batch', () => {
  let dir: string;
  let batched: Archive;
  let single: Archive;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmtap-batch-'));
    batched = openArchive(join(dir, 'batched.db'));
    single = openArchive(join(dir, 'single.db'));
  });
  afterEach(() => {
    batched.close();
    single.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows: Array<[ExchangeRow, RowGrouping]> = [
    [row(0, { model: 'claude-sonnet-4-5', tool_name: 'claude-code', input_tokens: 10, cached_input_tokens: 100, cache_creation_input_tokens: 5, output_tokens: 3, cost_usd: 0.1, cost_source: 'api_equivalent', quota: JSON.stringify({ anthropic: { 'unified-5h-utilization': 0.1 } }) }), { sessionId: 's1', threadId: 's1', turn: 1 }],
    [row(1, { model: 'claude-haiku-4-5', input_tokens: 7, output_tokens: 2, cost_usd: null, quota: JSON.stringify({ anthropic: { 'unified-5h-utilization': 0.15 } }) }), { sessionId: 's1', threadId: 's1/agent/a', turn: 1, parentThreadId: 's1', agentId: 'a' }],
    [row(2, { model: 'claude-sonnet-4-5', input_tokens: 1, output_tokens: 4, cost_usd: 0.2, cost_source: 'api', status: 529 }), { sessionId: 's1', threadId: 's1', turn: 2 }],
    [row(3, { model: 'gpt-4o', tool_name: 'openai-sdk', input_tokens: 50, cached_input_tokens: 20, output_tokens: 9, cost_usd: 0.3, cost_source: 'api' }), { sessionId: 's2', threadId: 's2', turn: 1 }],
  ];
  const dump = (a: Archive): unknown => ({
    sessions: a.db.prepare('SELECT * FROM sessions ORDER BY id').all(),
    threads: a.db.prepare('SELECT * FROM threads ORDER BY id').all(),
  });

  it('stores the same totals as adding one exchange at a time, with one write per session and thread', () => {
    // Some totals exist before the batch: it must read and extend them, not restart them.
    new SessionRollup(batched.db).add(...rows[0]!);
    new SessionRollup(single.db).add(...rows[0]!);
    const one = new SessionRollup(single.db);
    for (const [r, g] of rows.slice(1)) one.add(r, g);

    let writes = 0;
    batched.db.function('count_write', () => ++writes);
    batched.db.exec(`CREATE TEMP TRIGGER ts AFTER UPDATE ON sessions BEGIN SELECT count_write(); END;
      CREATE TEMP TRIGGER ti AFTER INSERT ON sessions BEGIN SELECT count_write(); END;
      CREATE TEMP TRIGGER tt AFTER UPDATE ON threads BEGIN SELECT count_write(); END;
      CREATE TEMP TRIGGER tti AFTER INSERT ON threads BEGIN SELECT count_write(); END;`);
    const batch = new SessionRollup(batched.db).begin();
    for (const [r, g] of rows.slice(1)) batch.add(r, g);
    expect(writes).toBe(0);
    batch.write();
    expect(writes).toBe(5); // sessions s1, s2; threads s1, s1/agent/a, s2
    expect(dump(batched)).toEqual(dump(single));
    const s1 = batched.db.prepare("SELECT * FROM sessions WHERE id = 's1'").get() as Record<string, unknown>;
    expect(s1).toMatchObject({ exchanges: 3, threads: 2, errors: 1, unpriced: 1, api_equivalent: 1, output_tokens: 9, tool_name: 'claude-code' });
    expect(JSON.parse(s1.models as string)).toEqual(['claude-sonnet-4-5', 'claude-haiku-4-5']);
  });
});
