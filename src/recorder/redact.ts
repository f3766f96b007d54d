import type { RawHeaders } from '../exchange.js';

/** What every secret is replaced with, in headers, paths and bodies alike. */
export const REDACTED = '[REDACTED]';

/** Headers whose whole value is a credential (lower-case; lookups lower-case the name). */
export const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'proxy-authorization',
  'cookie',
  'set-cookie',
]);

/** Query parameters that carry credentials (Gemini's `?key=`, OAuth tokens, …). */
const SECRET_QUERY_PARAMS: ReadonlySet<string> = new Set(['key', 'api_key', 'api-key', 'apikey', 'access_token', 'token']);

/**
 * Where a key may start: not inside a word, but right after an escape that ends in
 * letters or digits — JSON/C (`\t`, `\n`, `\u0022`) or URL (`%22`, `%3D`).
 */
const KEY_START = '(?:(?<![A-Za-z0-9_-])|(?<=\\\\[bfnrt])|(?<=\\\\u[0-9A-Fa-f]{4})|(?<=%[0-9A-Fa-f]{2}))';

/**
 * Key formats: a literal prefix that every key of the format starts with, then the
 * key material. The prefixes also make the quick pre-check below, so the two cannot
 * drift apart.
 */
const KEY_FORMATS: readonly { prefix: string; rest: string }[] = [
  { prefix: 'sk-', rest: '[A-Za-z0-9_-]{20,}' }, // OpenAI (sk-, sk-proj-, sk-svcacct-), Anthropic (sk-ant-…), OpenRouter (sk-or-…)
  { prefix: 'AIza', rest: '[0-9A-Za-z_-]{35,}' }, // Google API keys
  { prefix: 'gsk_', rest: '[A-Za-z0-9]{20,}' }, // Groq
  { prefix: 'xai-', rest: '[A-Za-z0-9]{20,}' }, // xAI
  { prefix: 'hf_', rest: '[A-Za-z0-9]{20,}' }, // Hugging Face
];
/** Group 1 of KEY_PATTERN, so the scheme stays readable while the token goes. */
const BEARER_PREFIX = '[Bb][Ee][Aa][Rr][Ee][Rr][ \\t]+';
const BEARER_TOKEN = '[A-Za-z0-9._~+/=-]{20,}';

/**
 * One combined pattern so a body is scanned once, however many key formats we know.
 * The leading lookbehind keeps us from matching inside words ("task-…", "risk-…").
 * Every alternative demands ≥ 20 characters of key material, so ordinary text such
 * as "sk-learn" or "hf_hub" survives; the trade-off is that a long hyphenated word
 * starting "sk-" is redacted too, which is the safe direction to err.
 */
const KEY_PATTERN = new RegExp(
  `${KEY_START}(?:${[...KEY_FORMATS.map((f) => f.prefix + f.rest), `(${BEARER_PREFIX})${BEARER_TOKEN}`].join('|')})`,
  'g',
);

/**
 * Every KEY_PATTERN match contains one of these literals. Most text (prompts, answers,
 * header values) contains none, and this check is ~30× cheaper than KEY_PATTERN,
 * whose leading lookbehinds must be tried at every position.
 */
const KEY_PREFIXES = [...KEY_FORMATS.map((f) => f.prefix), BEARER_PREFIX].join('|');
const KEY_HINT = new RegExp(KEY_PREFIXES);

/**
 * A capture cut at the size limit can end in the middle of a key, leaving less
 * material than KEY_PATTERN requires; at the very end of truncated text any
 * key prefix goes, however short.
 */
const KEY_TAIL_PATTERN = new RegExp(`${KEY_START}(?:${KEY_PREFIXES})[A-Za-z0-9._~+/=-]*$`);

/** Same header list, same order and names; credential values replaced. */
export function redactHeaders(raw: RawHeaders): RawHeaders {
  const out: RawHeaders = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    out[i] = name;
    if (i + 1 < raw.length) {
      // Non-secret headers may still carry a key (custom auth headers, debug headers).
      out[i + 1] = SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : redactText(raw[i + 1]!);
    }
  }
  return out;
}

/** Redacts credential query parameters, leaving every other byte of the path as sent. */
export function redactPath(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return redactText(path);
  const query = path.slice(q + 1).replace(/(^|[&;])([^=&;]*)=([^&;#]*)/g, (whole, sep: string, name: string) => {
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // A malformed escape is compared as written.
    }
    return SECRET_QUERY_PARAMS.has(decoded.toLowerCase()) ? `${sep}${name}=${REDACTED}` : whole;
  });
  // Keys can also sit in path segments or under other parameter names.
  return redactText(path.slice(0, q + 1) + query);
}

/** Replaces key-shaped strings anywhere in a text (request bodies, model output, …). */
export function redactText(text: string): string {
  if (!KEY_HINT.test(text)) return text;
  return text.replace(KEY_PATTERN, (_match, bearer: string | undefined) => (bearer ? bearer + REDACTED : REDACTED));
}

/** Text redaction: the built-in key patterns, then the operator's own (--redact). */
export type TextRedactor = (text: string) => string;

export function makeRedactor(extra: readonly RegExp[] = []): TextRedactor {
  if (extra.length === 0) return redactText;
  const global = extra.map((re) => new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`));
  return (text) => global.reduce((out, re) => out.replace(re, REDACTED), redactText(text));
}

/** redactText for a capture that was cut short: also removes a key prefix left at the end. */
export function redactTruncatedText(text: string): string {
  return redactText(text).replace(KEY_TAIL_PATTERN, REDACTED);
}
