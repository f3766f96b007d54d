import type { Exchange } from '../exchange.js';
import { exchangeFailed } from '../failed-exchange.js';
import type { AgentMetadata } from '../providers/agent-metadata.js';
import { summarizeForGrouping } from '../sessions/summary.js';
import type { ExchangeSummary } from '../sessions/group.js';
import type { ExchangeRow } from './db.js';

/**
 * The grouper's view of an exchange, built in the writer thread from what is about to
 * be stored: the redacted, decoded request body (so nothing unredacted reaches the
 * key table) and the redacted agent ids (so keys match the stored ids).
 */
export function groupingSummary(row: ExchangeRow, ex: Exchange): ExchangeSummary {
  const summary = summarizeForGrouping({
    id: row.id,
    startedAt: row.started_at,
    client: { address: row.client_address, ...(row.client_user === null ? {} : { user: row.client_user }), ...(row.client_label === null ? {} : { label: row.client_label }) },
    toolName: row.tool_name ?? undefined,
    api: row.api ?? undefined,
    model: row.model ?? undefined,
    agent: parseAgent(row.agent),
    request: row.request_body_truncated === 1 || row.request_body === null ? undefined : parseJson(row.request_body),
    answer: ex.response?.reassembled,
    responseId: ex.response?.reassembled?.responseId,
  });
  // A Codex session (Responses over WebSocket) reads back as a turn per request (sessions/ws-turns.ts),
  // a Gemini Live session as a turn per model turn (sessions/live-turns.ts).
  const requests = ex.websocket && (row.api === 'responses' || row.api === 'gemini.live') ? ex.response?.reassembled?.requests ?? 0 : 0;
  if (requests > 1) summary.turns = requests;
  // Its responses' models too: Codex switches models inside a session, and the row keeps only the last.
  const models = ex.websocket ? (ex.response?.reassembled?.responses ?? []).flatMap((r) => (r.model === undefined ? [] : [r.model])) : [];
  if (models.length > 0) summary.models = models;
  // Whether the same lookup sent again is a retry of this one (sessions/group.ts); as the session totals count errors.
  if (exchangeFailed({ outcome: row.outcome, status: row.status, stopReason: row.stop_reason })) summary.failed = true;
  return summary;
}

function parseAgent(json: string | null): AgentMetadata | undefined {
  if (json === null) return undefined;
  const value = parseJson(Buffer.from(json));
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as AgentMetadata) : undefined;
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
