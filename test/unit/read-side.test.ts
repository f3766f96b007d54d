import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteArchiveReader } from '../../src/archive/sqlite-reader.js';
import { readCacheEntries, writeCacheOps } from '../../src/cache/cache-table.js';
import type { CacheEntry } from '../../src/cache/response-cache.js';
import { percentile } from '../../src/archive/stats-table.js';
import { bucketStep } from '../../src/archive/time-series.js';
import { makeExchange } from '../../src/exchange.js';
import { openArchive, SCHEMA_VERSION, type Archive, type ExchangeRow } from '../../src/recorder/db.js';
import type { WsMessageRow } from '../../src/recorder/row-types.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { SessionRollup } from '../../src/recorder/session-rollup.js';
import { addQuota, quotaWindows } from '../../src/sessions/quota-burn.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

function row(i: number, over: Partial<ExchangeRow>): ExchangeRow {
  const ex = makeExchange({ id: `ex-${String(i).padStart(3, '0')}`, timings: { start: T0 + i * 1000, firstByte: T0 + i * 1000 + 100 * (i + 1), end: T0 + i * 1000 + 1000 * (i + 1) } });
  return { ...exchangeToRow(ex), status: 200, outcome: 'completed', ...over };
}

describe('quota burn', () => {
  it('reads the utilization windows in percent', () => {
    expect(quotaWindows({ anthropic: { 'unified-5h-utilization': 0.42, 'unified-7d-utilization': 0.3 }, codex: { 'primary-used-percent': 12 } }))
      .toEqual({ 'anthropic.5h': 42, 'anthropic.7d': 30, 'codex.primary': 12 });
    expect(quotaWindows({ anthropic: { 'unified-5h-utilization': 'soon' } })).toEqual({});
  });

  it('adds rises, restarts after a reset, and takes the first value as the baseline', () => {
    let burn = addQuota(undefined, { 'anthropic.5h': 10 });
    expect(burn).toEqual({ 'anthropic.5h': { last: 10, burn: 0 } });
    burn = addQuota(burn, { 'anthropic.5h': 14 });
    burn = addQuota(burn, { 'anthropic.5h': 2 }); // the window reset in between
    burn = addQuota(burn, {});
    expect(burn).toEqual({ 'anthropic.5h': { last: 2, burn: 6 } });
  });
});

describe('percentile', () => {
  it('is nearest-rank', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
  });
});

describe('session rollup and the SQLite reader', () => {
  let dir: string;
  let archive: Archive;
  let reader: SqliteArchiveReader;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmtap-read-'));
    archive = openArchive(join(dir, 'a.db'));
    reader = new SqliteArchiveReader(join(dir, 'a.db'));
  });
  afterEach(() => {
    reader.close();
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function write(rows: Array<[ExchangeRow, { sessionId: string; threadId: string; turn: number; parentThreadId?: string; agentId?: string }]>): void {
    const rollup = new SessionRollup(archive.db);
    archive.db.transaction(() => {
      for (const [r, g] of rows) {
        const grouped = { ...r, session_id: g.sessionId, thread_id: g.threadId, turn: g.turn };
        archive.insertExchanges([grouped]);
        rollup.add(grouped, g);
      }
    })();
  }

  it('keeps per-session and per-thread totals, counting prompt tokens the same way for every provider', () => {
    write([
      // Anthropic: input excludes cache reads and writes.
      [row(0, { api: 'messages', model: 'claude-sonnet-4-5', tool_name: 'claude-code', input_tokens: 10, cached_input_tokens: 1000, cache_creation_input_tokens: 50, output_tokens: 20, cost_usd: 0.01, cost_source: 'api_equivalent', quota: JSON.stringify({ anthropic: { 'unified-5h-utilization': 0.1 } }) }), { sessionId: 's1', threadId: 't1', turn: 1 }],
      [row(1, { api: 'messages', model: 'claude-haiku-4-5', tool_name: 'claude-code', input_tokens: 5, output_tokens: 5, cost_usd: null, quota: JSON.stringify({ anthropic: { 'unified-5h-utilization': 0.13 } }) }), { sessionId: 's1', threadId: 't2', turn: 1, parentThreadId: 't1', agentId: 'agent-1' }],
      // OpenAI: input includes the cached part.
      [row(2, { api: 'chat.completions', model: 'gpt-4o', tool_name: 'openai-sdk', client_user: 'alice', client_label: 'ci', input_tokens: 100, cached_input_tokens: 40, output_tokens: 7, cost_usd: 0.002, cost_source: 'api', status: 500 }), { sessionId: 's2', threadId: 't3', turn: 1 }],
    ]);
    const sessions = reader.sessions({ limit: 10 });
    expect(sessions.map((s) => s.id)).toEqual(['s2', 's1']); // newest first
    const s1 = sessions.find((s) => s.id === 's1')!;
    expect(s1).toMatchObject({ threads: 2, exchanges: 2, inputTokens: 1060 + 5, outputTokens: 25, cachedInputTokens: 1000, unpriced: 1, apiEquivalent: true, tool: 'claude-code', models: ['claude-sonnet-4-5', 'claude-haiku-4-5'] });
    expect(s1.costUsd).toBeCloseTo(0.01, 10);
    expect(s1.quota).toEqual({ 'anthropic.5h': { last: 13, burn: 3 } });
    const s2 = sessions.find((s) => s.id === 's2')!;
    expect(s2).toMatchObject({ inputTokens: 100, cachedInputTokens: 40, errors: 1, apiEquivalent: false });
    expect(reader.sessions({ limit: 10, tool: 'openai-sdk' }).map((s) => s.id)).toEqual(['s2']);
    expect(reader.sessions({ limit: 10, user: 'alice' }).map((s) => s.id)).toEqual(['s2']);
    expect(reader.sessions({ limit: 10, user: 'bob' })).toEqual([]);
    expect(reader.sessions({ limit: 10, model: 'claude-haiku-4-5' }).map((s) => s.id)).toEqual(['s1']);
    expect(reader.sessions({ limit: 10, model: 'gpt-4o', label: 'ci' }).map((s) => s.id)).toEqual(['s2']);
    expect(reader.sessions({ limit: 10, label: 'nightly' })).toEqual([]);
    expect(reader.sessions({ limit: 1 })).toHaveLength(1);

    const detail = reader.session('s1')!;
    expect(detail.exchanges.map((e) => e.id)).toEqual(['ex-000', 'ex-001']);
    expect(detail.threads.map((t) => [t.id, t.parentThreadId, t.agentId])).toEqual([['t1', null, null], ['t2', 't1', 'agent-1']]);
  });

  it('stats group, sum and take percentiles; cache hit ratio is cached over all prompt tokens', () => {
    write([
      [row(0, { api: 'chat.completions', model: 'gpt-4o', input_tokens: 100, cached_input_tokens: 50, cost_usd: 0.5 }), { sessionId: 's', threadId: 't', turn: 1 }],
      [row(1, { api: 'chat.completions', model: 'gpt-4o', input_tokens: 100, cached_input_tokens: 0, cost_usd: 0.25 }), { sessionId: 's', threadId: 't', turn: 2 }],
      [row(2, { api: 'chat.completions', model: 'mystery', input_tokens: 1, cost_usd: null }), { sessionId: 's', threadId: 't', turn: 3 }],
    ]);
    const stats = reader.statsTable({ by: 'model' }).rows;
    expect(stats.map((s) => s.key)).toEqual(['gpt-4o', 'mystery']); // by cost
    expect(stats[0]).toMatchObject({ requests: 2, inputTokens: 200, cachedInputTokens: 50, cacheHitRatio: 0.25, latencyP50Ms: 1000, latencyP95Ms: 2000, ttftP50Ms: 100 });
    expect(stats[0]!.costUsd).toBeCloseTo(0.75, 10);
    expect(stats[1]).toMatchObject({ costUsd: null, unpriced: 1 });
    expect(reader.statsTable({ by: 'day' }).rows.map((s) => s.key)).toEqual(['2026-12-01']);
    expect(reader.statsTable({ by: 'model', since: T0 + 1500 }).rows.map((s) => s.key)).toEqual(['mystery']);
    // The total row: sums of the groups, percentiles over every exchange in the range at once.
    const { rows, total } = reader.statsTable({ by: 'model' });
    expect(rows).toEqual(stats);
    expect(total).toMatchObject({ key: 'total', requests: 3, inputTokens: 201, cachedInputTokens: 50, unpriced: 1, latencyP50Ms: 2000, latencyP95Ms: 3000, ttftP50Ms: 200, ttftP95Ms: 300 });
    expect(total!.costUsd).toBeCloseTo(0.75, 10);
    expect(reader.statsTable({ by: 'model', since: T0 + 10_000 })).toEqual({ rows: [], total: undefined });
  });

  it('a request llmtap refused (outcome blocked: it never went upstream), or a provider\'s error answer that counted nothing, cost nothing: not counted unpriced in stats nor in its session', () => {
    write([
      [row(0, { api: 'chat.completions', model: 'gpt-4o', input_tokens: 100, cost_usd: 0.5 }), { sessionId: 's', threadId: 't', turn: 1 }],
      [row(1, { api: 'chat.completions', model: 'gpt-4o', status: 403, outcome: 'blocked', error_code: 'model_not_allowed', cost_usd: null }), { sessionId: 's', threadId: 't', turn: 2 }],
      [row(2, { api: 'chat.completions', model: 'gpt-4o', status: 502, outcome: 'upstream_error', cost_usd: null }), { sessionId: 's', threadId: 't', turn: 3 }],
      [row(3, { api: 'chat.completions', model: 'gpt-4o', status: 404, outcome: 'completed', cost_usd: null }), { sessionId: 's', threadId: 't', turn: 4 }],
    ]);
    // The upstream error may have been billed (tokens unknown): still unpriced; the refusal was not sent at all;
    // the provider's own 404 that counted nothing was billed to nobody.
    expect(reader.statsTable({ by: 'model' }).total).toMatchObject({ requests: 4, unpriced: 1, costUsd: 0.5 });
    expect(reader.sessions({ limit: 5 })[0]).toMatchObject({ exchanges: 4, unpriced: 1, costUsd: 0.5 });
  });

  it('stats by team: members under their team, everyone else as a per-team budget keys them; --until ends the range', () => {
    write([
      [row(0, { client_user: 'alice', input_tokens: 10, cost_usd: 0.5 }), { sessionId: 's', threadId: 't', turn: 1 }],
      [row(1, { client_user: 'bob', input_tokens: 20, cost_usd: 0.25, status: 500 }), { sessionId: 's', threadId: 't', turn: 2 }],
      [row(2, { client_user: 'carol', input_tokens: 30, cost_usd: null }), { sessionId: 's', threadId: 't', turn: 3 }],
      [row(3, { client_user: null, client_address: '10.0.0.7', input_tokens: 40, cost_usd: 0.125 }), { sessionId: 's', threadId: 't', turn: 4 }],
    ]);
    const teams = new Map([['alice', 'platform'], ['bob', 'platform']]);
    const { rows, total } = reader.statsTable({ by: 'team', teams });
    expect(rows.map((r) => [r.key, r.requests, r.errors, r.inputTokens, r.costUsd, r.unpriced])).toEqual([
      ['team:platform', 2, 1, 30, 0.75, 0], ['user:10.0.0.7', 1, 0, 40, 0.125, 0], ['user:carol', 1, 0, 30, null, 1],
    ]);
    // Percentiles over the team's own exchanges: latencies 1 s and 2 s.
    expect(rows[0]).toMatchObject({ latencyP50Ms: 1000, latencyP95Ms: 2000, ttftP50Ms: 100, ttftP95Ms: 200 });
    expect(total).toMatchObject({ requests: 4, inputTokens: 100, unpriced: 1, latencyP95Ms: 4000 });
    // A range [since, until): only bob's and carol's exchanges.
    expect(reader.statsTable({ by: 'team', teams, since: T0 + 1000, until: T0 + 3000 }).rows.map((r) => r.key)).toEqual(['team:platform', 'user:carol']);
    expect(reader.statsTable({ by: 'user', until: T0 + 1000 }).rows.map((r) => r.key)).toEqual(['alice']);
    expect([reader.countExchanges(), reader.countExchanges(T0 + 2000)]).toEqual([4, 2]);
  });

  it('stats and rule stats narrowed by tool, model, host, user, label, status and a team\'s members, all at once', () => {
    const denied = JSON.stringify({ decisions: [{ rule: 'no-o3', kind: 'access', action: 'deny', enforced: true }] });
    write([
      [row(0, { client_user: 'alice', tool_name: 'codex', model: 'gpt-5', client_label: 'ci', cost_usd: 0.5 }), { sessionId: 's', threadId: 't', turn: 1 }],
      [row(1, { client_user: 'bob', tool_name: 'codex', model: 'o3', status: 403, policy: denied }), { sessionId: 's', threadId: 't', turn: 2 }],
      [row(2, { client_user: 'carol', tool_name: 'claude-code', model: 'gpt-5', host: 'api.anthropic.com', cost_usd: 0.25 }), { sessionId: 's', threadId: 't', turn: 3 }],
      [row(3, { client_user: 'bob', tool_name: 'codex', model: 'gpt-5', status: 429, policy: denied }), { sessionId: 's', threadId: 't', turn: 4 }],
    ]);
    const keys = (q: Parameters<typeof reader.statsTable>[0]) => reader.statsTable(q).rows.map((r) => [r.key, r.requests]);
    expect(keys({ by: 'model', tool: 'codex' })).toEqual([['gpt-5', 2], ['o3', 1]]);
    expect(keys({ by: 'tool', model: 'gpt-5', host: 'api.anthropic.com' })).toEqual([['claude-code', 1]]);
    expect(keys({ by: 'model', user: 'bob', status: '4xx' })).toEqual([['gpt-5', 1], ['o3', 1]]);
    expect(keys({ by: 'model', status: '429' })).toEqual([['gpt-5', 1]]);
    expect(keys({ by: 'user', status: 'error' }).sort()).toEqual([['bob', 2]]);
    expect(keys({ by: 'user', label: 'ci' })).toEqual([['alice', 1]]);
    // A team is its members; a team with none matches nothing.
    expect(keys({ by: 'user', users: ['alice', 'carol'] })).toEqual([['alice', 1], ['carol', 1]]);
    expect(keys({ by: 'user', users: [] })).toEqual([]);
    expect(keys({ by: 'model', tool: 'codex', since: T0 + 1000, until: T0 + 3000 })).toEqual([['o3', 1]]);
    expect(reader.ruleStats({}).map((r) => [r.rule, r.exchanges])).toEqual([['no-o3', 2]]);
    expect(reader.ruleStats({ model: 'o3' }).map((r) => [r.rule, r.exchanges])).toEqual([['no-o3', 1]]);
    expect(reader.ruleStats({ users: ['alice'] })).toEqual([]);
  });

  it('rule stats count a fallback only where the exchange went on to another upstream; the rest of its plans were not needed', () => {
    const plan = { rule: 'backup', kind: 'fallback', action: 'fallback', enforced: true, upstreams: ['https://backup.example'], on: ['5xx'] };
    const answered = JSON.stringify({ decisions: [plan], attempts: [{ upstream: 'https://api.openai.com', status: 200, result: 'answered' }] });
    const failedOver = JSON.stringify({ decisions: [plan], attempts: [{ upstream: 'https://api.openai.com', status: 503, result: 'retried' }, { upstream: 'https://backup.example', status: 200, result: 'answered' }] });
    write([
      [row(0, { policy: answered }), { sessionId: 's', threadId: 't', turn: 1 }],
      [row(1, { policy: answered }), { sessionId: 's', threadId: 't', turn: 2 }],
      [row(2, { policy: failedOver }), { sessionId: 's', threadId: 't', turn: 3 }],
    ]);
    expect(reader.ruleStats({})).toMatchObject([{ rule: 'backup', kind: 'fallback', exchanges: 3, actions: { fallback: 1, 'not needed': 2 } }]);
  });

  it('sums requests, errors, tokens and cost per time bucket and group, the step following the span; teams merged', () => {
    write([
      [row(0, { client_user: 'alice', model: 'gpt-5', input_tokens: 10, output_tokens: 1, cost_usd: 0.5 }), { sessionId: 's', threadId: 't', turn: 1 }],
      [row(1, { client_user: 'bob', model: 'gpt-5', input_tokens: 20, output_tokens: 2, cost_usd: null, status: 500 }), { sessionId: 's', threadId: 't', turn: 2 }],
      [row(120, { client_user: 'carol', model: 'o3', input_tokens: 30, cached_input_tokens: 15, output_tokens: 3, cost_usd: 0.25 }), { sessionId: 's', threadId: 't', turn: 3 }],
    ]);
    // 120 s of exchanges: 5 s buckets (about 40 of them).
    const byModel = reader.timeSeries({ by: 'model' });
    expect(byModel.step).toBe(5000);
    expect(byModel.points.map((p) => [p.at - T0, p.key, p.requests, p.errors, p.promptTokens, p.cachedTokens, p.outputTokens, p.costUsd])).toEqual([
      [0, 'gpt-5', 2, 1, 30, 0, 3, 0.5], [120_000, 'o3', 1, 0, 30, 15, 3, 0.25],
    ]);
    const byTeam = reader.timeSeries({ by: 'team', teams: new Map([['alice', 'platform'], ['bob', 'platform']]) });
    expect(byTeam.points.map((p) => [p.at - T0, p.key, p.requests])).toEqual([[0, 'team:platform', 2], [120_000, 'user:carol', 1]]);
    expect(reader.timeSeries({ by: 'user', user: 'carol' }).points.map((p) => p.key)).toEqual(['carol']);
    expect(reader.timeSeries({ by: 'model', since: T0 + 1_000_000 })).toEqual({ step: 0, points: [] });
    expect([bucketStep(5_000), bucketStep(3_600_000), bucketStep(30 * 86_400_000)]).toEqual([1000, 300_000, 86_400_000]);
  });

  it('resolves ids and unique prefixes, and says when a prefix is ambiguous', () => {
    write([[row(0, {}), { sessionId: 'sess-abc', threadId: 't', turn: 1 }], [row(1, {}), { sessionId: 'sess-abd', threadId: 'u', turn: 1 }]]);
    expect(reader.resolve('sess-abc')).toEqual({ kind: 'session', id: 'sess-abc' });
    expect(reader.resolve('ex-001')).toEqual({ kind: 'exchange', id: 'ex-001' });
    expect(reader.resolve('sess-abd'.slice(0, 7))).toMatchObject({ kind: 'ambiguous' });
    expect(reader.resolve('nothing')).toBeUndefined();
  });

  it('tails a filter: only the rows it covers, and the cursor past the others', () => {
    write([0, 1, 2, 3, 4].map((i) => [row(i, { model: i === 1 || i === 3 ? 'gpt-4o' : 'other' }), { sessionId: `s${i}`, threadId: `t${i}`, turn: 1 }]));
    const page = reader.exchangesAfter(0, 10, { model: 'gpt-4o' });
    expect(page.rows.map((r) => r.id)).toEqual(['ex-001', 'ex-003']);
    // The last row (ex-004) did not match, yet the next look starts after it.
    expect(page.cursor).toBe(reader.endCursor());
    // A full page stops at its last row: the rest comes with the next look.
    const one = reader.exchangesAfter(0, 1, { model: 'gpt-4o' });
    expect([one.rows.map((r) => r.id), reader.exchangesAfter(one.cursor, 1, { model: 'gpt-4o' }).rows.map((r) => r.id)]).toEqual([['ex-001'], ['ex-003']]);
  });

  it('tails by position and purges by date', () => {
    expect(reader.endCursor()).toBe(0);
    write([[row(0, {}), { sessionId: 'a', threadId: 'a1', turn: 1 }], [row(1, {}), { sessionId: 'a', threadId: 'a1', turn: 2 }]]);
    const first = reader.exchangesAfter(0, 1);
    expect(first.rows.map((r) => r.id)).toEqual(['ex-000']);
    expect(reader.exchangesAfter(first.cursor, 10).rows.map((r) => r.id)).toEqual(['ex-001']);
    expect(reader.exchangesAfter(reader.endCursor(), 10).rows).toEqual([]);

    write([[row(5000, {}), { sessionId: 'b', threadId: 'b1', turn: 1 }]]);
    // Cached answers (a long TTL outlives the cut): the one stored before it goes with its exchange.
    const cached = (id: string, storedAt: number): CacheEntry => ({ key: `key-${id}`, rule: 'cache', status: 200, contentType: 'application/json',
      body: Buffer.from(`{"answer":"${id}"}`), storedAt, expiresAt: T0 + 30 * 86_400_000, exchangeId: id });
    writeCacheOps(archive.db, [cached('ex-001', T0 + 1000), cached('ex-5000', T0 + 5_000_000)], [], T0);
    // The dry run counts what the purge then deletes, and deletes nothing itself.
    const preview = reader.purgePreview(T0 + 100_000);
    expect(preview).toEqual({ exchanges: 2, wsMessages: 0, tunnels: 0, sessions: 1, cacheEntries: 1 });
    expect(reader.purgePreview(T0 + 100_000)).toEqual(preview);
    const counts = reader.purge(T0 + 100_000);
    expect(counts).toMatchObject(preview);
    expect(reader.purgePreview(T0 + 100_000)).toEqual({ exchanges: 0, wsMessages: 0, tunnels: 0, sessions: 0, cacheEntries: 0 });
    expect(reader.sessions({ limit: 10 }).map((s) => s.id)).toEqual(['b']);
    expect(readCacheEntries(archive.db, T0).map((e) => e.exchangeId)).toEqual(['ex-5000']);
  });

  it("purges the messages of a WebSocket session whose row never came (the proxy died mid-session), once it is quiet past the cut and a day", () => {
    write([[row(0, {}), { sessionId: 'a', threadId: 'a1', turn: 1 }]]);
    const message = (exchange: string, seq: number, at: number): WsMessageRow => ({ exchange_id: exchange, seq, direction: 'client', at, opcode: 1, size: 2, compressed: 0, truncated: 0, text: 'hi', data: null, error: null });
    // Orphans: one quiet since long before the cut; one whose last message is an hour old (it may still be open).
    archive.insertWsMessages([message('died-mid-session', 0, T0 + 1000), message('died-mid-session', 1, T0 + 2000), message('still-open', 0, T0 + 1000), message('still-open', 1, Date.now() - 3_600_000), message('ex-000', 0, T0 + 500)]);
    const cut = T0 + 100_000;
    expect(reader.purgePreview(cut)).toMatchObject({ exchanges: 1, wsMessages: 3 });
    expect(reader.purge(cut)).toMatchObject({ exchanges: 1, wsMessages: 3 });
    expect(archive.db.prepare('SELECT exchange_id, seq FROM ws_messages ORDER BY exchange_id, seq').all()).toEqual([{ exchange_id: 'still-open', seq: 0 }, { exchange_id: 'still-open', seq: 1 }]);
  });

  it('purge reports its progress: exchanges deleted, then exchanges read for the parts sweep', () => {
    write(Array.from({ length: 5 }, (_, i) => [row(i * 100, {}), { sessionId: `s${i}`, threadId: `t${i}`, turn: 1 }] as const));
    const seen: string[] = [];
    reader.purge(T0 + 250_000, (step, done, total) => seen.push(`${step} ${done}/${total}`));
    // Three exchanges go, then the two left are read for the parts they use.
    expect(seen[0]).toBe('deleting exchanges 0/3');
    expect(seen).toContain('deleting exchanges 3/3');
    expect(seen.at(-1)).toBe('sweeping stored body parts 2/2');
  });
});

describe('an archive from schema 4', () => {
  it('migrates and stays readable: old rows keep their data, with no session or cost', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-v4-'));
    try {
      const file = join(dir, 'llmtap.db');
      copyFileSync(join(__dirname, '../fixtures/archive/schema-4.db'), file);
      const archive = openArchive(file);
      expect(archive.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      archive.close();
      const reader = new SqliteArchiveReader(file);
      const ex = reader.exchange('fixture-2')!;
      expect(ex.row).toMatchObject({ model: 'claude-sonnet-4-5', tool_name: 'claude-code', session_id: null, cost_usd: null });
      expect(JSON.parse(ex.row.request_body!.toString()).messages).toHaveLength(5);
      expect(reader.sessions({ limit: 10 })).toEqual([]);
      expect(reader.statsTable({ by: 'tool' }).rows[0]).toMatchObject({ key: 'claude-code', requests: 3 });
      reader.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
