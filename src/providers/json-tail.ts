import { asObject, parseJson } from './json.js';

/**
 * Reading the usage of a JSON answer from its last bytes alone, when the body was cut at the
 * capture limit: providers put it at the end (an image answer's `usage` after megabytes of
 * base64, Gemini's `usageMetadata` after its candidates). Pure text work, no JSON parse of
 * the body: the tail does not start at a value's beginning.
 */

const USAGE_KEYS = ['usage', 'usageMetadata'] as const;
const MODEL_KEYS = ['model', 'modelVersion'] as const;

/**
 * A small JSON body holding just the last usage object found in `tail` (under its own key)
 * and the model the tail names, for the provider's own reducer to read; undefined when no
 * whole usage object is in it.
 */
export function usageFromJsonTail(tail: string): string | undefined {
  let found: { key: string; start: number; value: unknown } | undefined;
  for (const key of USAGE_KEYS) {
    const at = lastKeyValue(tail, key, '{');
    if (at && (!found || at.start > found.start)) found = { key, ...at };
  }
  if (!found) return undefined;
  const body: Record<string, unknown> = { [found.key]: found.value };
  for (const key of MODEL_KEYS) {
    const model = lastKeyValue(tail, key, '"');
    if (model && typeof model.value === 'string') body[key] = model.value;
  }
  return JSON.stringify(body);
}

/**
 * The value of the last occurrence of `"key":` in `text` that looks like an object's key
 * (after `{` or `,`: a key inside a string has its quotes escaped) and whose value starts
 * with `opener` and reads whole. Earlier occurrences are tried when a later one is cut.
 */
function lastKeyValue(text: string, key: string, opener: '{' | '"'): { start: number; value: unknown } | undefined {
  const quoted = `"${key}"`;
  for (let at = text.lastIndexOf(quoted); at >= 0; at = at === 0 ? -1 : text.lastIndexOf(quoted, at - 1)) {
    if (!/[{,]/.test(previousNonSpace(text, at))) continue;
    let i = skipSpace(text, at + quoted.length);
    if (text[i] !== ':') continue;
    i = skipSpace(text, i + 1);
    if (text[i] !== opener) continue;
    const raw = opener === '{' ? balancedObjectAt(text, i) : stringAt(text, i);
    if (raw === undefined) continue;
    const value = parseJson(raw);
    if (opener === '{' ? asObject(value) : typeof value === 'string') return { start: at, value };
  }
  return undefined;
}

/** The JSON object starting at `start` (a `{`), through its matching `}`: strings (with their escapes) skipped; undefined when it is cut. */
export function balancedObjectAt(text: string, start: number): string | undefined {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      i = end;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return text.slice(start, i + 1);
    }
  }
  return undefined;
}

function stringAt(text: string, start: number): string | undefined {
  const end = stringEnd(text, start);
  return end < 0 ? undefined : text.slice(start, end + 1);
}

/** Index of the quote closing the string that opens at `start`, -1 when the text ends first. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') return i;
  }
  return -1;
}

function previousNonSpace(text: string, at: number): string {
  let i = at - 1;
  while (i >= 0 && isSpace(text[i]!)) i--;
  return i >= 0 ? text[i]! : '';
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text[i]!)) i++;
  return i;
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\n' || c === '\r' || c === '\t';
}
