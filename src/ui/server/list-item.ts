import type { ExchangeListEntry } from '../../archive/exchange-list.js';
import { exchangeFailed, stopErrorOf } from '../../failed-exchange.js';
import { outputTokens, reportedPromptTokens } from '../../providers/usage-totals.js';
import { estimatedPart, type EstimatedPart } from '../../archive/estimated-part.js';
import { rowModels } from '../../archive/model-parts.js';
import { usdFigure } from '../../archive/stats-json.js';

/** One row of the web UI's list, as the list API and the live stream both send it. */
export interface UiListItem {
  id: string;
  startedAt: number;
  tool: string | null;
  provider: string | null;
  /** The last model that answered. */
  model: string | null;
  /** Every model that answered, in order, when more than one did (a WebSocket session that switched models). */
  models?: string[];
  host: string;
  method: string;
  path: string;
  status: number | null;
  outcome: string | null;
  errorCode: string | null;
  /** The answer's stop reason when it is the provider's error inside a status below 400 (a stream it ended with an error event); else null. */
  stopError: string | null;
  /** A failure by the one rule (failed-exchange.ts): not completed, status >= 400, or stopError. */
  failed: boolean;
  user: string | null;
  /** Every prompt token, cached or not; null when the answer reported none (unknown, not 0). */
  promptTokens: number | null;
  /** Null when the answer did not say (unknown, not 0). */
  cachedTokens: number | null;
  outputTokens: number | null;
  /** The tokens (and cost) were estimated by llmtap: all of them (the answer reported no usage), or the output only (a stream cut after its input was reported). */
  estimated?: EstimatedPart;
  costUsd: number | null;
  apiEquivalent: boolean;
  latencyMs: number | null;
  ttftMs: number | null;
  /** The policy's decision in a few words ("blocked: pii", "redact (monitor)"); null when no rule matched. */
  policy: string | null;
  sessionId: string | null;
  threadId: string | null;
  turn: number | null;
  /** With a text search (`q`): where the text was found (answer or prompt) and the words around it. */
  match?: { in: 'answer' | 'prompt'; snippet: string };
}

/** Its cost as the CLI's JSON gives it (usdFigure: without a sum's binary noise). */
export function listItem(e: ExchangeListEntry): UiListItem {
  const models = rowModels(e);
  return {
    id: e.id, startedAt: e.started_at, tool: e.tool_name, provider: e.provider, model: e.model, host: e.host, method: e.method, path: e.path,
    status: e.status, outcome: e.outcome, errorCode: e.error_code, user: e.client_user,
    stopError: stopErrorOf(e.status, e.stop_reason), failed: exchangeFailed({ outcome: e.outcome, status: e.status, stopReason: e.stop_reason }),
    promptTokens: reportedPromptTokens(e), cachedTokens: e.cached_input_tokens, outputTokens: outputTokens(e),
    costUsd: usdFigure(e.cost_usd), apiEquivalent: e.cost_source === 'api_equivalent',
    latencyMs: e.ended_at === null ? null : Math.round(e.ended_at - e.started_at),
    ttftMs: e.first_byte_at === null ? null : Math.round(e.first_byte_at - e.started_at),
    policy: policySummary(e.policy), sessionId: e.session_id, threadId: e.thread_id, turn: e.turn,
    ...(models.length > 1 ? { models } : {}),
    ...(estimatedPart(e.usage_estimated) ? { estimated: estimatedPart(e.usage_estimated)! } : {}),
    ...(e.match ? { match: e.match } : {}),
  };
}

interface StoredDecision { rule?: string; kind?: string; action?: string; enforced?: boolean }

/** The stored policy record (JSON) in a few words: what was enforced first, monitor-only decisions marked. */
export function policySummary(json: string | null): string | null {
  if (!json) return null;
  let record: { decisions?: StoredDecision[]; blocked?: string; bodyChanged?: boolean };
  try {
    record = JSON.parse(json) as typeof record;
  } catch {
    return null;
  }
  const decisions = record.decisions ?? [];
  if (record.blocked) {
    const rule = decisions.find((d) => d.enforced && (d.action === 'deny' || d.action === 'block' || d.action === 'limit'))?.rule;
    return `blocked${rule ? `: ${rule}` : ''}`;
  }
  if (decisions.length === 0) return null;
  return decisions.map((d) => `${d.action ?? d.kind ?? '?'}${d.rule ? ` ${d.rule}` : ''}${d.enforced === false ? ' (monitor)' : ''}`).join(', ');
}
