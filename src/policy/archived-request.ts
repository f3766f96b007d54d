import type { ApiKind, ProviderId } from '../exchange.js';
import type { ExchangeRow } from '../recorder/db.js';
import { parseJson } from '../providers/json.js';
import { cacheKey, canonicalRequest, credentialScope } from '../cache/canonical-key.js';
import type { MatchFacts } from './types.js';

/** An archived exchange as a policy sees it: its facts, its body, what it cost. */
export interface ArchivedRequest {
  id: string;
  at: number;
  facts: MatchFacts;
  body: unknown;
  /** The body was stored but cannot be read as JSON. */
  unreadable: boolean;
  /** The answer was 2xx and complete: worth caching. */
  cacheable: boolean;
  /** Cache key; the archive keeps no credential, so the scope is the proxy user (else the client address). */
  key: string;
  responseBytes: number;
  tokens: number;
  costUsd: number | null;
}

/** Reads an archive row back into what rules match on (the same facts the proxy reads live). */
export function archivedRequest(row: ExchangeRow, teams: ReadonlyMap<string, string>): ArchivedRequest {
  const user = row.client_user ?? undefined;
  const agent = jsonOr<{ sessionId?: string }>(row.agent, {});
  const text = row.request_body && row.request_body.length > 0 ? Buffer.from(row.request_body).toString('utf8') : '';
  const body = text ? parseJson(text) : undefined;
  return {
    id: row.id,
    at: row.started_at,
    facts: {
      provider: (row.provider ?? undefined) as ProviderId | undefined,
      host: row.host,
      path: row.path,
      api: (row.api ?? undefined) as ApiKind | undefined,
      model: row.model ?? undefined,
      tool: row.tool_name ?? undefined,
      client: row.client_address ?? '',
      user,
      team: user === undefined ? undefined : teams.get(user),
      session: agent.sessionId,
    },
    body,
    unreadable: text !== '' && (body === undefined || body === null || typeof body !== 'object'),
    cacheable: row.outcome === 'completed' && row.status !== null && row.status >= 200 && row.status < 300 && !row.response_body_truncated,
    key: cacheKey(
      credentialScope([], '', user ?? row.client_address ?? ''),
      canonicalRequest({ provider: row.provider ?? undefined, method: row.method, host: row.host, path: row.path, json: body ?? undefined, raw: row.request_body ? Buffer.from(row.request_body) : undefined }),
    ),
    responseBytes: row.response_body_size ?? 0,
    tokens: (row.input_tokens ?? 0) + (row.output_tokens ?? 0),
    costUsd: row.cost_usd,
  };
}

function jsonOr<T>(text: string | null, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
