import { memberSpan, skipValue, skipWs } from './model-rewrite.js';

/**
 * A route's model for Google's model-in-path APIs (pure). The Gemini API
 * (`/v1beta/models/{m}:generateContent`, `:embedContent`, `:batchEmbedContents`…) and
 * Vertex AI (`…/publishers/{p}/models/{m}:…`) read the model from the path, so a
 * rewrite changes that segment; a body that names the model too (`model`, and
 * batchEmbedContents' `requests[].model`, which Google requires to match the path)
 * is changed to the same model, keeping its `models/…` resource form.
 */

/** Where the model segment of a Google model path sits (before any query), or undefined. */
export function googleModelSegment(path: string): { start: number; end: number } | undefined {
  const q = path.search(/[?#]/);
  const bare = q < 0 ? path : path.slice(0, q);
  const m = /\/models\/([^/:]+):[A-Za-z]+$/.exec(bare);
  if (!m) return undefined;
  const start = m.index + '/models/'.length;
  return { start, end: start + m[1]!.length };
}

/** The path with the model segment replaced (as a path segment: `@` of Vertex ids kept as is). */
export function rewriteGooglePath(path: string, segment: { start: number; end: number }, model: string): string {
  const bare = model.replace(/^models\//, '');
  return path.slice(0, segment.start) + encodeURIComponent(bare).replace(/%40/g, '@') + path.slice(segment.end);
}

/**
 * The body with every model it names replaced by splicing bytes (everything else as
 * the client wrote it): the top-level `model` and each `requests[i].model` string.
 * Undefined when the body names none (generateContent's usual body): it goes as sent.
 */
export function rewriteGoogleBody(body: Buffer, model: string): Buffer | undefined {
  const t = body.toString('utf8');
  try {
    JSON.parse(t);
  } catch {
    return undefined;
  }
  const root = skipWs(t, 0);
  const spans: Array<{ start: number; end: number }> = [];
  const top = memberSpan(t, root, 'model');
  if (top && t[top.start] === '"') spans.push(top);
  const requests = memberSpan(t, root, 'requests');
  if (requests && t[requests.start] === '[') {
    let i = skipWs(t, requests.start + 1);
    while (i < requests.end && t[i] !== ']') {
      const end = skipValue(t, i);
      if (end < 0) return undefined;
      const inner = memberSpan(t, i, 'model');
      if (inner && t[inner.start] === '"') spans.push(inner);
      i = skipWs(t, end);
      if (t[i] === ',') i = skipWs(t, i + 1);
    }
  }
  if (spans.length === 0) return undefined;
  let out = t;
  // From the last span back, so earlier offsets stay right.
  for (const span of spans.sort((a, b) => b.start - a.start)) {
    const before = JSON.parse(t.slice(span.start, span.end)) as string;
    out = out.slice(0, span.start) + JSON.stringify(asResource(before, model)) + out.slice(span.end);
  }
  return Buffer.from(out, 'utf8');
}

/** `models/text-embedding-004` → `models/NEW` (a full `…/models/X` name keeps its prefix); a bare name → NEW. */
function asResource(before: string, model: string): string {
  const bare = model.replace(/^models\//, '');
  const at = before.lastIndexOf('models/');
  return at < 0 ? bare : before.slice(0, at + 'models/'.length) + bare;
}
