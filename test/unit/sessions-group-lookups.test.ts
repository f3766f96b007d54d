import { describe, expect, it } from 'vitest';
import { placeExchange, type ExchangeSummary } from '../../src/sessions/group.js';
import { MemoryGroupIndex } from '../../src/sessions/group-index.js';
import { answer, claudeCodeHeaders, summarize } from './sessions-fixtures.js';

/**
 * Rerank and embeddings are stateless lookups: the same query sent twice is two lookups.
 * A resend is a retry (same turn, counted apart) only when the attempt it repeats failed
 * or was cut.
 */
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

function rerank(id: string, at: number, failed = false, headers: string[] = []): ExchangeSummary {
  const summary = summarize({
    id, startedAt: T0 + at, address: '127.0.0.1', api: 'rerank', headers,
    body: { model: 'rerank-v3.5', query: 'What is the capital of France?', documents: ['Paris is the capital.', 'Berlin is in Germany.'], top_n: 1 },
    answer: answer('#0 0.98'),
  });
  return failed ? { ...summary, failed: true } : summary;
}

function embed(id: string, at: number, failed = false): ExchangeSummary {
  const summary = summarize({ id, startedAt: T0 + at, address: '127.0.0.1', api: 'embeddings', headers: [], body: { model: 'text-embedding-3-small', input: ['What is the capital of France?', 'Paris'] } });
  return failed ? { ...summary, failed: true } : summary;
}

function place(summaries: ExchangeSummary[]): [string, string, number, boolean][] {
  const index = new MemoryGroupIndex();
  return summaries.map((s) => {
    const { grouping: g, retry } = placeExchange(s, index);
    return [g.sessionId, g.threadId, g.turn, retry];
  });
}

describe('lookups (rerank, embeddings) and retries', () => {
  it('the same rerank query twice, the first answered, is two lookups: neither is a retry', () => {
    expect(place([rerank('r1', 0), rerank('r2', 1000)])).toEqual([['r1', 'r1', 1, false], ['r2', 'r2', 1, false]]);
  });

  it('the same rerank resent after the first attempt failed or was cut is a retry of it', () => {
    expect(place([rerank('r1', 0, true), rerank('r2', 1000), rerank('r3', 2000)])).toEqual([['r1', 'r1', 1, false], ['r1', 'r1', 1, true], ['r3', 'r3', 1, false]]);
  });

  it('in a session named on the wire, identical reranks are a turn each unless the one before failed', () => {
    const sid = 'a3c1f7e0-5b2d-4e8f-9c1a-7d6e5f4a3b21';
    const h = claudeCodeHeaders(sid);
    expect(place([rerank('r1', 0, false, h), rerank('r2', 1000, false, h), rerank('r3', 2000, true, h), rerank('r4', 3000, false, h)]).map(([, , turn, retry]) => [turn, retry]))
      .toEqual([[1, false], [2, false], [3, false], [3, true]]);
  });

  it('embeddings likewise: the same input twice is two lookups, a resend after a failed attempt its retry', () => {
    expect(place([embed('e1', 0), embed('e2', 1000)])).toEqual([['e1', 'e1', 1, false], ['e2', 'e2', 1, false]]);
    expect(place([embed('e1', 0, true), embed('e2', 1000), embed('e3', 2000)])).toEqual([['e1', 'e1', 1, false], ['e1', 'e1', 1, true], ['e3', 'e3', 1, false]]);
  });

  it('a chat request resent as is stays a retry whatever became of the first attempt (unchanged)', () => {
    const chat = (id: string, at: number): ExchangeSummary => summarize({
      id, startedAt: T0 + at, address: '127.0.0.1', api: 'chat.completions', headers: [], body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }, answer: answer('Hello.'),
    });
    expect(place([chat('h1', 0), chat('h2', 1000)])).toEqual([['h1', 'h1', 1, false], ['h1', 'h1', 1, true]]);
  });
});
