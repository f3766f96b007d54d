import type { ExportedExchange } from '../../archive/export.js';
import { exchangeUrl } from '../../archive/row-scheme.js';
import { isCredentialName } from '../../redact/credential-names.js';
import { REDACTED } from '../../redact/key-patterns.js';
import { credentialPlaceholders } from './curl-credentials.js';

/** Headers curl sets itself: never copied into the command, nor any credential header (its value is only a redaction marker). */
const LEFT_OUT = new Set(['host', 'content-length', 'connection', 'accept-encoding', 'transfer-encoding']);

/**
 * The request as a curl command line to re-send by hand. Credentials are left out
 * (the stored headers hold only redaction markers anyway): where the request sent a key,
 * the command names the environment variable to set instead. Bodies that are not text
 * are left out too.
 */
export function curlCommand(ex: Pick<ExportedExchange, 'method' | 'host' | 'port' | 'scheme' | 'path' | 'provider' | 'request'> & Partial<Pick<ExportedExchange, 'cost_source'>>): string {
  // -g: the URL is the one recorded, literal; curl would read `[…]` and `{…}` in it as globs
  // (`filter[name]=x`), and refuse the command.
  const url = exchangeUrl({ host: ex.host, port: ex.port, path: withoutRedactedParams(ex.path), tls: ex.scheme === 'https' ? 1 : 0 });
  const parts = [`curl -g -X ${ex.method} ${quote(url)}`];
  // A compressed body is stored decoded (or not at all): the command sends what is stored, so
  // claiming the coding it arrived in would have the provider inflate plain text and refuse it.
  const decoded = ex.request.body_stored !== null && ex.request.body_stored !== 'as_sent';
  for (const [name, value] of Object.entries(ex.request.headers)) {
    if (LEFT_OUT.has(name.toLowerCase()) || isCredentialName(name) || (decoded && name.toLowerCase() === 'content-encoding')) continue;
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`-H ${quote(`${name}: ${v}`)}`);
  }
  // Only where the client sent a key, in the header it sent it in: a request without one (a gateway's
  // credentials rule put it on upstream, or the endpoint takes none) is re-sent without one too.
  // Subscription traffic is priced as such when recorded (from the credential itself, before redaction).
  for (const placeholder of credentialPlaceholders(ex.request.headers, ex.provider, keyInQuery(ex.path), ex.cost_source === 'api_equivalent')) parts.push(placeholder);
  const body = ex.request.body;
  if (typeof body === 'string' && body.length > 0 && ex.request.body_encoding !== 'base64') parts.push(`--data-raw ${quote(body)}`);
  return parts.join(' \\\n  ');
}

/**
 * The path without the query parameters whose value is the redaction marker (Gemini's
 * `?key=`): sent as is the marker would be the key; the credential comes from the
 * environment variable's header instead.
 */
function withoutRedactedParams(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const kept = path.slice(q + 1).split('&').filter((pair) => !pair.endsWith(`=${REDACTED}`));
  return kept.length > 0 ? `${path.slice(0, q)}?${kept.join('&')}` : path.slice(0, q);
}

/** Whether the recorded request sent a credential in its query (Gemini's `?key=`, redacted). */
function keyInQuery(path: string): boolean {
  const q = path.indexOf('?');
  return q >= 0 && path.slice(q + 1).split('&').some((pair) => pair.endsWith(`=${REDACTED}`));
}

/** POSIX single quotes: nothing inside is expanded. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
