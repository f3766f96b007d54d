import { describe, expect, it } from 'vitest';
import { fold, FOLD_CHARS, FOLD_LINES } from '../../ui/src/fold.js';

const lines = (n: number, width = 10) => Array.from({ length: n }, (_, i) => `${i + 1}`.padEnd(width, '.')).join('\n');

describe('fold (a turn\'s long text)', () => {
  it('leaves text at the thresholds whole', () => {
    expect(fold('')).toBeNull();
    expect(fold(lines(FOLD_LINES))).toBeNull();
    expect(fold('x'.repeat(FOLD_CHARS))).toBeNull();
  });

  it('folds many lines to the first twelve, saying how many there are', () => {
    const f = fold(lines(FOLD_LINES + 1))!;
    expect(f.label).toBe('show all (31 lines)');
    expect(f.head.split('\n')).toHaveLength(12);
    expect(f.head.startsWith('1.........\n2')).toBe(true);
    expect(fold(lines(1234))!.label).toBe('show all (1,234 lines)');
  });

  it('folds few long lines by characters, cut at a line\'s end, else a word\'s, else where it must', () => {
    const wide = lines(5, 900);
    const f = fold(wide)!;
    expect(f.label).toBe('show all (4,504 characters)');
    expect(f.head).toBe(lines(1, 900));
    expect(fold(`${'word '.repeat(900)}`)!.head).toMatch(/^(word ){299}word$/);
    expect(fold('y'.repeat(FOLD_CHARS + 1))!.head).toBe('y'.repeat(1500));
  });

  it('never cuts an emoji in half', () => {
    const head = fold(`${'z'.repeat(1499)}🌊${'z'.repeat(FOLD_CHARS)}`)!.head;
    expect(head).toBe('z'.repeat(1499));
  });
});
