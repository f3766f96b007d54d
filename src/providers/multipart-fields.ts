/**
 * The small text fields of a multipart/form-data body (an image edit's or a transcription's
 * `model`, `prompt`, `stream`), read without copying the file parts: a part with a
 * filename is skipped, whatever its size. Pure; never throws; the body is never changed
 * here (policy redaction rewrites a text field's bytes: src/policy/redact-form.ts).
 */

/** Longest field value kept: a prompt, not a file sent without a filename. */
const MAX_VALUE_BYTES = 64 * 1024;

/** Where one text (non-file) part's value lies in the body: bytes [start, end). */
export interface MultipartTextPart {
  name: string;
  start: number;
  end: number;
}

/** The boundary a multipart/form-data Content-Type names, or undefined for any other type. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** The values of the named text fields (the first of each name), as UTF-8. */
export function multipartFields(body: Buffer, contentType: string | undefined, names: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  const boundary = multipartBoundary(contentType);
  if (boundary === undefined) return fields;
  for (const part of multipartTextParts(body, boundary, MAX_VALUE_BYTES)) {
    if (names.includes(part.name) && fields[part.name] === undefined) fields[part.name] = body.toString('utf8', part.start, part.end);
  }
  return fields;
}

/**
 * Every text part of the body, in order, with a value of at most `maxBytes`: a file part
 * (it has a filename) is passed over by searching for the next delimiter, never copied.
 */
export function multipartTextParts(body: Buffer, boundary: string, maxBytes: number): MultipartTextPart[] {
  const parts: MultipartTextPart[] = [];
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const partStart = at + delimiter.length;
    // `--boundary--` closes the body.
    if (body[partStart] === 0x2d && body[partStart + 1] === 0x2d) break;
    const next = body.indexOf(delimiter, partStart);
    const headEnd = body.indexOf('\r\n\r\n', partStart, 'latin1');
    if (headEnd === -1) break;
    const end = next === -1 ? body.length : next;
    if (headEnd < end) {
      const name = fieldName(body.toString('latin1', partStart, headEnd));
      const start = headEnd + 4;
      // The value ends before the CRLF that precedes the next delimiter.
      const valueEnd = Math.max(start, end >= 2 && body[end - 2] === 0x0d && body[end - 1] === 0x0a ? end - 2 : end);
      if (name !== undefined && valueEnd - start <= maxBytes) parts.push({ name, start, end: valueEnd });
    }
    at = next;
  }
  return parts;
}

/**
 * The field name of a part's headers (read as latin1, byte for character); undefined for a
 * file part (it has a filename) or none. A name is sent as UTF-8 (what browsers and
 * FormData do): decoded as such, so a policy decision names the field as the client did.
 */
function fieldName(head: string): string | undefined {
  const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(head)?.[1];
  if (disposition === undefined || /\bfilename\*?\s*=/i.test(disposition)) return undefined;
  const match = /\bname\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(disposition);
  const name = match?.[1] ?? match?.[2];
  // ASCII (every name a provider reads) is the same either way: only decoded when it is not.
  return name === undefined || !/[^\x00-\x7f]/.test(name) ? name : Buffer.from(name, 'latin1').toString('utf8');
}
