/**
 * Plain-text tables for the read-side commands: columns sized to their content, the
 * flexible columns cut with "…" so a row fits the terminal, numbers right-aligned,
 * header bold and dim separators when colour is on (a TTY without NO_COLOR).
 */
import stringWidth from 'string-width';
import { colour, terminalSafe } from './format.js';

export interface Column {
  header: string;
  align?: 'left' | 'right';
  /** May be shortened to fit the width (models, paths, text); others keep their size. */
  flexible?: boolean;
  /** The narrowest a flexible column is cut to (8 unless said): a row that still does not fit wraps. */
  min?: number;
}

export interface TableOptions {
  /** Terminal width; undefined → no limit (output to a pipe or file). */
  width?: number;
  color?: boolean;
}

const GAP = '  ';

export function renderTable(columns: Column[], cells: string[][], options: TableOptions = {}): string {
  // Cells hold what clients sent (models, tools, users, captured text): never a raw control character.
  const rows = cells.map((r) => r.map(terminalSafe));
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  if (options.width !== undefined) shrink(columns, widths, options.width);
  const line = (cells: string[]): string => columns.map((c, i) => pad(cut(cells[i] ?? '', widths[i]!), widths[i]!, c.align ?? 'left')).join(GAP).trimEnd();
  const header = line(columns.map((c) => c.header));
  const out = [options.color ? bold(header) : header];
  for (const row of rows) out.push(line(row));
  return terminalSafe(`${out.join('\n')}\n`);
}

/** Takes width from the flexible columns, widest first, until the row fits (each keeps at least its min). */
function shrink(columns: Column[], widths: number[], width: number): void {
  const total = (): number => widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1);
  const least = (c: Column): number => c.min ?? 8;
  while (total() > width) {
    let widest = -1;
    columns.forEach((c, i) => {
      if (c.flexible && widths[i]! > least(c) && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    });
    if (widest < 0) return;
    widths[widest] = Math.max(least(columns[widest]!), widths[widest]! - (total() - width));
  }
}

/** A fixed-width column outside a table (tail's lines): cut with "…" or padded to `width`. */
export function fitted(text: string, width: number): string {
  return pad(cut(text, width), width, 'left');
}

function cut(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  // Whole characters as the terminal draws them (an emoji sequence, a letter and its accent), as many as leave room for the "…".
  let kept = '';
  let used = 0;
  for (const { segment } of GRAPHEMES.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width - 1) break;
    kept += segment;
    used += w;
  }
  return `${kept}…`;
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/**
 * Terminal columns: CJK and emoji take two, combining marks and zero-width joiners none,
 * escape sequences (colours) none. Counting code points misaligned every column after a
 * model or tool name in Chinese or with an emoji, and let such rows overflow the terminal.
 */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** Colours for text that is printed through terminalSafe (which makes them escape sequences). */
export function bold(text: string): string {
  return `${colour(1)}${text}${colour(22)}`;
}

export function dim(text: string): string {
  return `${colour(2)}${text}${colour(22)}`;
}

export function red(text: string): string {
  return `${colour(31)}${text}${colour(39)}`;
}

export function cyan(text: string): string {
  return `${colour(36)}${text}${colour(39)}`;
}

/** Colour on a terminal unless NO_COLOR is set (no-color.org); FORCE_COLOR=1 forces it on. */
export function useColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.FORCE_COLOR === '1') return true;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

export function terminalWidth(stream: NodeJS.WriteStream): number | undefined {
  return stream.isTTY ? stream.columns : undefined;
}
