/**
 * Names that say "the value is a credential", wherever they appear: header names,
 * query parameters, form fields (application/x-www-form-urlencoded) and JSON keys.
 * The value is replaced whatever it looks like (an AWS session token or a password
 * has no recognisable shape). Names compare case-insensitively with `-` and `_`
 * ignored, so `api_key`, `apiKey`, `API-KEY` and `apikey` are one name.
 */
import { REDACTED } from './key-patterns.js';

/** Exact credential names, as words (joined by an optional - or _ when matching). */
const EXACT_NAMES: readonly (readonly string[])[] = [
  ['authorization'], ['proxy', 'authorization'], ['cookie'], ['set', 'cookie'],
  ['x', 'api', 'key'], ['api', 'key'], ['x', 'goog', 'api', 'key'],
  ['x', 'amz', 'security', 'token'], ['x', 'amz', 'signature'], ['x', 'amz', 'credential'],
  ['access', 'token'], ['refresh', 'token'], ['client', 'secret'], ['password'], ['secret'], ['token'], ['sig'],
];
/**
 * Names ending in one of these are credentials too (`x-auth-token`, `github_token`,
 * `db_password`, `openai_api_key`, `aws_secret`). Plural count fields such as
 * `max_tokens` or `input_tokens` do not end in `token`.
 */
const SUFFIXES: readonly (readonly string[])[] = [['token'], ['secret'], ['password'], ['api', 'key']];

const normalize = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');
const EXACT = new Set(EXACT_NAMES.map((words) => words.join('')));
const SUFFIX_WORDS = SUFFIXES.map((words) => words.join(''));

/** Gemini's `?key=` is a credential in a URL, but "key" is too common a JSON key or header to treat alike. */
const QUERY_ONLY = new Set(['key']);

/** True for a header, form field or JSON key name whose value is a credential. */
export function isCredentialName(name: string): boolean {
  const n = normalize(name);
  return EXACT.has(n) || SUFFIX_WORDS.some((s) => n.endsWith(s));
}

/** The same for query parameters, plus `key`. */
export function isCredentialParam(name: string): boolean {
  return QUERY_ONLY.has(normalize(name)) || isCredentialName(name);
}

/** Header names pino is told never to print (the logger's safety net); lower-case, as Node gives them. */
export const CREDENTIAL_HEADER_NAMES: readonly string[] = EXACT_NAMES.map((words) => words.join('-'));

/**
 * `name=value` pairs of a query string or form body: values of credential names
 * replaced, every other byte left as sent. `+` is a space in form names.
 */
export function redactParams(params: string, isSecret: (name: string) => boolean): string {
  if (params.indexOf('=') < 0) return params;
  return params.replace(/(^|[&;])([^=&;]*)=([^&;#]*)/g, (whole, sep: string, name: string) => {
    let decoded = name;
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // A malformed escape is compared as written.
    }
    return isSecret(decoded) ? `${sep}${name}=${REDACTED}` : whole;
  });
}

// JSON keys. A credential's value is replaced when it is a string or a bare scalar
// (number, true/false), at the top level of a JSON text or one level of escaping
// down (JSON inside a JSON string: tool-call arguments, a body quoted in a prompt).
// Replacements are always a JSON string, so the text stays valid JSON.
const NAME_SOURCE = `(?:${[
  ...EXACT_NAMES.map((w) => w.join('[-_]?')),
  `[A-Za-z0-9_-]*(?:${SUFFIXES.map((w) => w.join('[-_]?')).join('|')})`,
].join('|')})`;
const STRING0 = '"(?:[^"\\\\]|\\\\[\\s\\S])*"';
const STRING1 = '\\\\"(?:[^"\\\\]|\\\\[^"\\\\]|\\\\\\\\(?:\\\\["\\\\]|[^"\\\\]))*\\\\"';
const SCALAR = '-?[0-9][0-9.eE+-]*|true|false';
const JSON_KEY_VALUE = new RegExp(
  `("${NAME_SOURCE}"\\s*:\\s*)(?:${STRING0}|${SCALAR})|(\\\\"${NAME_SOURCE}\\\\"\\s*:\\s*)(?:${STRING1}|${SCALAR})`,
  'gi',
);
/** A cut-off text ending inside a credential's string value. */
const CONTENT0 = '(?:[^"\\\\]|\\\\[\\s\\S])*\\\\?';
const CONTENT1 = '(?:[^"\\\\]|\\\\[^"\\\\]|\\\\\\\\(?:\\\\["\\\\]|[^"\\\\]))*\\\\{0,3}';
const JSON_KEY_TAIL = new RegExp(`("${NAME_SOURCE}"\\s*:\\s*)"${CONTENT0}$|(\\\\"${NAME_SOURCE}\\\\"\\s*:\\s*)\\\\"${CONTENT1}$`, 'i');

/**
 * A bare `token` key followed by one of these is a token of the model's output, not a
 * credential: a logprobs entry (OpenAI `{"token":"Hi","logprob":-0.1,…}`, Gemini
 * `{"token":"Hi","tokenId":…,"logProbability":…}`), written in this order by the providers.
 * Keeping them keeps stored logprobs readable; a key shape inside the value is still caught
 * by the key patterns, which run over the whole text.
 */
const OUTPUT_TOKEN_NEXT = /^\s*,\s*\\?"(?:logprob|tokenId|logProbability)\\?"/;
const BARE_TOKEN_KEY = /^\\?"token\\?"/i;

/** Replaces the values of credential-named keys in JSON text (and JSON inside JSON strings). */
export function redactJsonKeys(text: string): string {
  return text.replace(JSON_KEY_VALUE, (whole: string, plain: string | undefined, escaped: string | undefined, offset: number) => {
    const key = plain ?? escaped!;
    if (BARE_TOKEN_KEY.test(key) && OUTPUT_TOKEN_NEXT.test(text.slice(offset + whole.length, offset + whole.length + 40))) return whole;
    return plain !== undefined ? `${plain}"${REDACTED}"` : `${escaped!}\\"${REDACTED}\\"`;
  });
}

/** For JSON text that was cut short inside a credential's value. */
export function redactJsonKeyTail(text: string): string {
  return text.replace(JSON_KEY_TAIL, (_m, plain: string | undefined, escaped: string | undefined) =>
    plain !== undefined ? `${plain}"${REDACTED}` : `${escaped!}\\"${REDACTED}`);
}
