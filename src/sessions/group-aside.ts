import { isCountTokens } from '../providers/api-kinds.js';
import { clientScope, newestUpTo, ownSessionId, type ExchangeSummary, type GroupOptions } from './group.js';
import type { GroupIndex } from './group-index.js';

/**
 * Where an aside belongs: the session and thread it was asked from. Undefined when
 * nothing links it to one.
 */
export interface AsidePlace {
  sessionId: string;
  threadId: string;
}

/**
 * Token counts are asides: a client asks them in the middle of a conversation (Claude
 * Code before and between its turns), about that conversation, and they are no turn of
 * it. As sessions of their own they filled the session list with one-exchange sessions.
 */
export function isAside(s: ExchangeSummary): boolean {
  return isCountTokens(s.api);
}

/**
 * The session (and thread) an aside belongs to, read from what the conversations left in
 * the index, as a turn-taking request would be placed: the session id on the wire names
 * the session (the thread is the one its messages extend, else the main thread); without
 * ids, the thread of the same client scope whose request its messages repeat or extend
 * (a count of the next turn before sending it). Nothing links it → undefined: it starts
 * no session, since a session of a count alone has no turn to show.
 *
 * An aside writes no key of its own (no turn, no chain, no thread record): a later
 * request neither continues it nor counts as its retry, and no thread moves on. Only a
 * session id's owner record is written (ownSessionId), as for any exchange carrying it.
 */
export function placeAside(s: ExchangeSummary, index: GroupIndex, options: GroupOptions = {}): AsidePlace | undefined {
  const explicit = ownSessionId(s, index);
  if (explicit !== undefined) {
    const linked = newestUpTo(index, `e:${explicit}`, s, s.chain.length - 1, Infinity);
    return { sessionId: explicit, threadId: linked?.sessionId === explicit ? linked.threadId : explicit };
  }
  const linked = newestUpTo(index, clientScope(s), s, s.chain.length - 1, options.chainWindowMs ?? 6 * 3_600_000);
  return linked ? { sessionId: linked.sessionId, threadId: linked.threadId } : undefined;
}
