/**
 * Key-shaped strings: the formats of provider API keys and bearer tokens, found
 * anywhere in a text whatever the field. Pure and stateless; the Redactor
 * (redactor.ts) combines this with credential names and the operator's patterns.
 */

/** What every secret is replaced with, in headers, paths, bodies and logs alike. */
export const REDACTED = '[REDACTED]';

/**
 * Key formats: a prefix that every key of the format starts with (a literal, at most
 * with a character class or a group of literals), then the key material. The prefixes also make the quick pre-check below, so the two cannot
 * drift apart. `notAfter`: the characters a key never follows (by default those of a word;
 * a format whose prefix is all letters and digits also excludes base64's `+` and `/`, so a
 * run inside an image's base64 is not taken for a key).
 *
 * A prefix starting with a letter common in prose (r, t, n, y…) doubles what the scan costs over
 * ordinary text (V8's first-character check stops ruling most positions out): Replicate's
 * `r8_`, Tavily's `tvly-`, npm's `npm_`, Stripe's `sk_live_` and Google's access tokens `ya29.`
 * each took the 19 KB body of bench/redact-body.ts from ~44 to ~62 µs, and are left to an
 * operator's --redact patterns (a Google token sent as `Authorization: Bearer` is redacted as a header and as a Bearer token).
 */
const KEY_FORMATS: readonly { prefix: string; rest: string; notAfter?: string }[] = [
  { prefix: 'sk-', rest: '[A-Za-z0-9_-]{20,}' }, // OpenAI (sk-, sk-proj-, sk-svcacct-), Anthropic (sk-ant-…), OpenRouter (sk-or-…), DeepSeek
  { prefix: 'AIza', rest: '[0-9A-Za-z_-]{35,}' }, // Google API keys
  { prefix: 'gsk_', rest: '[A-Za-z0-9]{20,}' }, // Groq
  { prefix: 'xai-', rest: '[A-Za-z0-9]{20,}' }, // xAI
  { prefix: 'hf_', rest: '[A-Za-z0-9]{20,}' }, // Hugging Face
  { prefix: 'fw_', rest: '[A-Za-z0-9]{20,}' }, // Fireworks AI
  { prefix: 'pplx-', rest: '[A-Za-z0-9]{32,}' }, // Perplexity
  { prefix: 'ABSK', rest: '[A-Za-z0-9+/]{60,}={0,2}', notAfter: 'A-Za-z0-9_+/-' }, // Amazon Bedrock API keys (long-term)
  { prefix: 'bedrock-api-key-', rest: '[A-Za-z0-9+/]{40,}={0,2}' }, // Amazon Bedrock API keys (short-term: a presigned URL, base64)
  { prefix: 'lsv2_', rest: '[A-Za-z0-9_]{30,}' }, // LangSmith
  // Not LLM keys, but pasted into prompts and tool results all the time.
  { prefix: 'AKIA', rest: '[0-9A-Z]{16}(?![A-Za-z0-9])' }, // AWS access key id
  { prefix: 'ASIA', rest: '[0-9A-Z]{16}(?![A-Za-z0-9])' }, // AWS temporary access key id
  { prefix: 'gh[pousr]_', rest: '[A-Za-z0-9]{36,}' }, // GitHub tokens
  { prefix: 'glpat-', rest: '[A-Za-z0-9_-]{20,}' }, // GitLab personal access tokens
  { prefix: 'xox[abposr]-', rest: '[A-Za-z0-9-]{10,}' }, // Slack tokens
];
const BEARER_PREFIX = '[Bb][Ee][Aa][Rr][Ee][Rr][ \\t]+';
const BEARER_TOKEN = '[A-Za-z0-9._~+/=-]{20,}';

/**
 * Where a key may start: not inside a word, but right after an escape that ends in
 * letters or digits — JSON/C (`\t`, `\n`, `\u0022`) or URL (`%22`, `%3D`). Written as
 * lookbehinds placed AFTER the prefix (covering prefix and what precedes it), so every
 * alternative of KEY_PATTERN starts with a literal: the regex engine then skips ahead
 * to candidate positions instead of evaluating four lookbehinds at every character
 * ("task-", "disk-" make the pre-check pass in ordinary text; a 19 KB body took
 * 290 µs with the lookbehinds first, 32 µs this way).
 */
function startsHere(prefix: string, notAfter = 'A-Za-z0-9_-'): string {
  return `(?:(?<![${notAfter}]${prefix})|(?<=\\\\[bfnrt]${prefix})|(?<=\\\\u[0-9A-Fa-f]{4}${prefix})|(?<=%[0-9A-Fa-f]{2}${prefix}))`;
}

/**
 * One combined pattern so a text is scanned once, however many key formats we know.
 * Every alternative demands ≥ 20 characters of key material, so ordinary text such
 * as "sk-learn" or "hf_hub" survives; the trade-off is that a long hyphenated word
 * starting "sk-" is redacted too, which is the safe direction to err. Group 1 is the
 * Bearer scheme, kept so the header stays readable while the token goes.
 */
const KEY_PATTERN = new RegExp(
  [...KEY_FORMATS.map((f) => f.prefix + startsHere(f.prefix, f.notAfter) + f.rest), `(${BEARER_PREFIX})${startsHere(BEARER_PREFIX)}${BEARER_TOKEN}`].join('|'),
  'g',
);

/**
 * Every KEY_PATTERN match contains one of these literals. Most text (prompts, answers,
 * header values) contains none, and this check is far cheaper than KEY_PATTERN.
 */
const KEY_PREFIXES = [...KEY_FORMATS.map((f) => f.prefix), BEARER_PREFIX].join('|');
const KEY_HINT = new RegExp(KEY_PREFIXES);

/**
 * A capture cut at the size limit can end in the middle of a key, leaving less
 * material than KEY_PATTERN requires; at the very end of truncated text any
 * key prefix goes, however short.
 */
const KEY_TAIL_PATTERN = new RegExp(`(?:${KEY_FORMATS.map((f) => f.prefix + startsHere(f.prefix, f.notAfter)).join('|')}|${BEARER_PREFIX}${startsHere(BEARER_PREFIX)})[A-Za-z0-9._~+/=-]*$`);

/**
 * The key-shape pattern's source (with the Bearer scheme's group made non-capturing),
 * for detectors that look for the same shapes elsewhere (policy redaction before forwarding).
 */
/** The quick pre-check's source: text without a match has none of the key formats' prefixes (policy redaction's hint). */
export function keyHintSource(): string {
  return KEY_PREFIXES;
}

export function keyPatternSource(): string {
  return KEY_PATTERN.source.replace(`(${BEARER_PREFIX})`, `(?:${BEARER_PREFIX})`);
}

/** Replaces key-shaped strings anywhere in a text. */
export function redactKeys(text: string): string {
  if (!KEY_HINT.test(text)) return text;
  return text.replace(KEY_PATTERN, (_match, bearer: string | undefined) => (bearer ? bearer + REDACTED : REDACTED));
}

/** For text that was cut short: also removes a key prefix left at its very end. */
export function redactKeyTail(text: string): string {
  return KEY_HINT.test(text) ? text.replace(KEY_TAIL_PATTERN, REDACTED) : text;
}
