/**
 * When a turn's text is long enough to push the rest of the session far down (a pasted
 * file, a long answer), the turn shows its head and a toggle for the rest. Pure.
 */
export const FOLD_LINES = 30;
export const FOLD_CHARS = 4000;
/** What a folded text shows: well under the thresholds, so folding always saves a screen. */
const HEAD_LINES = 12;
const HEAD_CHARS = 1500;

export interface Folded {
  /** The text's first lines (at most HEAD_LINES, HEAD_CHARS), cut at a line's or a word's end where one is near. */
  head: string;
  /** The toggle's words: `show all (80 lines)`, or by characters when the lines are few and long. */
  label: string;
}

/** The folded form of a long text; null when it is short enough to show whole. */
export function fold(text: string): Folded | null {
  const lines = text.split('\n');
  if (lines.length <= FOLD_LINES && text.length <= FOLD_CHARS) return null;
  let head = lines.slice(0, HEAD_LINES).join('\n');
  if (head.length > HEAD_CHARS) {
    // A line's end, else a word's, past the first third keeps the cut tidy; one long token (minified code) is cut where it must.
    const lineEnd = head.lastIndexOf('\n', HEAD_CHARS);
    const wordEnd = head.lastIndexOf(' ', HEAD_CHARS);
    let cut = lineEnd > HEAD_CHARS / 3 ? lineEnd : wordEnd > HEAD_CHARS / 3 ? wordEnd : HEAD_CHARS;
    if (/[\uD800-\uDBFF]/.test(head.charAt(cut - 1))) cut -= 1; // never half an emoji
    head = head.slice(0, cut);
  }
  const label = lines.length > FOLD_LINES ? `show all (${lines.length.toLocaleString('en-US')} lines)` : `show all (${text.length.toLocaleString('en-US')} characters)`;
  return { head: head.trimEnd(), label };
}
