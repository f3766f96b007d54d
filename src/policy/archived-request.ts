import type { ApiKind, ProviderId, Usage } from '../exchange.js';
import { archivedSignedReason } from './signed-request.js';
import { exchangeFailed } from '../failed-exchange.js';
import type { ExchangeRow } from '../recorder/db.js';
import { parseJson } from '../providers/json.js';
import { queryModel } from '../providers/registry.js';
import { archivedCacheKey, type KeyBasis } from '../cache/archived-key.js';
import type { MatchFacts } from './types.js';
import { readUploadForm, takesUploads, type UploadForm } from './redact-form.js';
import { rowUsesTls } from '../archive/row-scheme.js';
import { outputTokens, promptTokens } from '../providers/usage-totals.js';
import { rowUsage } from '../cost/unpriced-reason.js';

/** An archived exchange as a policy sees it: its facts, its body, what it cost. */
export interface ArchivedRequest {
  id: string;
  at: number;
  facts: MatchFacts;
  body: unknown;
  /** The body was stored but cannot be read as JSON. */
  unreadable: boolean;
  /** A stored file upload's text fields (what redaction reads instead of `body`, as the proxy does). */
  form?: UploadForm;
  /** The answer was 2xx and complete: worth caching. */
  cacheable: boolean;
  /** The response cache's key as far as the archive shows it (16 hex digits; see archived-key.ts). */
  key: string;
  /** How exact `key` is: the archive keeps no credential value. */
  keyBasis: KeyBasis;
  responseBytes: number;
  /** The request body's size as sent (limits' maxRequestBytes). */
  bodySize: number;
  /** What the archive recorded the answer as: the status (null when none came) and llmtap's error code. */
  status: number | null;
  errorCode: string | null;
  /** The origin the client asked for (TLS from the row's tls column; older rows: 443 is TLS). */
  target: { tls: boolean; host: string; port: number };
  usage: Usage;
  tokens: number;
  /** What the exchange cost as recorded: nothing when llmtap's response cache answered it (see UpstreamCosts). */
  costUsd: number | null;
  /** Answered from llmtap's response cache (cost_source 'cache'): no upstream call was made. */
  answeredFromCache: boolean;
  /**
   * A WebSocket upgrade (a session when answered 101). The proxy decides one before
   * anything is sent, from its path and headers alone: no body, and the model only
   * from `?model=` (Realtime), or from a Gemini Live session's setup, which the proxy
   * judges before it is sent; `facts` say what it saw then.
   */
  upgrade: boolean;
  /** The model the archive recorded (a WebSocket session's: its responses'), which its cost is priced at. */
  recordedModel?: string;
}

/** Reads an archive row back into what rules match on (the same facts the proxy reads live). */
export function archivedRequest(row: ExchangeRow, teams: ReadonlyMap<string, string>): ArchivedRequest {
  const user = row.client_user ?? undefined;
  const agent = jsonOr<{ sessionId?: string }>(row.agent, {});
  const upgrade = isUpgradeRow(row);
  const stored = !upgrade && row.request_body && row.request_body.length > 0 ? Buffer.from(row.request_body) : undefined;
  // An upload (an image edit, a transcription) is no JSON: its text fields are read instead, as live.
  const form = stored && takesUploads((row.api ?? undefined) as ApiKind | undefined) ? readUploadForm(stored, storedContentType(row.request_headers)) : undefined;
  const text = stored && !form ? stored.toString('utf8') : '';
  const body = text ? parseJson(text) : undefined;
  const cache = archivedCacheKey(row, body);
  return {
    id: row.id,
    at: row.started_at,
    facts: {
      provider: (row.provider ?? undefined) as ProviderId | undefined,
      host: row.host,
      path: row.path,
      api: (row.api ?? undefined) as ApiKind | undefined,
      // An upgrade's model as the proxy judged it: Realtime's `?model=`; a Gemini Live session's setup (the row's model).
      model: upgrade ? (row.api === 'gemini.live' ? row.model ?? undefined : queryModel(row.path)) : row.model ?? undefined,
      tool: row.tool_name ?? undefined,
      client: row.client_address ?? '',
      user,
      team: user === undefined ? undefined : teams.get(user),
      session: agent.sessionId,
      signed: archivedSignedReason(row.request_headers, row.path),
    },
    body,
    form,
    unreadable: text !== '' && (body === undefined || body === null || typeof body !== 'object'),
    // The response cache never sees an upgrade (it answers requests, not sessions), nor keeps an answer the provider ended with an error.
    cacheable: !upgrade && row.outcome === 'completed' && row.status !== null && row.status >= 200 && row.status < 300 && !exchangeFailed({ outcome: row.outcome, status: row.status, stopReason: row.stop_reason }) && !row.response_body_truncated,
    key: cache.key,
    keyBasis: cache.basis,
    responseBytes: row.response_body_size ?? 0,
    bodySize: row.request_body_size,
    status: row.status,
    errorCode: row.error_code,
    target: { tls: rowUsesTls(row), host: row.host, port: row.port },
    usage: rowUsage(row),
    // What the live token-rate charge and stats count: every prompt token (Anthropic's cache reads and writes too), every output token.
    tokens: promptTokens(row) + (outputTokens(row) ?? 0),
    costUsd: row.cost_usd,
    answeredFromCache: row.cost_source === 'cache',
    upgrade,
    recordedModel: row.model ?? undefined,
  };
}

/**
 * A WebSocket upgrade: answered 101 (a session), or refused but asked for with
 * `Upgrade: websocket` (the archive keeps the request's headers as [name, value] pairs, names as sent).
 */
function isUpgradeRow(row: ExchangeRow): boolean {
  return row.status === 101 || (row.method === 'GET' && /\["upgrade","\s*websocket/i.test(row.request_headers));
}


/**
 * What each archived request would cost sent upstream, read in archive order. A request
 * llmtap's response cache answered cost nothing, but its answer cost what the exchange
 * that stored it did: the latest paid 2xx complete exchange with the same cache key before it (null when
 * that one is not in the range read). Without this, `policy test` and `cache-report` count a
 * cache that already served an answer as saving nothing. Keys are remembered in two
 * generations of GENERATION entries (bounded on any archive; an older original is unknown).
 */
export class UpstreamCosts {
  static readonly GENERATION = 100_000;
  private young = new Map<string, number | null>();
  private old = new Map<string, number | null>();

  of(r: Pick<ArchivedRequest, 'key' | 'costUsd' | 'answeredFromCache' | 'cacheable'>): number | null {
    if (r.answeredFromCache) return this.young.has(r.key) ? this.young.get(r.key)! : this.old.get(r.key) ?? null;
    // Only an answer a cache keeps can be the one a later hit replays.
    if (!r.cacheable) return r.costUsd;
    if (this.young.size >= UpstreamCosts.GENERATION) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(r.key, r.costUsd);
    return r.costUsd;
  }
}

/** The Content-Type of the stored request headers ([name, value] pairs, names as sent). */
function storedContentType(headersJson: string): string | undefined {
  const pairs = jsonOr<unknown>(headersJson, []);
  if (!Array.isArray(pairs)) return undefined;
  const pair = pairs.find((p): p is [string, string] => Array.isArray(p) && typeof p[0] === 'string' && p[0].toLowerCase() === 'content-type' && typeof p[1] === 'string');
  return pair?.[1];
}

function jsonOr<T>(text: string | null, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
