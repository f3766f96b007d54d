import type { ExchangeRow, WsMessageRow } from '../recorder/db.js';
import { promptTokens } from '../providers/usage-totals.js';
import { asObject } from '../providers/json.js';
import { recordedRequests, type RecordedRequest } from '../websocket/reduce.js';
import type { PolicyRecord } from '../policy/types.js';
import type { PriceInput, PriceResult } from '../cost/price-exchange.js';
import { responseShares } from '../cost/response-shares.js';
import { readConversation, type Conversation } from './conversation.js';

/**
 * One request of a Responses-over-WebSocket session (Codex) as a turn: a session is one
 * exchange in the archive, but each `response.create` in it is a turn of the conversation
 * (its input items, the response that answered it, that response's tokens and timing).
 * Pure: built from the exchange row and its message log.
 */
export interface SessionRequestTurn {
  startedAt: number;
  latencyMs: number | null;
  /** The model that answered, else the one the request named. */
  model: string | null;
  /** The model the request named (what the policy judged it by). */
  requestedModel?: string;
  /** The code of the error event that answered it instead of a response (a policy refusal: `rate_limited`). */
  refusedWith?: string;
  promptTokens: number;
  cachedTokens: number;
  outputTokens: number | null;
  /**
   * Its share of the session's recorded cost, weighed by its response's own price (the
   * shares add up to the session's cost); null when the session is unpriced, or it had
   * several requests and no price function was given.
   */
  costUsd: number | null;
  /** The request as a Responses body (instructions, input, tools), for the conversation view. */
  conversation?: Conversation;
  answer: { text: string; thinking: string | null; toolCalls: { id: string | null; name: string; arguments: string }[]; stopReason: string | null };
}

/**
 * The turns of a recorded Responses WebSocket session, one per `response.create` in its
 * message log; undefined when the row is not such a session or its log holds none (it is
 * then shown as one turn, as before). A request no response answered says why when the
 * server's `error` event did (a policy refusal: `error: model_not_allowed`).
 */
export function sessionRequestTurns(row: SessionRow, messages: readonly WsMessageRow[], price?: (input: PriceInput) => PriceResult): SessionRequestTurn[] | undefined {
  if (!isResponsesSession(row) || messages.length === 0) return undefined;
  const requests = recordedRequests(messages);
  if (requests.length === 0) return undefined;
  const costs = requestCosts(row, requests, price);
  return requests.map((q, i) => turnOf(q, row, costs[i]!));
}

/** Whether a row is a Responses session over WebSocket (a Codex session), whose requests can be read one by one. */
export function isResponsesSession(row: Pick<ExchangeRow, 'api' | 'status'>): boolean {
  return row.status === 101 && row.api === 'responses';
}

/** The error code a request refused by such a decision was answered with (ws-screen.ts). */
const REFUSED_WITH: Readonly<Record<string, string>> = { 'rateLimit:limit': 'rate_limited', 'budget:block': 'budget_exceeded' };

type SessionRow = Pick<ExchangeRow, 'api' | 'status' | 'started_at' | 'model' | 'provider' | 'host' | 'cost_usd' | 'cost_source'>;

/** Each request's part of the session's recorded cost (responseShares), as long as there is one to share. */
function requestCosts(row: SessionRow, requests: readonly RecordedRequest[], price: ((input: PriceInput) => PriceResult) | undefined): (number | null)[] {
  const total = row.cost_usd;
  if (total === null || requests.length === 1) return requests.map(() => total);
  if (!price) return requests.map(() => null);
  const base = { host: row.host, api: 'responses', at: row.started_at, subscription: row.cost_source === 'api_equivalent', ...(row.provider ? { provider: row.provider } : {}), ...(row.model ? { model: row.model } : {}) };
  return responseShares(requests, base, price).map((share) => total * share);
}

function turnOf(q: RecordedRequest, row: Pick<ExchangeRow, 'started_at' | 'model'>, costUsd: number | null): SessionRequestTurn {
  const startedAt = q.at ?? row.started_at;
  const usage = q.answer?.usage;
  // The event carries a Responses body: on itself (Codex) or in its `response` (the older form).
  const body = asObject(q.event.response) ?? q.event;
  const turn: SessionRequestTurn = {
    ...(q.model !== undefined ? { requestedModel: q.model } : {}),
    ...(!q.answer && q.refusedWith !== undefined ? { refusedWith: q.refusedWith } : {}),
    startedAt,
    latencyMs: q.answeredAt === undefined ? null : Math.max(0, q.answeredAt - startedAt),
    model: q.answer?.model ?? q.model ?? row.model,
    promptTokens: promptTokens({ api: 'responses', input_tokens: usage?.inputTokens ?? null, cached_input_tokens: usage?.cachedInputTokens ?? null, cache_creation_input_tokens: null }),
    cachedTokens: usage?.cachedInputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? null,
    costUsd,
    answer: {
      text: q.answer?.text ?? '',
      thinking: q.answer?.thinking ?? null,
      toolCalls: (q.answer?.toolCalls ?? []).map((c) => ({ id: c.id ?? null, name: c.name, arguments: c.arguments })),
      stopReason: q.answer ? q.answer.stopReason ?? null : q.refusedWith !== undefined ? `error: ${q.refusedWith}` : 'no response',
    },
  };
  const conversation = readConversation('responses', body);
  if (conversation) turn.conversation = conversation;
  return turn;
}

/**
 * A session's policy record spread over its turns: an access decision on a request's model
 * goes on the first turn that asked for that model (the session keeps one per rule and
 * model), a rate limit or budget that refused a request on the first turn it refused (the
 * session keeps one per rule and key: read on the first turn, it would say a request that
 * went through was refused), everything else (warnings, the upgrade's own decisions,
 * routing) on the first turn.
 */
export function recordPerTurn(record: PolicyRecord, turns: readonly Pick<SessionRequestTurn, 'requestedModel' | 'refusedWith'>[]): (PolicyRecord | undefined)[] {
  const out: PolicyRecord[] = turns.map(() => ({ decisions: [] }));
  const { decisions, ...rest } = record;
  Object.assign(out[0]!, rest);
  for (const d of decisions) {
    const refused = d.enforced ? REFUSED_WITH[`${d.kind}:${d.action}`] : undefined;
    const turn = d.kind === 'access' && d.model !== undefined ? turns.findIndex((t) => t.requestedModel === d.model)
      : refused !== undefined ? turns.findIndex((t) => t.refusedWith === refused) : -1;
    out[Math.max(0, turn)]!.decisions.push(d);
  }
  return out.map((r, i) => (r.decisions.length > 0 || (i === 0 && Object.keys(rest).length > 0) ? r : undefined));
}
