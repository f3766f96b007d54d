/**
 * The small text fields of a multipart/form-data body (an image edit's or a transcription's
 * `model`, `prompt`, `stream`), read without copying the file parts: a part with a
 * filename is skipped, whatever its size. Pure; never throws; the body is never changed
 * (it goes upstream as the client sent it).
 */

/** Longest field value kept: a prompt, not a file sent without a filename. */
const MAX_VALUE_BYTES = 64 * 1024;

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
      // The value ends before the CRLF that precedes the next delimiter.
      const valueEnd = end >= 2 && body[end - 2] === 0x0d && body[end - 1] === 0x0a ? end - 2 : end;
      if (name !== undefined && names.includes(name) && fields[name] === undefined && valueEnd - (headEnd + 4) <= MAX_VALUE_BYTES) {
        fields[name] = body.toString('utf8', headEnd + 4, Math.max(headEnd + 4, valueEnd));
      }
    }
    at = next;
  }
  return fields;
}

/** The field name of a part's headers; undefined for a file part (it has a filename) or none. */
function fieldName(head: string): string | undefined {
  const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(head)?.[1];
  if (disposition === undefined || /\bfilename\*?\s*=/i.test(disposition)) return undefined;
  const match = /\bname\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(disposition);
  return match?.[1] ?? match?.[2];
}
