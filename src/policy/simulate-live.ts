import type { PriceInput, PriceResult } from '../cost/price-exchange.js';
import type { ExchangeRow, WsMessageRow } from '../recorder/db.js';
import { asObject, parseJson } from '../providers/json.js';
import { liveSessionTurns, storedLiveText } from '../sessions/live-turns.js';
import type { SessionRequestTurn } from '../sessions/ws-turns.js';
import type { CompiledPolicy } from './compile.js';
import { judgeSessionMessage } from './session-request.js';
import type { Decision, MatchFacts } from './types.js';

/** One recorded client message a redact rule that blocks decided on. */
export interface LiveMessageStep {
  decisions: Decision[];
  /** What the session used from this message on (the model turns begun since): what refusing it saves. */
  saved: { tokens: number; costUsd: number | null };
}

/** What the redact rules that block make of a recorded Gemini Live session's messages. */
export interface LiveMessagesVerdict {
  /** The messages some rule decided on, up to the one refused. */
  steps: LiveMessageStep[];
  /** An enforced rule refused a message: the session would have ended there. */
  refused: boolean;
}

/**
 * A recorded Gemini Live session's client messages in wire order (its setup included), each
 * judged as the proxy judges one live (proxy/ws-screen.ts: judgeSessionMessage, by the
 * session's model; a message cut at the capture limit is unreadable and refused). At the
 * first refusal the session would have ended: what its turns begun from then on used is
 * what the refusal saves. The archive keeps messages with its own redaction, so a block
 * rule looking for keys finds what the archive left. Pure.
 */
export function judgeLiveMessages(policy: CompiledPolicy, facts: MatchFacts, row: ExchangeRow, messages: readonly WsMessageRow[], price?: (input: PriceInput) => PriceResult): LiveMessagesVerdict {
  const steps: LiveMessageStep[] = [];
  let turns: SessionRequestTurn[] | undefined;
  for (const m of [...messages].sort((a, b) => a.seq - b.seq)) {
    if (m.direction !== 'client') continue;
    const text = storedLiveText(m);
    if (text === undefined) continue;
    const event = m.truncated === 1 ? undefined : asObject(parseJson(text));
    const verdict = judgeSessionMessage(policy, facts, event ?? {}, event === undefined);
    if (verdict.decisions.length === 0) continue;
    turns ??= liveSessionTurns(row, messages, price) ?? [];
    steps.push({ decisions: verdict.decisions, saved: usedSince(m.at, turns) });
    if (verdict.block) return { steps, refused: true };
  }
  return { steps, refused: false };
}

/** The tokens and cost of the model turns begun at or after `at`. */
function usedSince(at: number, turns: readonly SessionRequestTurn[]): LiveMessageStep['saved'] {
  let tokens = 0;
  let costUsd: number | null = 0;
  for (const turn of turns) {
    if (turn.startedAt < at) continue;
    tokens += (turn.promptTokens ?? 0) + (turn.outputTokens ?? 0);
    costUsd = costUsd === null || turn.costUsd === null ? null : costUsd + turn.costUsd;
  }
  return { tokens, costUsd };
}
