/**
 * Replaces the top-level `"model"` string of a JSON body by splicing its bytes:
 * everything else (key order, spacing, escapes, numbers) stays as the client wrote
 * it. Returns undefined when the body is not a JSON object with a top-level string
 * `model` (Gemini and Bedrock name the model in the path: not rewritten).
 */
export function rewriteModel(body: Buffer, model: string): Buffer | undefined {
  const text = body.toString('utf8');
  const span = topLevelStringSpan(text, 'model');
  if (!span) return undefined;
  const out = text.slice(0, span.start) + JSON.stringify(model) + text.slice(span.end);
  return Buffer.from(out, 'utf8');
}

const WS = new Set([' ', '\t', '\n', '\r']);

export function skipWs(t: string, i: number): number {
  while (i < t.length && WS.has(t[i]!)) i++;
  return i;
}

/** Index just past the string starting at `i` (a `"`), or -1. */
function skipString(t: string, i: number): number {
  for (let j = i + 1; j < t.length; j++) {
    const c = t[j];
    if (c === '\\') j++;
    else if (c === '"') return j + 1;
  }
  return -1;
}

/** Index just past the JSON value starting at `i`, or -1 when it is cut short. */
export function skipValue(t: string, i: number): number {
  const c = t[i];
  if (c === '"') return skipString(t, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < t.length; j++) {
      const d = t[j];
      if (d === '"') {
        j = skipString(t, j) - 1;
        if (j < 0) return -1;
      } else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < t.length && !WS.has(t[j]!) && t[j] !== ',' && t[j] !== '}' && t[j] !== ']') j++;
  return j === i ? -1 : j;
}

/**
 * Where the value of a top-level key sits, when it is a string. With duplicate
 * keys the last wins, as in JSON.parse (what the provider reads). The text must
 * also parse as JSON: a scanner is never trusted with something that does not.
 */
export function topLevelStringSpan(t: string, key: string): { start: number; end: number } | undefined {
  try {
    const parsed: unknown = JSON.parse(t);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || typeof (parsed as Record<string, unknown>)[key] !== 'string') return undefined;
  } catch {
    return undefined;
  }
  const found = memberSpan(t, skipWs(t, 0), key);
  return found && t[found.start] === '"' ? found : undefined;
}

/**
 * Where the value of `key` sits in the JSON object starting at `i` (last duplicate
 * wins, as in JSON.parse), whatever its type; undefined when there is none or the
 * text is not an object there. The caller has checked that the text parses.
 */
export function memberSpan(t: string, i: number, key: string): { start: number; end: number } | undefined {
  if (t[i] !== '{') return undefined;
  i = skipWs(t, i + 1);
  let found: { start: number; end: number } | undefined;
  while (i < t.length && t[i] !== '}') {
    const keyEnd = skipString(t, i);
    if (t[i] !== '"' || keyEnd < 0) return undefined;
    const name = JSON.parse(t.slice(i, keyEnd)) as string;
    i = skipWs(t, keyEnd);
    if (t[i] !== ':') return undefined;
    const start = skipWs(t, i + 1);
    const end = skipValue(t, start);
    if (end < 0) return undefined;
    if (name === key) found = { start, end };
    i = skipWs(t, end);
    if (t[i] === ',') i = skipWs(t, i + 1);
  }
  return found;
}
