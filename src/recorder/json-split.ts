import { isAscii, isUtf8 } from 'node:buffer';
import { parseTree, type Node, type ParseError } from 'jsonc-parser';

/**
 * Cuts a JSON request body into the pieces agents resend every turn, so the
 * archive can store each piece once (body-parts.ts) and still give back the
 * exact bytes. Pure: no hashing, no storage.
 *
 * The skeleton is the body with each part's byte range replaced by one NUL byte.
 * Valid JSON never holds a raw NUL (outside strings it is not whitespace, inside
 * strings control characters must be escaped), so a body with a NUL anywhere is
 * refused and the marker needs no escaping.
 */

export interface SplitBody {
  skeleton: Buffer;
  parts: Buffer[];
}

/**
 * Top-level keys whose value is resent turn after turn: Anthropic (`system`,
 * `messages`, `tools`), OpenAI Chat (`messages`, `tools`), Responses (`input`,
 * `instructions`, `tools`), Gemini (`contents`, `tools`, `systemInstruction`).
 * An array value gives one part per element; a string or object value one part
 * when long. Gemini's `functionDeclarations` are not split further: the whole
 * `tools` element is resent unchanged, so one part already dedupes it.
 */
const SPLIT_KEYS = new Set(['messages', 'input', 'contents', 'tools', 'system', 'instructions', 'systemInstruction']);

/** A whole string/object value becomes a part from this size (bytes of JSON text). */
export const LONG_VALUE_BYTES = 1024;
/** Smaller array elements stay in the skeleton: a reference (16-byte hash + a row) costs about as much. */
export const MIN_PART_BYTES = 48;

const HOLE = 0;

export function splitJsonBody(bytes: Buffer): SplitBody | undefined {
  if (bytes.length === 0 || bytes.includes(HOLE) || bytes[0] === 0xef) return undefined; // empty, NUL, BOM
  const ascii = isAscii(bytes);
  // Invalid UTF-8 decodes to U+FFFD, and offsets in the text would not be offsets in the bytes.
  if (!ascii && !isUtf8(bytes)) return undefined;
  const text = bytes.toString('utf8');
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length > 0 || root === undefined || root.type !== 'object') return undefined;
  // Trailing text, trailing commas, bad escapes and raw control characters all come back as errors.
  const ranges = partRanges(root, text);
  if (ranges.length === 0) return undefined;
  const byteRanges = ascii ? ranges : toByteOffsets(text, ranges);
  const parts: Buffer[] = [];
  const pieces: Buffer[] = [];
  let at = 0;
  for (const [start, end] of byteRanges) {
    pieces.push(bytes.subarray(at, start), Buffer.of(HOLE));
    parts.push(Buffer.from(bytes.subarray(start, end)));
    at = end;
  }
  pieces.push(bytes.subarray(at));
  return { skeleton: Buffer.concat(pieces), parts };
}

/** Puts each part back in place of its NUL; throws when the counts disagree (a damaged archive, never silence). */
export function joinJsonBody(skeleton: Buffer, parts: readonly Buffer[]): Buffer {
  const pieces: Buffer[] = [];
  let at = 0;
  let index = 0;
  for (;;) {
    const hole = skeleton.indexOf(HOLE, at);
    if (hole === -1) break;
    const part = parts[index++];
    if (part === undefined) throw new Error(`skeleton has more holes than the ${parts.length} parts given`);
    pieces.push(skeleton.subarray(at, hole), part);
    at = hole + 1;
  }
  if (index !== parts.length) throw new Error(`skeleton has ${index} holes for ${parts.length} parts`);
  pieces.push(skeleton.subarray(at));
  return Buffer.concat(pieces);
}

type Range = [start: number, end: number];

/** String-offset ranges of the parts, in document order, never overlapping. */
function partRanges(root: Node, text: string): Range[] {
  const ranges: Range[] = [];
  for (const property of root.children ?? []) {
    const [key, value] = property.children ?? [];
    if (key === undefined || value === undefined || !SPLIT_KEYS.has(key.value as string)) continue;
    if (value.type === 'array') {
      for (const element of value.children ?? []) elementRanges(element, text, ranges);
    } else if ((value.type === 'string' || value.type === 'object') && value.length >= LONG_VALUE_BYTES) {
      ranges.push([value.offset, value.offset + value.length]);
    }
  }
  return ranges;
}

/**
 * An array element minus its cache markers and its closing brackets. Anthropic
 * clients put `cache_control` on the latest message only, so a message is sent
 * once with the marker and then every later turn without it; cutting the marker
 * member (with its comma) and the closers out into the skeleton makes both
 * versions the same part. Bedrock's `cachePoint` blocks are not cut (yet).
 */
function elementRanges(element: Node, text: string, ranges: Range[]): void {
  const end = element.offset + element.length;
  let trimmedEnd = end;
  while (trimmedEnd > element.offset && CLOSERS.has(text.charCodeAt(trimmedEnd - 1))) trimmedEnd--;
  let cursor = element.offset;
  const push = (from: number, to: number): void => {
    if (to - from >= MIN_PART_BYTES) ranges.push([from, to]);
  };
  for (const marker of cacheMarkers(element)) {
    const siblings = marker.parent?.children ?? [];
    const previous = siblings[siblings.indexOf(marker) - 1];
    const cutStart = previous === undefined ? marker.offset : previous.offset + previous.length;
    if (cutStart < cursor) continue;
    push(cursor, cutStart);
    cursor = marker.offset + marker.length;
  }
  push(cursor, Math.max(cursor, trimmedEnd));
}

const CLOSERS = new Set([0x7d, 0x5d, 0x20, 0x09, 0x0a, 0x0d]); // } ] and JSON whitespace

/** `cache_control` members anywhere inside a node, in document order. */
function cacheMarkers(node: Node): Node[] {
  const found: Node[] = [];
  const walk = (at: Node): void => {
    if (at.type === 'property' && at.children?.[0]?.value === 'cache_control') found.push(at);
    for (const child of at.children ?? []) walk(child);
  };
  walk(node);
  return found;
}

/** JS string offsets (UTF-16 code units) to UTF-8 byte offsets, one pass over the sorted ranges. */
function toByteOffsets(text: string, ranges: readonly Range[]): Range[] {
  let stringAt = 0;
  let byteAt = 0;
  const advance = (to: number): number => {
    byteAt += Buffer.byteLength(text.slice(stringAt, to), 'utf8');
    stringAt = to;
    return byteAt;
  };
  return ranges.map(([start, end]) => [advance(start), advance(end)]);
}
