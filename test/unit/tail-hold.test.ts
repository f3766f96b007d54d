import { describe, expect, it } from 'vitest';
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
