/** Formats an image answer may be given in, as the browser shows them (nothing else becomes a data: URL). */
const MIME: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', jpg: 'image/jpeg', webp: 'image/webp' };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The images an image generation or edit answered with, as data: URLs to show: each
 * `data[].b64_json` of a JSON answer, or a stream's `*.completed` image (its last partial
 * one when it was cut before). An image answered by URL is not fetched: the page loads
 * nothing from elsewhere, and such a URL is the provider's, signed and short-lived.
 */
export function answerImages(body: string | null, events: readonly { data: string }[]): string[] {
  if (events.length > 0) {
    const images = events.map((e) => parse(e.data)).filter((d) => typeof d?.b64_json === 'string');
    const done = images.filter((d) => String(d!.type).endsWith('.completed'));
    return (done.length > 0 ? done : images.slice(-1)).flatMap((d) => dataUrl(d!.b64_json, d!.output_format));
  }
  const answer = body === null ? null : parse(body);
  if (!answer || !Array.isArray(answer.data)) return [];
  return (answer.data as unknown[]).flatMap((d) => (d && typeof d === 'object' ? dataUrl((d as Record<string, unknown>).b64_json, answer.output_format) : []));
}

function dataUrl(b64: unknown, format: unknown): string[] {
  const mime = MIME[typeof format === 'string' ? format : 'png'];
  if (!mime || typeof b64 !== 'string' || !BASE64.test(b64)) return [];
  return [`data:${mime};base64,${b64}`];
}

function parse(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
