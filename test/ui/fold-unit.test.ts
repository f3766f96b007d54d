import { describe, expect, it } from 'vitest';
import { fold, FOLD_CHARS, FOLD_LINES, MARKDOWN_REST_CHARS } from '../../ui/src/fold.js';

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

  it('gives the rest after the head, whole, and where the cut fell: between blocks, at a line\'s end, a word\'s, inside a token', () => {
    const text = lines(40);
    const f = fold(text)!;
    expect(`${f.head}\n${f.rest}`).toBe(text);
    expect(f.cut).toBe('line');
    const words = `${'word '.repeat(900)}end`;
    const w = fold(words)!;
    expect(`${w.head} ${w.rest}`).toBe(words);
    expect(w.cut).toBe('word');
    const minified = `${'y'.repeat(FOLD_CHARS)}z`;
    const m = fold(minified)!;
    expect(m.head + m.rest).toBe(minified);
    expect(m.cut).toBe('char');
    // A blank line at the cut: two paragraphs, with their gap.
    const paragraphs = `${lines(12)}\n\n${lines(30)}`;
    expect(fold(paragraphs)!.cut).toBe('block');
    expect(fold(`${lines(11)}\n\n${lines(30)}`)!.cut).toBe('block');
  });

  it('closes a code block the cut opens in the head and opens it again, in its language, in the rest', () => {
    const code = `Here it is:\n\n\`\`\`ts\n${lines(40)}\n\`\`\`\nThat is all.`;
    const f = fold(code)!;
    expect(f.head).toBe(`Here it is:\n\n\`\`\`ts\n${lines(9)}\n\`\`\``);
    expect(f.rest.startsWith('```ts\n10........\n')).toBe(true);
    expect(f.cut).toBe('line');
    // A block closed before the cut is left as it is.
    const closed = fold(`~~~\ncode\n~~~\n${lines(40)}`)!;
    expect(closed.head.endsWith('9.........')).toBe(true);
    expect(closed.rest.startsWith('10........')).toBe(true);
  });

  it('gives a rest too long to render as Markdown as it is', () => {
    const big = `\`\`\`\n${lines(MARKDOWN_REST_CHARS / 10 + 20)}\n\`\`\``;
    const f = fold(big)!;
    expect(f.plain).toBe(true);
    expect(f.rest.startsWith('12........\n')).toBe(true);
    expect(fold(lines(40))!.plain).toBe(false);
  });
});
