import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { EXCHANGE_CSV_COLUMNS, exchangeCsvLines } from '../../src/archive/export-csv.js';
import { makeExchange } from '../../src/exchange.js';
import { openArchive } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

describe('exchangeCsvLines', () => {
  it('one row per exchange, oldest first, quoted where needed, formulas kept from running, no bodies', () => {
    const archive = openArchive(':memory:');
    const base = (id: string, i: number) => exchangeToRow(makeExchange({ id, timings: { start: T0 + i * 1000, firstByte: T0 + i * 1000 + 120, end: T0 + i * 1000 + 800 } }));
    archive.insertExchanges([
      { ...base('b', 1), model: '=HYPERLINK("http://x")', client_user: 'alice', path: '/v1/chat/completions?a=1,2', api: 'chat.completions', status: 200, outcome: 'completed', input_tokens: 100, cached_input_tokens: 40, output_tokens: 7, cost_usd: 0.00019920000000000002, cost_source: 'api', request_body: Buffer.from('{"secret prompt":1}'), stream: 1,
        policy: JSON.stringify({ decisions: [{ rule: 'cache-all', kind: 'cache', action: 'miss', enforced: true, key: 'abcd' }, { rule: 'watch', kind: 'access', action: 'deny', enforced: false }] }) },
      { ...base('a', 0), model: 'claude-sonnet-4-5', api: 'messages', status: 429, outcome: 'blocked', error_code: 'rate_limited', input_tokens: 21, cached_input_tokens: 4, cache_creation_input_tokens: 0, output_tokens: 9,
        policy: JSON.stringify({ decisions: [{ rule: 'per-user', kind: 'rateLimit', action: 'limit', enforced: true, key: 'alice', retryAfterSeconds: 3, limit: 'requests' }], blocked: 'rate_limited' }) },
    ]);
    const text = [...exchangeCsvLines(archive)].join('\n');
    archive.close();
    const [header, ...rows] = parse(text) as string[][];
    expect(header).toEqual([...EXCHANGE_CSV_COLUMNS]);
    const byColumn = rows.map((r) => Object.fromEntries(header!.map((c, i) => [c, r[i]])));
    expect(byColumn.map((r) => r.id)).toEqual(['a', 'b']);
    expect(byColumn[0]).toMatchObject({ started_at: '2026-12-01T10:00:00.000Z', model: 'claude-sonnet-4-5', status: '429', error_code: 'rate_limited', prompt_tokens: '25', input_tokens: '21', ttfb_ms: '120', duration_ms: '800', policy: 'blocked:rate_limited per-user:limit' });
    expect(byColumn[1]).toMatchObject({ user: 'alice', model: '\'=HYPERLINK("http://x")', path: '/v1/chat/completions?a=1,2', stream: 'true', prompt_tokens: '100', cost_usd: '0.0001992', policy: 'cache-all:miss watch:deny(monitor)' });
    expect(text).not.toContain('secret prompt');
  });
});
