/**
 * The one redaction module: everything llmtap stores or logs passes through a
 * Redactor first, with one entry point per kind of field. Row mapping
 * (recorder/rows.ts) and logging (proxy/handle-exchange.ts, log.ts) both call it;
 * a field that skips it is a leak.
 *
 * Each entry point applies, in order: credential names (headers, query/form
 * parameters, JSON keys), key-shaped strings (key-patterns.ts), then the
 * operator's own patterns (--redact), so an operator pattern reaches every field too.
 */
import type { RawHeaders } from '../exchange.js';
import { isCredentialName, isCredentialParam, redactJsonKeys, redactJsonKeyTail, redactParams } from './credential-names.js';
import { REDACTED, redactKeys, redactKeyTail } from './key-patterns.js';

export { REDACTED } from './key-patterns.js';
export { CREDENTIAL_HEADER_NAMES, isCredentialName, isCredentialParam } from './credential-names.js';

export interface BodyHints {
  /** The text is only a prefix of the body (capture limit, decoded prefix): a secret may be cut in half at its end. */
  truncated?: boolean;
  /** application/x-www-form-urlencoded: `name=value` pairs, credential names redacted like query parameters. */
  form?: boolean;
}

export interface Redactor {
  /** Free text: answers, thinking, stop reasons, model names, user agents, hosts, log messages. */
  text(text: string): string;
  /** A body (or a prefix of one) as text: JSON credential keys, form fields, key shapes, operator patterns. */
  body(text: string, hints?: BodyHints): string;
  /** A JSON text (tool-call arguments): credential keys and key shapes; valid JSON stays valid. */
  json(text: string): string;
  /** Raw header list: same names and order; credential-named headers' values replaced, others redacted as text. */
  headers(raw: RawHeaders): RawHeaders;
  /** A request target as stored: credential query parameters, then the whole path as text. */
  path(path: string): string;
  /** A request target as logged: never the query (where `?key=` travels), the rest redacted. */
  logPath(path: string): string;
}

/** Built-in rules, plus the operator's patterns (--redact) when given. */
export function createRedactor(extra: readonly RegExp[] = []): Redactor {
  const operator = extra.map((re) => new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`));
  const text = operator.length === 0
    ? redactKeys
    : (s: string): string => {
      let out = redactKeys(s);
      for (const re of operator) out = out.replace(re, REDACTED);
      return out;
    };
  const path = (p: string): string => {
    const q = p.indexOf('?');
    return text(q < 0 ? p : p.slice(0, q + 1) + redactParams(p.slice(q + 1), isCredentialParam));
  };
  return {
    text,
    body(s, hints = {}) {
      let out = redactJsonKeys(s);
      if (hints.form) out = redactParams(out, isCredentialName);
      out = text(out);
      return hints.truncated ? redactJsonKeyTail(redactKeyTail(out)) : out;
    },
    json: (s) => text(redactJsonKeys(s)),
    headers(raw) {
      const out: RawHeaders = new Array<string>(raw.length);
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!;
        out[i] = text(name);
        // Non-credential headers may still carry a key (custom auth headers, debug headers).
        if (i + 1 < raw.length) out[i + 1] = isCredentialName(name) ? REDACTED : text(raw[i + 1]!);
      }
      return out;
    },
    path,
    logPath: (p) => text(p.split('?')[0] ?? p),
  };
}

/** The built-in rules only; for callers without operator patterns (tests, the logger's safety net). */
export const builtInRedactor: Redactor = createRedactor();
