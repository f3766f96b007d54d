import { usdFigure } from '../archive/stats-json.js';
import type { ThreadView, TurnView } from './turns.js';

/**
 * Turns and threads as `show --json` and `replay --json` print them: their dollar figures
 * as `sessions --json`, `stats --json` and the CSV give them (usdFigure: 0.0001992, not the
 * sum of a price's parts, 0.00019920000000000002). Everything else as the views hold it. Pure.
 */
export function turnJson(turn: TurnView): TurnView {
  return { ...turn, costUsd: usdFigure(turn.costUsd) };
}

export function threadsJson(views: readonly ThreadView[]): ThreadView[] {
  return views.map((v) => ({
    thread: { ...v.thread, costUsd: usdFigure(v.thread.costUsd) },
    turns: v.turns.map(turnJson),
    children: v.children.map((c) => ({ ...c, view: threadsJson([c.view])[0]! })),
  }));
}
