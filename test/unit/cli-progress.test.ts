import { describe, expect, it } from 'vitest';
import { counted, progressDrawer, progressLine } from '../../src/cli/progress.js';

/** A stand-in terminal (or pipe) and a clock the test moves: each item read takes 100 ms. */
function run(isTTY: boolean, items: number, total = items) {
  const written: string[] = [];
  let now = 0;
  let asked = 0;
  const out = [...counted(Array.from({ length: items }, (_, i) => i), 'replaying exchanges', () => (asked++, total), { isTTY, write: (s) => written.push(s) }, () => (now += 100))];
  return { out, written, asked };
}

describe('the progress line of long archive reads', () => {
  it('on a terminal: redrawn at most every 250 ms, erased when the reading ends, every item passed on', () => {
    const { out, written, asked } = run(true, 10);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(asked).toBe(1);
    // 100 ms per item: a redraw every third item, then the erase.
    expect(written).toEqual([
      '\rreplaying exchanges: 3 of 10 (30 %)', '\rreplaying exchanges: 6 of 10 (60 %)', '\rreplaying exchanges: 9 of 10 (90 %)', '\r\u001b[2K',
    ]);
  });

  it('into a pipe or a file: nothing written, the total never counted', () => {
    const { out, written, asked } = run(false, 10);
    expect(out).toHaveLength(10);
    expect(written).toEqual([]);
    expect(asked).toBe(0);
  });

  it('a read too short to draw leaves nothing to erase; the erase happens when the reader stops early too', () => {
    expect(run(true, 2).written).toEqual([]);
    const written: string[] = [];
    let now = 0;
    for (const i of counted([1, 2, 3, 4, 5, 6], 'x', () => 6, { isTTY: true, write: (s) => written.push(s) }, () => (now += 300))) if (i === 2) break;
    expect(written).toEqual(['\rx: 1 of 6 (16 %)', '\r\u001b[2K']);
  });

  it('counts with separators; a total passed by an archive written meanwhile grows with the count', () => {
    expect(progressLine('exporting exchanges', 340_000, 1_000_000)).toBe('exporting exchanges: 340,000 of 1,000,000 (34 %)');
    expect(progressLine('x', 12, 10)).toBe('x: 12 of 12 (100 %)');
    expect(progressLine('x', 0, 0)).toBe('x: 0 of 0 (100 %)');
  });

  it('a drawer for work that reports as it goes (purge): throttled on a terminal, erased at the end, silent off one', () => {
    for (const isTTY of [true, false]) {
      const written: string[] = [];
      let now = 0;
      const line = progressDrawer({ isTTY, write: (s) => written.push(s) }, () => (now += 100));
      for (let n = 0; n <= 10; n++) line.draw('purging: deleting exchanges', n * 1000, 10_000);
      line.end();
      if (!isTTY) expect(written).toEqual([]);
      else expect(written).toEqual(['\r\u001b[2Kpurging: deleting exchanges: 0 of 10,000 (0 %)', '\r\u001b[2Kpurging: deleting exchanges: 3,000 of 10,000 (30 %)',
        '\r\u001b[2Kpurging: deleting exchanges: 6,000 of 10,000 (60 %)', '\r\u001b[2Kpurging: deleting exchanges: 9,000 of 10,000 (90 %)', '\r\u001b[2K']);
    }
  });
});
