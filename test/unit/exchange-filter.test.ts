import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { exchangeWhere } from '../../src/archive/exchange-filter.js';
import { csvText } from '../../src/archive/csv.js';
import { isErrorSql } from '../../src/failed-exchange.js';

describe('the exchange filter as SQL', () => {
  it('one parameterised clause; values never become SQL', () => {
    expect(exchangeWhere({})).toEqual({ where: '', and: '', params: [] });
    expect(exchangeWhere({ since: 1, until: 2, tool: 'codex', model: "x' OR 1=1", user: 'bob', label: 'ci', status: '5xx' })).toEqual({
      where: 'WHERE started_at >= ? AND started_at < ? AND tool_name = ? AND model = ? AND client_user = ? AND client_label = ? AND status >= ? AND status < ?',
      and: 'AND started_at >= ? AND started_at < ? AND tool_name = ? AND model = ? AND client_user = ? AND client_label = ? AND status >= ? AND status < ?',
      params: [1, 2, 'codex', "x' OR 1=1", 'bob', 'ci', 500, 600],
    });
    expect(exchangeWhere({ users: ['a', 'b'], host: 'h' }, 'e.')).toEqual({ where: 'WHERE e.host = ? AND e.client_user IN (?, ?)', and: 'AND e.host = ? AND e.client_user IN (?, ?)', params: ['h', 'a', 'b'] });
    expect(exchangeWhere({ users: [] }).where).toBe('WHERE 0');
    const where = exchangeWhere({ status: 'error' }, 'e.').where;
    expect(where).toBe(`WHERE ${isErrorSql('e.')}`);
    expect(where.replace(/\be\.(outcome|status|stop_reason)\b/g, '').match(/\b(outcome|status|stop_reason)\b/)).toBeNull();
    expect(exchangeWhere({ status: '429' }).params).toEqual([429]);
    expect(exchangeWhere({ status: 'nonsense', tool: '' })).toEqual({ where: '', and: '', params: [] });
  });

  it('(none), as stats shows a group without a value, selects the exchanges without one', () => {
    expect(exchangeWhere({ tool: '(none)', user: '(none)', model: 'gpt-4o' })).toEqual({
      where: 'WHERE tool_name IS NULL AND model = ? AND client_user IS NULL', and: 'AND tool_name IS NULL AND model = ? AND client_user IS NULL', params: ['gpt-4o'],
    });
    // A session id is never missing from what a filter names.
    expect(exchangeWhere({ session: '(none)' }).params).toEqual(['(none)']);
  });

  it('anyModel (--model, the web UI\'s list) finds a WebSocket session by any model that answered in it; model by its own only', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE exchanges (id TEXT, model TEXT, model_usage TEXT)');
    const usage = JSON.stringify([{ model: 'gpt-5-codex', responses: 2 }, { model: 'gpt-5-mini', responses: 1 }]);
    const insert = db.prepare('INSERT INTO exchanges VALUES (?, ?, ?)');
    insert.run('switched', 'gpt-5-mini', usage);
    insert.run('codex', 'gpt-5-codex', null);
    insert.run('unnamed', null, null);
    const ids = (filter: Parameters<typeof exchangeWhere>[0], alias = '', window = false): string[] => {
      const { where, params } = exchangeWhere(filter, alias, window);
      return db.prepare(`SELECT ${alias}id FROM exchanges ${alias ? alias.slice(0, -1) : ''} ${where} ORDER BY ${alias}id`).pluck().all(...params) as string[];
    };
    expect(ids({ anyModel: 'gpt-5-codex' })).toEqual(['codex', 'switched']);
    expect(ids({ anyModel: 'gpt-5-mini' }, 'e.')).toEqual(['switched']);
    expect(ids({ anyModel: 'gpt-5' })).toEqual([]);
    expect(ids({ anyModel: '(none)' })).toEqual(['unnamed']);
    expect(ids({ model: 'gpt-5-codex' })).toEqual(['codex']);
    // Tested row by row (tail's window of rows): the same rows.
    for (const alias of ['', 'e.']) {
      expect(ids({ anyModel: 'gpt-5-codex' }, alias, true)).toEqual(['codex', 'switched']);
      expect(ids({ anyModel: 'gpt-5-mini' }, alias, true)).toEqual(['switched']);
      expect(ids({ anyModel: 'gpt-5' }, alias, true)).toEqual([]);
      expect(ids({ anyModel: '(none)' }, alias, true)).toEqual(['unnamed']);
    }
    db.close();
  });
});

describe('--csv', () => {
  it('flattens nested figures into columns, quotes what needs quoting and keeps a formula from running', () => {
    const text = csvText([
      { model: 'gpt-4o', requests: 2, tokens: { input: 10, output: 3 }, cost_usd: 0.5 },
      { model: '=HYPERLINK("http://x","y")', requests: 1, tokens: { input: 1, output: null }, cost_usd: null },
      { model: 'a,"b"', requests: 1, tokens: { input: 0, output: 0 }, cost_usd: 0, extra: true },
    ], {});
    expect(text).toBe([
      'model,requests,tokens_input,tokens_output,cost_usd,extra',
      'gpt-4o,2,10,3,0.5,',
      `"'=HYPERLINK(""http://x"",""y"")",1,1,,,`,
      '"a,""b""",1,0,0,0,true',
      '',
    ].join('\n'));
  });

  it('gives the header alone when nothing matched', () => {
    expect(csvText([], { rule: '', kind: '', counts: { blocked: 0 } })).toBe('rule,kind,counts_blocked\n');
  });
});
