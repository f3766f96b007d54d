/**
 * When a turn's text is long enough to push the rest of the session far down (a pasted
 * file, a long answer), the turn shows its head and a toggle for the rest. Pure.
 */
export const FOLD_LINES = 30;
export const FOLD_CHARS = 4000;
/** What a folded text shows: well under the thresholds, so folding always saves a screen. */
const HEAD_LINES = 12;
const HEAD_CHARS = 1500;
/**
 * Past this size the rest is plain text, not Markdown: it is in the page from the start,
 * and a 1.4 MB pasted file rendered as Markdown took a session ~3 s more to show (as text, none).
 */
export const MARKDOWN_REST_CHARS = 100_000;

export interface Folded {
  /** The text's first lines (at most HEAD_LINES, HEAD_CHARS), cut at a line's or a word's end where one is near. */
  head: string;
  /**
   * The text after the head, as Markdown of its own: head and rest are rendered apart, so
   * the rest is in the page (hidden until found) while folded, and unfolding it moves nothing.
   */
  rest: string;
  /** The rest is too long to render as Markdown: shown as it is (MARKDOWN_REST_CHARS). */
  plain: boolean;
  /**
   * Where the cut fell, so the open text reads as one: between blocks (a blank line), at a
   * line's end inside a paragraph or a code block, or inside a line at a word's end or a
   * long token's middle.
   */
  cut: 'block' | 'line' | 'word' | 'char';
  /** The toggle's words: `show all (80 lines)`, or by characters when the lines are few and long. */
  label: string;
}

/** The folded form of a long text; null when it is short enough to show whole. */
export function fold(text: string): Folded | null {
  const lines = text.split('\n');
  if (lines.length <= FOLD_LINES && text.length <= FOLD_CHARS) return null;
  let head = lines.slice(0, HEAD_LINES).join('\n');
  let restAt = head.length + 1; // past the line end
  let inLine = false;
  if (head.length > HEAD_CHARS) {
    // A line's end, else a word's, past the first third keeps the cut tidy; one long token (minified code) is cut where it must.
    const lineEnd = head.lastIndexOf('\n', HEAD_CHARS);
    const wordEnd = head.lastIndexOf(' ', HEAD_CHARS);
    let at = lineEnd > HEAD_CHARS / 3 ? lineEnd : wordEnd > HEAD_CHARS / 3 ? wordEnd : HEAD_CHARS;
    if (/[\uD800-\uDBFF]/.test(head.charAt(at - 1))) at -= 1; // never half an emoji
    head = head.slice(0, at);
    restAt = /[\n ]/.test(text.charAt(at)) ? at + 1 : at;
    inLine = text.charAt(at) !== '\n';
  }
  let rest = text.slice(restAt);
  // A blank line on either side of the cut is a paragraph's end: the rest keeps its gap.
  const betweenBlocks = /(^|\n)[ \t]*$/.test(head) || /^[ \t]*(\n|$)/.test(rest);
  let cut: Folded['cut'] = betweenBlocks ? 'block' : !inLine ? 'line' : text.charAt(restAt - 1) === ' ' ? 'word' : 'char';
  head = head.trimEnd();
  const plain = rest.length > MARKDOWN_REST_CHARS;
  // A code block cut in two is closed in the head and opened again, in its language, in the rest.
  const fence = openFence(head);
  if (fence) {
    head += `\n${fence.marker}`;
    if (!plain) rest = `${fence.line}\n${rest}`;
    cut = 'line';
  }
  const label = lines.length > FOLD_LINES ? `show all (${lines.length.toLocaleString('en-US')} lines)` : `show all (${text.length.toLocaleString('en-US')} characters)`;
  return { head, rest, plain, cut, label };
}

/** The fenced code block (``` or ~~~) still open at the end of a Markdown text, if one is. */
function openFence(markdown: string): { line: string; marker: string } | null {
  let open: { line: string; marker: string } | null = null;
  for (const line of markdown.split('\n')) {
    const m = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (!m) continue;
    const marker = m[1]!;
    if (!open) {
      if (!(marker[0] === '`' && m[2]!.includes('`'))) open = { line, marker };
    } else if (marker[0] === open.marker[0] && marker.length >= open.marker.length && m[2]!.trim() === '') {
      open = null;
    }
  }
  return open;
}
