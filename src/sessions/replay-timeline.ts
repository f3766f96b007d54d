import type { ThreadView, TurnView } from './turns.js';

/**
 * A session's turns in the order they happened, across all its threads (the main
 * agent and its subagents interleave in time), each with the wait before it when
 * played back: the recorded gap divided by `speed`, never more than `maxGapMs`
 * (an agent left idle overnight should not stall a replay for hours). Pure.
 */
export interface ReplayStep {
  turn: TurnView;
  /** Nesting depth of the turn's thread: 0 for the main agent. */
  depth: number;
  /** The thread's place among the session's threads, in the order they started. */
  threadIndex: number;
  /** Recorded time since the previous step started. */
  gapMs: number;
  /** How long playback waits before showing this step. */
  waitMs: number;
  /** The same request its thread already sent (its turn number again): a retry, not a new turn. */
  retry: boolean;
}

export interface ReplayOptions {
  /** 1 = real time, 10 = ten times faster; Infinity = no waiting. */
  speed: number;
  maxGapMs: number;
}

export function replayTimeline(threads: ThreadView[], o: ReplayOptions): ReplayStep[] {
  const found: { turn: TurnView; depth: number; threadIndex: number; retry: boolean }[] = [];
  const visit = (view: ThreadView, depth: number): void => {
    const threadIndex = order.length;
    order.push(view.thread.id);
    const retries = retryFlags(view);
    view.turns.forEach((turn, i) => found.push({ turn, depth, threadIndex, retry: retries[i]! }));
    for (const child of view.children) visit(child.view, depth + 1);
  };
  const order: string[] = [];
  for (const view of threads) visit(view, 0);
  // Stable: turns that started in the same millisecond keep their thread order.
  found.sort((a, b) => a.turn.startedAt - b.turn.startedAt);
  let previous: number | undefined;
  return found.map((step) => {
    const gapMs = previous === undefined ? 0 : Math.max(0, step.turn.startedAt - previous);
    previous = step.turn.startedAt;
    const waitMs = o.speed === Infinity ? 0 : Math.min(o.maxGapMs, gapMs / o.speed);
    return { ...step, gapMs, waitMs: Math.round(waitMs) };
  });
}

/**
 * Which turns an earlier one in their thread already had: the same request sent again.
 * Not only the turn just before: a resend may come after later turns (a script run
 * twice), and the archive keeps its turn number all the same (sessions counts it so).
 * `show`'s text and the replay timeline (here) both mark retries by it.
 */
export function retryFlags(view: Pick<ThreadView, 'turns'>): boolean[] {
  const seen = new Set<number>();
  return view.turns.map((t) => {
    const again = seen.has(t.turn);
    seen.add(t.turn);
    return again;
  });
}
