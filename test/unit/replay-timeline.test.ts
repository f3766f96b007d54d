import { describe, expect, it } from 'vitest';
import { replayTimeline } from '../../src/sessions/replay-timeline.js';
import type { ThreadView, TurnView } from '../../src/sessions/turns.js';

function turn(threadId: string, n: number, startedAt: number): TurnView {
  return {
    exchangeId: `${threadId}-${n}`, threadId, turn: n, startedAt, model: 'm', status: 200, outcome: 'completed', latencyMs: 10, ttftMs: 5,
    promptTokens: 1, cachedTokens: 0, outputTokens: 1, costUsd: null, apiEquivalent: false, added: [],
    answer: { text: '', thinking: null, toolCalls: [], stopReason: null },
  };
}

function thread(id: string, turns: TurnView[], children: ThreadView['children'] = []): ThreadView {
  return { thread: { id } as ThreadView['thread'], turns, children };
}

describe('replay timeline', () => {
  it('interleaves a subagent thread with its parent by start time, and scales the recorded gaps', () => {
    const sub = thread('sub', [turn('sub', 1, 1_500), turn('sub', 2, 2_500)]);
    const main = thread('main', [turn('main', 1, 1_000), turn('main', 2, 4_000)], [{ afterTurn: 0, toolCallId: 'call_1', view: sub }]);
    const steps = replayTimeline([main], { speed: 2, maxGapMs: 60_000 });
    expect(steps.map((s) => s.turn.exchangeId)).toEqual(['main-1', 'sub-1', 'sub-2', 'main-2']);
    expect(steps.map((s) => s.depth)).toEqual([0, 1, 1, 0]);
    expect(steps.map((s) => s.gapMs)).toEqual([0, 500, 1_000, 1_500]);
    expect(steps.map((s) => s.waitMs)).toEqual([0, 250, 500, 750]);
  });

  it('caps a long idle gap, and waits not at all at infinite speed', () => {
    const main = thread('main', [turn('main', 1, 0), turn('main', 2, 3_600_000)]);
    expect(replayTimeline([main], { speed: 1, maxGapMs: 10_000 }).map((s) => s.waitMs)).toEqual([0, 10_000]);
    expect(replayTimeline([main], { speed: Infinity, maxGapMs: 10_000 }).map((s) => s.waitMs)).toEqual([0, 0]);
    expect(replayTimeline([main], { speed: Infinity, maxGapMs: 10_000 })[1]!.gapMs).toBe(3_600_000);
  });

  it('marks a resend of a turn its thread already had as a retry, as show and sessions count it', () => {
    const main = thread('main', [turn('main', 1, 0), turn('main', 2, 100), turn('main', 1, 200), turn('main', 3, 300)]);
    const sub = thread('sub', [turn('sub', 1, 150)]);
    main.children.push({ afterTurn: 0, toolCallId: null, view: sub });
    const steps = replayTimeline([main], { speed: Infinity, maxGapMs: 1 });
    expect(steps.map((s) => [s.turn.threadId, s.turn.turn, s.retry])).toEqual([['main', 1, false], ['main', 2, false], ['sub', 1, false], ['main', 1, true], ['main', 3, false]]);
  });

  it('keeps thread order for turns that started in the same millisecond', () => {
    const a = thread('a', [turn('a', 1, 100)]);
    const b = thread('b', [turn('b', 1, 100)]);
    expect(replayTimeline([a, b], { speed: 1, maxGapMs: 1 }).map((s) => s.threadIndex)).toEqual([0, 1]);
  });
});
