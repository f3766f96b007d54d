import { describe, expect, it } from 'vitest';
import { snippetAround, textFinder } from '../../src/archive/text-search.js';
import { listExchanges } from '../../src/archive/exchange-list.js';
import { firstMatches } from '../../src/cli/search.js';
import type { TextSearchRow } from '../../src/archive/store.js';
import { makeExchange } from '../../src/exchange.js';
import { openArchive } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import type { ExchangeRow } from '../../src/recorder/row-types.js';

const archive = openArchive(':memory:');
const findText = (raw: ExchangeRow, needle: string, db: typeof archive.db) => textFinder(db)(raw, needle);
const row = (body: string | null, answer: string | null = null): ExchangeRow => ({ ...exchangeToRow(makeExchange({ id: 'x' })), request_body: body === null ? null : Buffer.from(body), response_text: answer });

describe('findText', () => {
  it('finds a text in the answer first, then in the prompt\'s string values (not its keys), conversation before tools', () => {
    const body = JSON.stringify({ model: 'gpt-4o', tools: [{ name: 'get_weather', description: 'Weather for a city' }], messages: [{ role: 'user', content: 'Is the weather\nfine in Paris?' }] });
    expect(findText(row(body, 'Sunny, the weather is fine'), 'weather', archive.db)).toEqual({ in: 'answer', snippet: 'Sunny, the weather is fine' });
    expect(findText(row(body), 'weather', archive.db)).toEqual({ in: 'prompt', snippet: 'Is the weather fine in Paris?' });
    expect(findText(row(body), 'a city', archive.db)).toEqual({ in: 'prompt', snippet: 'Weather for a city' });
    expect(findText(row(body), 'messages', archive.db)).toBeUndefined(); // a key, not text
    expect(findText(row(body), 'berlin', archive.db)).toBeUndefined();
  });

  it('reads JSON escapes as what they stand for: quotes, slashes and non-ASCII written as \\u escapes', () => {
    const body = '{"messages":[{"role":"user","content":"say \\"h\\u00e9llo\\" to a\\/b"}]}';
    expect(findText(row(body), '"héllo"', archive.db)).toEqual({ in: 'prompt', snippet: 'say "héllo" to a/b' });
    expect(findText(row(body), 'a/b', archive.db)?.in).toBe('prompt');
  });

  it('searches a WebSocket session\'s prompts in the client\'s text messages (it has no request body), never the server\'s', () => {
    const ws = { ...row(null, 'Hello over WebSocket'), id: 'ws1', status: 101 };
    const message = (seq: number, direction: 'client' | 'server', text: string) => ({ exchange_id: 'ws1', seq, direction, at: seq, opcode: 1, size: text.length, compressed: 0 as const, truncated: 0 as const, text, data: null, error: null });
    archive.insertWsMessages([
      message(0, 'server', '{"type":"session.created","note":"server side octopus"}'),
      message(1, 'client', JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', tools: [{ name: 'shell', description: 'runs an octopus' }], input: [{ role: 'user', content: 'first 🎉 turn' }] })),
      message(2, 'client', JSON.stringify({ type: 'response.create', input: [{ role: 'user', content: 'Tell me about the Octopus' }] })),
    ]);
    expect(findText(ws, 'hello', archive.db)).toEqual({ in: 'answer', snippet: 'Hello over WebSocket' });
    expect(findText(ws, '🎉', archive.db)).toEqual({ in: 'prompt', snippet: 'first 🎉 turn' });
    // The conversation before the tool definitions, in any of the client's messages.
    expect(findText(ws, 'octopus', archive.db)).toEqual({ in: 'prompt', snippet: 'Tell me about the Octopus' });
    expect(findText(ws, 'session.created', archive.db)).toBeUndefined();
  });

  it('a search prepares its WebSocket statement once, not once per session it reads', () => {
    const own = openArchive(':memory:');
    try {
      const ids = ['ws-a', 'ws-b', 'ws-c'];
      own.insertExchanges(ids.map((id, i) => ({ ...row(null), id, status: 101, started_at: 1000 + i })));
      own.insertWsMessages(ids.map((id) => ({ exchange_id: id, seq: 0, direction: 'client' as const, at: 0, opcode: 1, size: 9, compressed: 0 as const, truncated: 0 as const, text: `about ${id}`, data: null, error: null })));
      const prepared: string[] = [];
      const prepare = own.db.prepare.bind(own.db);
      own.db.prepare = ((sql: string) => {
        prepared.push(sql);
        return prepare(sql);
      }) as typeof own.db.prepare;
      expect(listExchanges(own.db, { text: 'about ws', limit: 10 }).map((e) => [e.id, e.match?.snippet])).toEqual([['ws-c', 'about ws-c'], ['ws-b', 'about ws-b'], ['ws-a', 'about ws-a']]);
      expect(prepared.filter((sql) => sql.includes('ws_messages'))).toHaveLength(1);
    } finally {
      own.close();
    }
  });

  it('searches a body that is not JSON as text', () => {
    expect(findText(row('plain text about llamas'), 'llamas', archive.db)).toEqual({ in: 'prompt', snippet: 'plain text about llamas' });
    expect(findText(row(null), 'llamas', archive.db)).toBeUndefined();
  });
});

describe('snippetAround', () => {
  it('is about the width around the match on one line, … where it was cut', () => {
    const text = `${'a'.repeat(200)} needle ${'b'.repeat(200)}`;
    const s = snippetAround(text, 201, 6, 40);
    expect(s).toBe(`…${'a'.repeat(16)} needle ${'b'.repeat(16)}…`);
    expect(snippetAround('short   text\n\there', 0, 5)).toBe('short text here');
  });

  it('never cuts a character written as two UTF-16 units (an emoji) in half', () => {
    for (const width of [38, 39, 40, 41]) {
      const text = `${'🐙'.repeat(40)} needle ${'🎉'.repeat(40)}`;
      const s = snippetAround(text, text.indexOf('needle'), 6, width);
      expect(s).toContain('needle');
      expect(s, s).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    }
  });
});

describe('firstMatches', () => {
  const hit = { in: 'prompt' as const, snippet: 's' };
  const r = (exchangeId: string, sessionId: string | null, found = true): TextSearchRow => ({ exchangeId, sessionId, startedAt: 0, tool: null, model: null, user: null, hit: found ? hit : undefined });
  const rows = [r('e5', 'a'), r('e4', 'a'), r('e3', null), r('e2', 'b', false), r('e1', 'b')];

  it('one per session (its newest), every exchange with every; at most the limit', () => {
    expect(firstMatches(rows, 10, false).map((x) => x.exchangeId)).toEqual(['e5', 'e3', 'e1']);
    expect(firstMatches(rows, 10, true).map((x) => x.exchangeId)).toEqual(['e5', 'e4', 'e3', 'e1']);
    expect(firstMatches(rows, 2, false).map((x) => x.exchangeId)).toEqual(['e5', 'e3']);
  });

  it('stops reading once it has enough', () => {
    let read = 0;
    function* counting(): Generator<TextSearchRow> {
      for (const x of rows) {
        read++;
        yield x;
      }
    }
    firstMatches(counting(), 1, false);
    expect(read).toBe(1);
  });
});
