import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { silentLogger } from '../../src/log.js';
import { openArchive, type Archive } from '../../src/recorder/db.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { typicalExchange } from '../helpers/exchanges.js';

async function drain(recorder: Recorder): Promise<number> {
  let turns = 0;
  while (recorder.stats().pending > 0) {
    await new Promise((r) => setImmediate(r));
    turns++;
  }
  return turns;
}

describe('recorder batching', () => {
  let dir: string;
  let archive: Archive;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmtap-batch-'));
    archive = openArchive(join(dir, 'archive.db'));
  });
  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes 500 exchanges in batches of at most maxBatch, off the calling turn', async () => {
    const spy = vi.spyOn(archive, 'insertExchanges');
    const recorder = new Recorder(archive, { logger: silentLogger(), maxBatch: 64 });
    for (let i = 0; i < 500; i++) recorder.recordExchange(typicalExchange(i));
    // Recording did no work of its own.
    expect(spy).not.toHaveBeenCalled();
    expect(recorder.stats().pending).toBe(500);

    const turns = await drain(recorder);
    expect(turns).toBeGreaterThanOrEqual(Math.ceil(500 / 64)); // one batch per event-loop turn
    const sizes = spy.mock.calls.map(([rows]) => rows.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(500);
    expect(recorder.stats()).toEqual({ recorded: 500, lost: 0, pending: 0 });
    expect((archive.db.prepare('SELECT COUNT(*) AS n FROM exchanges').get() as { n: number }).n).toBe(500);
    recorder.close();
  });

  it('flush() drains everything synchronously', () => {
    const spy = vi.spyOn(archive, 'insertExchanges');
    const recorder = new Recorder(archive, { logger: silentLogger(), maxBatch: 16 });
    for (let i = 0; i < 100; i++) recorder.recordExchange(makeExchange());
    recorder.flush();
    expect(recorder.stats()).toEqual({ recorded: 100, lost: 0, pending: 0 });
    expect(spy.mock.calls.every(([rows]) => rows.length <= 16)).toBe(true);
    recorder.close();
  });

  it('caps a batch by captured bytes too, always taking at least one record', async () => {
    const spy = vi.spyOn(archive, 'insertExchanges');
    const recorder = new Recorder(archive, { logger: silentLogger(), maxBatch: 64, maxBatchBytes: 10_000 });
    const big = Buffer.alloc(6_000, 0x61);
    for (let i = 0; i < 4; i++) recorder.recordExchange(makeExchange({ request: { method: 'POST', path: '/', headers: [], body: { bytes: big, size: big.length, truncated: false } } }));
    await drain(recorder);
    expect(spy.mock.calls.map(([rows]) => rows.length)).toEqual([1, 1, 1, 1]);
    recorder.close();
  });

  it('shrinks batches when rows turn out slow, to stay within the time budget', async () => {
    const real = archive.insertExchanges;
    const sizes: number[] = [];
    // A slow disk: 0.1 ms per row, so a 1 ms budget fits about ten rows.
    archive.insertExchanges = (rows) => {
      sizes.push(rows.length);
      const until = performance.now() + rows.length * 0.1;
      while (performance.now() < until) { /* spin */ }
      real(rows);
    };
    const recorder = new Recorder(archive, { logger: silentLogger(), maxBatch: 64, batchBudgetMs: 1 });
    for (let i = 0; i < 400; i++) recorder.recordExchange(makeExchange());
    await drain(recorder);
    expect(sizes[0]).toBe(64); // starts optimistic
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(400);
    const settled = sizes.slice(10);
    expect(settled.length).toBeGreaterThan(0);
    expect(Math.max(...settled)).toBeLessThanOrEqual(20);
    recorder.close();
  });

  it('keeps a typical batch short', async () => {
    const recorder = new Recorder(archive, { logger: silentLogger(), maxBatch: 64 });
    // Warm up prepared statements and the JIT before measuring.
    for (let i = 0; i < 64; i++) recorder.recordExchange(typicalExchange(i));
    recorder.flush();
    for (let i = 0; i < 640; i++) recorder.recordExchange(typicalExchange(i));
    // The work a turn costs is its CPU time: on a loaded machine its wall time also holds
    // the moments the process waited for a core or for the disk, which no batch size helps.
    const cpu: number[] = [];
    const wall: number[] = [];
    while (recorder.stats().pending > 0) {
      const start = performance.now();
      const used = process.cpuUsage();
      // The recorder's immediate is already queued, so it runs inside this turn.
      await new Promise((r) => setImmediate(r));
      const { user, system } = process.cpuUsage(used);
      cpu.push((user + system) / 1000);
      wall.push(performance.now() - start);
    }
    const median = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
    console.log(`automatic batches of typical exchanges: ${cpu.length} turns, median ${median(cpu).toFixed(3)} ms of CPU (${median(wall).toFixed(3)} ms of wall time), max ${Math.max(...cpu).toFixed(3)} ms of CPU`);
    // Loose bound for slow CI machines; the target is about 1 ms.
    expect(median(cpu)).toBeLessThan(20);
    recorder.close();
  });
});
