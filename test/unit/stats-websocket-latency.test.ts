import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteArchiveReader } from '../../src/archive/sqlite-reader.js';
import { makeExchange } from '../../src/exchange.js';
import { openArchive, type Archive, type ExchangeRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/**
 * A WebSocket session (Codex's Responses over WebSocket, Realtime) is one exchange that
 * lasts as long as the conversation: its length is not how long anyone waited for an
 * answer, so `stats` latency percentiles must not read it as one (hours of a Codex
 * session made the model's p95 "2h").
 */
const T0 = Date.parse('2026-12-01T10:00:00Z');

function row(id: string, ms: number, over: Partial<ExchangeRow> = {}): ExchangeRow {
  const ex = makeExchange({ id, timings: { start: T0, firstByte: T0 + 50, end: T0 + ms } });
  return { ...exchangeToRow(ex), status: 200, outcome: 'completed', model: 'gpt-5-codex', cost_usd: 0.01, ...over };
}

describe('stats latency and WebSocket sessions', () => {
  let dir: string;
  let archive: Archive;
  let reader: SqliteArchiveReader;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmtap-stats-ws-'));
    archive = openArchive(join(dir, 'a.db'));
    reader = new SqliteArchiveReader(join(dir, 'a.db'));
  });
  afterEach(() => {
    reader.close();
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts a session\'s requests, tokens and cost, but not its length as a latency', () => {
    archive.insertExchanges([
      row('http-1', 200),
      row('http-2', 400),
      row('ws-1', 2 * 3600_000, { status: 101, first_byte_at: null, input_tokens: 5000, output_tokens: 900 }),
    ]);
    const { rows, total } = reader.statsTable({ by: 'model' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ key: 'gpt-5-codex', requests: 3, inputTokens: 5000, outputTokens: 900, latencyP50Ms: 200, latencyP95Ms: 400 });
    expect(total).toMatchObject({ requests: 3, latencyP95Ms: 400 });
    // Sessions alone: no latency to tell.
    archive.insertExchanges([row('ws-2', 60_000, { status: 101, first_byte_at: null, model: 'gpt-realtime' })]);
    expect(reader.statsTable({ by: 'model', model: 'gpt-realtime' }).rows[0]).toMatchObject({ requests: 1, latencyP50Ms: null, latencyP95Ms: null });
  });
});
