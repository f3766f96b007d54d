import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ArchiveHealth } from '../../src/recorder/archive-health.js';
import { BatchSizer } from '../../src/recorder/batch-sizer.js';

function health(): { health: ArchiveHealth; lines: Array<{ msg: string; level: number }>; clock: { t: number } } {
  const lines: Array<{ msg: string; level: number }> = [];
  const clock = { t: 0 };
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { health: new ArchiveHealth(logger, () => clock.t), lines, clock };
}

describe('ArchiveHealth', () => {
  it('a failed batch flips healthy and logs at once; the next success logs the recovery', () => {
    const { health: h, lines } = health();
    h.applyOutcome({ recorded: 0, lost: 3, rows: 3, error: { message: 'disk I/O error', code: 'SQLITE_IOERR' } });
    expect(h.healthy).toBe(false);
    expect(h.lost).toBe(3);
    h.applyOutcome({ recorded: 2, lost: 0, rows: 2 });
    expect(h.healthy).toBe(true);
    expect(h.recorded).toBe(2);
    expect(lines.map((l) => l.msg)).toEqual(['archive write failed; records lost', 'archive writes recovered']);
  });

  it('repeated failures and drops log once per 10 s, unless a failure must always be said', () => {
    const { health: h, lines, clock } = health();
    const error = { message: 'database is locked', code: 'SQLITE_BUSY' };
    h.failed(error, 1);
    clock.t = 5_000;
    h.failed(error, 1);
    h.failed(error, 0, 'writer thread gave up', true);
    h.dropped(10);
    h.dropped(10);
    clock.t = 15_000;
    h.failed(error, 1);
    h.dropped(10);
    expect(lines.map((l) => l.msg)).toEqual([
      'archive write failed; records lost', 'writer thread gave up', 'archive queue full; dropping oldest records',
      'archive write failed; records lost', 'archive queue full; dropping oldest records',
    ]);
    expect(h.lost).toBe(3);
  });
});

describe('BatchSizer', () => {
  it('starts with full batches and shrinks toward the budget as rows turn out slow', () => {
    const sizer = new BatchSizer(64, 1);
    expect(sizer.rows()).toBe(64);
    for (let i = 0; i < 20; i++) sizer.measured(64 * 0.25, 64); // 0.25 ms a row: 4 fit in 1 ms
    expect(sizer.rows()).toBe(4);
    sizer.measured(10, 0); // nothing taken: nothing learnt
    expect(sizer.rows()).toBe(4);
    for (let i = 0; i < 20; i++) sizer.measured(50, 1); // never below one row
    expect(sizer.rows()).toBe(1);
  });
});
