import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { COMPLETIONS_IDLE_GAP_MS, assignGroup, type ExchangeSummary, type Grouping } from '../../src/sessions/group.js';
import { GROUP_KEYS_DDL, MemoryGroupIndex, SqliteGroupIndex, type GroupIndex } from '../../src/sessions/group-index.js';
import { StagedGroupIndex } from '../../src/sessions/staged-group-index.js';
import { answer, summarize, type Wire } from './sessions-fixtures.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;

/** One of Copilot's inline-suggestion requests: the code before the cursor, and after it. */
function completion(id: string, at: number, prompt: string, overrides: Partial<Wire> = {}): ExchangeSummary {
  return summarize({
    id, startedAt: T0 + at, address: '127.0.0.1', toolName: 'copilot', api: 'completions', headers: [],
    body: { prompt, suffix: '\n', max_tokens: 500, stream: true }, answer: answer('    return a + b'), ...overrides,
  });
}

function chat(id: string, at: number, text: string): ExchangeSummary {
  return summarize({
    id, startedAt: T0 + at, address: '127.0.0.1', toolName: 'copilot', api: 'chat.completions', headers: [],
    body: { model: 'gpt-4o', messages: [{ role: 'user', content: text }] }, answer: answer('Sure.'),
  });
}

function run(summaries: ExchangeSummary[], index: GroupIndex = new MemoryGroupIndex()): Grouping[] {
  return summaries.map((s) => assignGroup(s, index));
}

describe('text Completions (Copilot\'s inline suggestions)', () => {
  it('completions that keep coming from one client are one session, a turn each; the same prompt resent at once is a retry', () => {
    const groups = run([
      completion('c1', 0, 'def add(a, b):'),
      completion('c2', 2000, 'def add(a, b):\n    return a + b\n\ndef sub(a, b):'),
      completion('c3', 2500, 'def add(a, b):\n    return a + b\n\ndef sub(a, b):'),
      // Each gap under the idle gap, though the run lasts longer than it.
      completion('c4', 25 * MINUTE, 'def mul(a, b):'),
      completion('c5', 50 * MINUTE, 'def div(a, b):'),
    ]);
    expect(groups).toEqual([
      { sessionId: 'c1', threadId: 'c1', turn: 1 },
      { sessionId: 'c1', threadId: 'c1', turn: 2 },
      { sessionId: 'c1', threadId: 'c1', turn: 2 },
      { sessionId: 'c1', threadId: 'c1', turn: 3 },
      { sessionId: 'c1', threadId: 'c1', turn: 4 },
    ]);
  });

  it('a pause longer than the idle gap starts a new session', () => {
    expect(COMPLETIONS_IDLE_GAP_MS).toBe(30 * MINUTE);
    const groups = run([
      completion('c1', 0, 'def add(a, b):'),
      completion('c2', COMPLETIONS_IDLE_GAP_MS, 'def sub(a, b):'),
      completion('c3', 2 * COMPLETIONS_IDLE_GAP_MS + 1, 'def mul(a, b):'),
      completion('c4', 2 * COMPLETIONS_IDLE_GAP_MS + 1000, 'def div(a, b):'),
    ]);
    expect(groups.map((g) => [g.sessionId, g.turn])).toEqual([['c1', 1], ['c1', 2], ['c3', 1], ['c3', 2]]);
  });

  it('another address, tool, user or label is another session', () => {
    const groups = run([
      completion('c1', 0, 'def add(a, b):'),
      completion('c2', 1000, 'def sub(a, b):', { address: '10.0.0.7' }),
      completion('c3', 2000, 'def mul(a, b):', { toolName: 'continue' }),
      { ...completion('c4', 3000, 'def div(a, b):'), clientUser: 'bob' },
      { ...completion('c5', 4000, 'def mod(a, b):'), clientLabel: 'review' },
      completion('c6', 5000, 'def pow(a, b):'),
    ]);
    expect(groups.map((g) => [g.sessionId, g.turn])).toEqual([['c1', 1], ['c2', 1], ['c3', 1], ['c4', 1], ['c5', 1], ['c1', 2]]);
  });

  it('a chat request of the same client between completions is a session of its own and does not break the run', () => {
    const groups = run([
      completion('c1', 0, 'def add(a, b):'),
      chat('h1', 1000, 'Explain this function'),
      completion('c2', 2000, 'def sub(a, b):'),
      chat('h2', 3000, 'Write a test for it'),
    ]);
    expect(groups.map((g) => [g.sessionId, g.turn])).toEqual([['c1', 1], ['h1', 1], ['c1', 2], ['h2', 1]]);
  });

  it('an explicit session id from the client still wins', () => {
    const groups = run([
      completion('c1', 0, 'def add(a, b):'),
      { ...completion('c2', 1000, 'def sub(a, b):'), agent: { sessionId: 'S-1' } },
      completion('c3', 2000, 'def mul(a, b):'),
    ]);
    expect(groups.map((g) => [g.sessionId, g.turn])).toEqual([['c1', 1], ['S-1', 1], ['c1', 2]]);
  });

  it('the run survives batching and a restart (the keys are stored), and goes with the other keys when pruned', () => {
    const db = new Database(':memory:');
    db.exec(GROUP_KEYS_DDL);
    const batch = (summaries: ExchangeSummary[]): Grouping[] => {
      const staged = new StagedGroupIndex(new SqliteGroupIndex(db));
      const groups = summaries.map((s) => {
        const g = assignGroup(s, staged);
        staged.keep();
        return g;
      });
      staged.write();
      return groups;
    };
    expect(batch([completion('c1', 0, 'def add(a, b):'), completion('c2', 1000, 'def sub(a, b):')]).map((g) => g.sessionId)).toEqual(['c1', 'c1']);
    // A new index over the same archive: what a restarted proxy sees.
    expect(batch([completion('c3', 5 * MINUTE, 'def mul(a, b):')])).toEqual([{ sessionId: 'c1', threadId: 'c1', turn: 3 }]);
    new SqliteGroupIndex(db).prune(T0 + 5 * MINUTE + 1);
    expect(batch([completion('c4', 6 * MINUTE, 'def div(a, b):')])).toEqual([{ sessionId: 'c4', threadId: 'c4', turn: 1 }]);
  });
});
