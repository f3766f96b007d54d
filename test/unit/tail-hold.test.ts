import { describe, expect, it } from 'vitest';
import { estimateWaitUntil, waitForEstimates } from '../../src/cli/estimate-wait.js';
import { HeldRows, type HoldableRow } from '../../src/cli/tail-hold.js';

const row = (id: string, usage_estimated: 0 | 1 | null, ended_at: number): HoldableRow => ({ id, usage_estimated, started_at: ended_at - 100, ended_at });

describe('the lines tail holds for an estimate', () => {
  it('holds a row awaiting its estimate, and those after it, until it is amended; in order', () => {
    const held = new HeldRows(5_000, 1_000);
    held.add([row('a', null, 1_000), row('b', 0, 1_000), row('c', null, 1_000)], 1_010);
    expect(held.release(new Map(), 1_020).map((r) => r.id)).toEqual(['a']);
    expect(held.awaiting()).toEqual(['b']);
    expect(held.release(new Map(), 3_000)).toEqual([]);
    const amended = row('b', 1, 1_000);
    expect(held.release(new Map([['b', amended]]), 3_100)).toEqual([amended, row('c', null, 1_000)]);
    expect(held.size).toBe(0);
  });

  it('lets a row that never gets its estimate go 5 s after its exchange ended, an old one (a killed proxy\'s) 1 s after it was read', () => {
    const held = new HeldRows(5_000, 1_000);
    held.add([row('fresh', 0, 10_000)], 10_050);
    expect(held.release(new Map(), 14_900)).toEqual([]);
    expect(held.release(new Map(), 15_000).map((r) => r.id)).toEqual(['fresh']);
    held.add([row('old', 0, 1_000), row('after', null, 1_000)], 100_000);
    expect(held.release(new Map(), 100_500)).toEqual([]);
    expect(held.release(new Map(), 101_000).map((r) => r.id)).toEqual(['old', 'after']);
  });
});

describe('how long sessions waits for an estimate', () => {
  it('until 5 s after the last exchange awaiting one ended, as tail holds it; nothing awaiting, not at all', () => {
    expect(estimateWaitUntil([10_000, 12_000, 11_000], 5_000)).toBe(17_000);
    expect(estimateWaitUntil([], 5_000)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('looks again until nothing awaits, and says it waited; an exchange past its hold is not waited for', async () => {
    const now = Date.now();
    let looks = 0;
    expect(await waitForEstimates(() => (++looks < 3 ? [now] : []), 5)).toBe(true);
    expect(looks).toBe(3);
    const started = Date.now();
    expect(await waitForEstimates(() => [now - 60_000], 5)).toBe(false);
    expect(Date.now() - started).toBeLessThan(50);
  });
});
