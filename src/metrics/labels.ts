/**
 * Label values for the Prometheus metrics, kept bounded: every distinct label value
 * is a new time series in the scraper's database, and model and tool names come
 * from the traffic (a client can send any model string). Values are normalised
 * (lower case, a safe alphabet, a length cap) and each label admits its first
 * `cap` distinct values; later new ones are reported as "other".
 */

/** What a label reads when the exchange had no value for it (no model named, no tool recognised). */
export const NONE = 'none';
/** What a value past the label's cap is reported as. */
export const OTHER = 'other';
const MAX_LENGTH = 64;

/** Lower case, runs of characters outside [a-z0-9._:/@-] as one `_`, at most 64 characters; empty → "none". */
export function normaliseLabel(value: string | undefined): string {
  if (value === undefined) return NONE;
  const text = value.trim().toLowerCase().replace(/[^a-z0-9._:/@-]+/g, '_').slice(0, MAX_LENGTH);
  return text === '' || text === '_' ? NONE : text;
}

/** The distinct values one label has admitted; past the cap, new values map to "other". */
export class BoundedLabel {
  readonly #seen = new Set<string>();

  constructor(readonly cap: number) {}

  value(raw: string | undefined): string {
    const label = normaliseLabel(raw);
    if (this.#seen.has(label)) return label;
    if (this.#seen.size >= this.cap) return OTHER;
    this.#seen.add(label);
    return label;
  }

  get size(): number {
    return this.#seen.size;
  }
}

/** `2xx`, `4xx`, … from an HTTP status; `none` when no answer reached the client (status 0 or absent). */
export function statusClass(status: number | undefined): string {
  if (status === undefined || status < 100 || status > 599) return NONE;
  return `${Math.floor(status / 100)}xx`;
}
