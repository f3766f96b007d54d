/** A Content-Type's media type, lower-cased, without its parameters (`Application/JSON; charset=utf-8` → `application/json`); '' for none. */
export function mediaType(contentType: string | undefined): string {
  return contentType ? (contentType.split(';')[0] ?? '').trim().toLowerCase() : '';
}
