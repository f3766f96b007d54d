import { isAscii, isUtf8 } from 'node:buffer';
import { visit } from 'jsonc-parser';

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
 * `instructions`, `tools`), Gemini (`contents`, `tools`, `systemInstruction`;
 * Code Assist wraps them in `request`, looked into as well), Bedrock Converse
 * (`messages`, `system`, `toolConfig`), text Completions (`prompt`, and `suffix`, which
 * GitHub Copilot resends unchanged while the user types before it).
 * An array value gives one part per element; a string or object value one part
 * when long. Gemini's `functionDeclarations` are not split further: the whole
 * `tools` element is resent unchanged, so one part already dedupes it.
 */
const SPLIT_KEYS = new Set(['messages', 'input', 'contents', 'tools', 'system', 'instructions', 'systemInstruction', 'toolConfig', 'prompt', 'suffix']);

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
  const ranges = partRanges(text);
  if (ranges === undefined || ranges.length === 0) return undefined;
  const byteRanges = ascii ? ranges : toByteOffsets(text, ranges);
  const parts: Buffer[] = [];
  const pieces: Buffer[] = [];
  let at = 0;
  for (const [start, end] of byteRanges) {
    pieces.push(bytes.subarray(at, start), Buffer.of(HOLE));
    parts.push(bytes.subarray(start, end)); // views: the caller hashes and stores them before the body goes
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

/** An open object or array while visiting. */
interface Frame {
  start: number;
  /** Properties seen so far (objects). */
  properties: number;
  /** Where the last complete value inside ended: a marker's cut starts there, so its comma goes with it. */
  lastValueEnd: number;
  /** The last property name (in a holder: which key a value belongs to). */
  key: string | undefined;
  /** The root object, or Code Assist's `request` object in it: where the keys below are looked for. */
  holder: boolean;
  /** An array under a split key in a holder: its elements become parts. */
  split: boolean;
  /** Where the cut of a `cache_control` member whose value is being read starts. */
  markerCut: number | undefined;
}

/**
 * String-offset ranges of the parts, in document order, never overlapping;
 * undefined when the text is not one JSON object (JSONC comments and trailing
 * commas, trailing text, bad escapes, raw control characters are all errors).
 * A streaming visit, not parseTree: a 200 KB body visits in about a third of the time.
 *
 * Each array element becomes a part minus its cache markers and closing
 * brackets. Anthropic clients put `cache_control` on the latest message only, so
 * a message is sent once with the marker and then every later turn without it;
 * leaving the marker member (with its comma) and the closers in the skeleton makes
 * both versions the same part. Bedrock's `cachePoint` blocks are not cut (yet).
 */
function partRanges(text: string): Range[] | undefined {
  const ranges: Range[] = [];
  const stack: Frame[] = [];
  let failed = false;
  let rootIsObject = false;
  let element: { cursor: number } | undefined;
  // Every cut inside an element ends before trailing closers and whitespace: the text
  // up to the last scalar is what a marked and an unmarked message have in common.
  const push = (from: number, to: number): void => {
    let end = to;
    while (end > from && CLOSERS.has(text.charCodeAt(end - 1))) end--;
    if (end - from >= MIN_PART_BYTES) ranges.push([from, end]);
  };
  const valueStart = (offset: number, isObject: boolean): void => {
    if (stack.length === 0) rootIsObject = isObject;
    else if (stack[stack.length - 1]?.split === true) element = { cursor: offset };
  };
  const valueEnd = (start: number, end: number, long: boolean): void => {
    const parent = stack[stack.length - 1];
    if (parent === undefined) return;
    parent.lastValueEnd = end;
    if (parent.markerCut !== undefined) {
      if (element !== undefined && parent.markerCut >= element.cursor) {
        push(element.cursor, parent.markerCut);
        element.cursor = end;
      }
      parent.markerCut = undefined;
    }
    if (parent.holder && long && end - start >= LONG_VALUE_BYTES && SPLIT_KEYS.has(parent.key ?? '')) ranges.push([start, end]);
    if (parent.split && element !== undefined) {
      push(element.cursor, end);
      element = undefined;
    }
  };
  const open = (offset: number, isObject: boolean): void => {
    valueStart(offset, isObject);
    const parent = stack[stack.length - 1];
    const holder = isObject && (parent === undefined || (stack.length === 1 && parent.key === 'request'));
    const split = !isObject && parent?.holder === true && SPLIT_KEYS.has(parent.key ?? '');
    stack.push({ start: offset, properties: 0, lastValueEnd: offset, key: undefined, holder, split, markerCut: undefined });
  };
  const close = (offset: number, length: number, isObject: boolean): void => {
    const frame = stack.pop();
    if (frame !== undefined) valueEnd(frame.start, offset + length, isObject);
  };
  visit(text, {
    onObjectBegin: (offset) => open(offset, true),
    onObjectEnd: (offset, length) => close(offset, length, true),
    onArrayBegin: (offset) => open(offset, false),
    onArrayEnd: (offset, length) => close(offset, length, false),
    onObjectProperty: (name, offset) => {
      const frame = stack[stack.length - 1];
      if (frame === undefined) return;
      if (name === 'cache_control' && element !== undefined) frame.markerCut = frame.properties > 0 ? frame.lastValueEnd : offset;
      frame.properties++;
      frame.key = name;
    },
    onLiteralValue: (value: unknown, offset, length) => {
      valueStart(offset, false);
      valueEnd(offset, offset + length, typeof value === 'string');
    },
    onError: () => { failed = true; },
  }, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  return failed || !rootIsObject ? undefined : ranges;
}

const CLOSERS = new Set([0x7d, 0x5d, 0x20, 0x09, 0x0a, 0x0d]); // } ] and JSON whitespace

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
