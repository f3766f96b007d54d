import { createHash } from 'node:crypto';
import { REPLAY_VOLATILE_ANYWHERE, canonicalRequest } from '../cache/canonical-key.js';
import type { RawHeaders } from '../exchange.js';
import { parseJson } from '../providers/json.js';
import type { ExchangeRow } from '../recorder/db.js';

/** One recorded exchange the mock can answer with. */
export interface Recording {
  exchangeId: string;
  startedAt: number;
  /** The canonical request (cache form, `cache_control` also left out, no credential scope). */
  canonical: string;
  /** SHA-256 of `canonical`, hex: what requests are matched on. */
  key: string;
  status: number;
  /** The recorded response headers to send again (framing and coding headers left out). */
  headers: RawHeaders;
  /** The body as stored: decoded, exactly the provider's bytes otherwise (SSE framing kept). */
  body: Buffer;
  /** Recorded waits, ms: request end → response headers, headers → first body byte. */
  timing: { headersMs: number; firstByteMs: number };
}

/** Why a recorded exchange cannot be replayed (counted at start). */
export type Unreplayable = 'websocket' | 'no_answer' | 'not_completed' | 'llmtap_error' | 'body_incomplete';

export interface MockRequest {
  provider?: string;
  method: string;
  host: string;
  path: string;
  /** The request body as the archive would store it (decoded, redacted). */
  body: Buffer | null;
}

/**
 * The mock's canonical request: the response cache's form (src/cache/canonical-key.ts:
 * key order, volatile fields, credential query parameters) plus REPLAY_VOLATILE_ANYWHERE.
 * No credential scope: a replay runs with another key, or none.
 */
export function mockCanonical(req: MockRequest): string {
  const raw = req.body && req.body.length > 0 ? req.body : undefined;
  const json = raw ? parseJson(raw.toString('utf8')) : undefined;
  return canonicalRequest({ provider: req.provider, method: req.method, host: req.host, path: req.path, json: json ?? undefined, raw, ignoreAnywhere: REPLAY_VOLATILE_ANYWHERE });
}

export function keyOf(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex');
}

/** Response headers never replayed: framing and coding are the mock's own (the body is stored decoded). */
const NOT_REPLAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'date', 'set-cookie', 'proxy-connection', 'trailer', 'upgrade']);

/**
 * An archive row as a recording, or why it cannot be one: only complete HTTP answers
 * the provider gave (any status: a recorded 429 replays as a 429), stored whole.
 * llmtap's own refusals (policy blocks, unreachable upstream) were never the provider's answer.
 */
export function recordingFromRow(row: ExchangeRow): Recording | Unreplayable {
  if (row.status === 101) return 'websocket';
  if (row.status === null || row.response_headers === null) return 'no_answer';
  if (row.outcome !== 'completed') return 'not_completed';
  if (row.error_code !== null || responseHeader(row.response_headers, 'x-llmtap-error') !== undefined) return 'llmtap_error';
  if (row.response_body_truncated || row.response_body_stored === 'digest' || row.response_body_stored === 'decoded_prefix' || row.request_body_truncated || row.request_body_stored === 'digest' || row.request_body_stored === 'decoded_prefix') return 'body_incomplete';
  const canonical = mockCanonical({ provider: row.provider ?? undefined, method: row.method, host: row.host, path: row.path, body: row.request_body ? Buffer.from(row.request_body) : null });
  const requestEnd = row.request_end_at ?? row.started_at;
  const headersAt = row.upstream_headers_at ?? row.first_byte_at ?? requestEnd;
  const firstByteAt = row.first_byte_at ?? headersAt;
  return {
    exchangeId: row.id,
    startedAt: row.started_at,
    canonical,
    key: keyOf(canonical),
    status: row.status,
    headers: replayedHeaders(row.response_headers, row.id),
    body: row.response_body ? Buffer.from(row.response_body) : Buffer.alloc(0),
    timing: { headersMs: Math.max(0, headersAt - requestEnd), firstByteMs: Math.max(0, firstByteAt - headersAt) },
  };
}

/** The stored header pairs minus framing, plus `x-llmtap-mock: <exchange id>` so a reader can tell. */
export function replayedHeaders(json: string, exchangeId: string): RawHeaders {
  const out: RawHeaders = [];
  for (const [name, value] of headerPairs(json)) if (!NOT_REPLAYED.has(name.toLowerCase()) && !name.toLowerCase().startsWith('x-llmtap-')) out.push(name, value);
  out.push('x-llmtap-mock', exchangeId);
  return out;
}

function responseHeader(json: string, name: string): string | undefined {
  return headerPairs(json).find(([n]) => n.toLowerCase() === name)?.[1];
}

function headerPairs(json: string): [string, string][] {
  try {
    const parsed = JSON.parse(json) as unknown;
    return Array.isArray(parsed) ? parsed.filter((p): p is [string, string] => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string') : [];
  } catch {
    return [];
  }
}
