/**
 * Where a request first differs from a recorded one, for the `no_recording` message:
 * the request line, or the first JSON path (in sorted-key order) whose values differ.
 * Both sides are canonical texts (mockCanonical): "METHOD host/path\n<stable JSON>".
 */
export function firstDifference(recorded: string, got: string): string {
  const [recLine = '', recBody = ''] = splitCanonical(recorded);
  const [gotLine = '', gotBody = ''] = splitCanonical(got);
  if (recLine !== gotLine) return `request line: recorded ${clip(recLine)}, got ${clip(gotLine)}`;
  const a = parse(recBody);
  const b = parse(gotBody);
  if (a === undefined || b === undefined) return recBody === gotBody ? 'none' : 'body (not JSON) differs';
  const found = walk(a, b, '');
  return found ?? 'none';
}

/** How many leading characters two canonical texts share: the nearest recording has the most. */
export function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function walk(a: unknown, b: unknown, path: string): string | undefined {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = walk(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    if (a.length !== b.length) return `${path || 'body'}: recorded ${a.length} items, got ${b.length}`;
    return undefined;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in a)) return `${p}: not recorded, got ${show(b[k])}`;
      if (!(k in b)) return `${p}: recorded ${show(a[k])}, missing`;
      const d = walk(a[k], b[k], p);
      if (d) return d;
    }
    return undefined;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  return `${path || 'body'}: recorded ${show(a)}, got ${show(b)}${redactedWhenRecorded(a, b) ? ' (redacted by a policy when recorded: run the mock with the same --policy)' : ''}`;
}

/** A policy's redaction placeholder (redact-body.ts): `[REDACTED:email:1]`. */
const PLACEHOLDER = /\[REDACTED:[\w-]+:\d+\]/;

/** The recorded text holds a redaction placeholder the live one does not: the policy changed it before it was archived. */
function redactedWhenRecorded(recorded: unknown, got: unknown): boolean {
  return typeof recorded === 'string' && typeof got === 'string' && PLACEHOLDER.test(recorded) && !PLACEHOLDER.test(got);
}

function splitCanonical(text: string): [string, string] {
  const nl = text.indexOf('\n');
  return nl < 0 ? [text, ''] : [text.slice(0, nl), text.slice(nl + 1)];
}

function parse(text: string): unknown {
  if (text === '' || text.startsWith('sha256:')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function show(v: unknown): string {
  return clip(JSON.stringify(v) ?? 'undefined');
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
