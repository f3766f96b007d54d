import { describe, expect, it } from 'vitest';
import { idGenerator, newId } from '../../src/ids.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('record ids', () => {
  it('are UUIDv7 carrying the creation time', () => {
    const before = Date.now();
    const id = newId();
    expect(id).toMatch(V7);
    const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });

  it('sort in creation order: within a millisecond, past 4,096 in one millisecond, and when the clock steps back', () => {
    let clock = 1_800_000_000_000;
    const next = idGenerator(() => clock);
    const ids: string[] = [];
    for (let i = 0; i < 5000; i++) ids.push(next()); // one millisecond
    clock -= 60_000; // NTP step back
    for (let i = 0; i < 10; i++) ids.push(next());
    clock += 120_000;
    ids.push(next());
    for (const id of ids) expect(id).toMatch(V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(parseInt(ids.at(-1)!.slice(0, 8) + ids.at(-1)!.slice(9, 13), 16)).toBe(clock);
  });
});
