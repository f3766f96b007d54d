import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exchangeCsvLines } from '../../src/archive/export-csv.js';
import { modelParts } from '../../src/archive/model-parts.js';
import { SqliteArchiveReader } from '../../src/archive/sqlite-reader.js';
import { tailLine } from '../../src/cli/tail.js';
import { makeExchange, type Exchange } from '../../src/exchange.js';
import { openArchive, type Archive, type ExchangeRow } from '../../src/recorder/db.js';
import { modelUsageColumn } from '../../src/recorder/model-parts.js';
import { applyCost } from '../../src/recorder/row-cost.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { createWsReducer, settleWebSocket, type WsTextMessage } from '../../src/websocket/reduce.js';

/**
 * A Codex WebSocket session is one row named after its last model; when it switched
 * models, `stats --by model`, the charts and budgets seeded from the archive split its
 * tokens and cost among them, and the one-row-per-exchange views (CSV, tail) name every model.
 */
const AT = Date.parse('2026-12-01T12:00:00Z');
const client = (event: object): WsTextMessage => ({ direction: 'client', text: JSON.stringify(event) });
const server = (event: object): WsTextMessage => ({ direction: 'server', text: JSON.stringify(event) });

function turn(id: string, model: string, input: number, output: number): WsTextMessage[] {
  return [
    client({ type: 'response.create', model }),
    server({ type: 'response.created', response: { id, status: 'in_progress', model } }),
    server({ type: 'response.completed', response: { id, status: 'completed', model, usage: { input_tokens: input, output_tokens: output } } }),
  ];
}

function session(id: string, messages: WsTextMessage[]): Exchange {
  const ex = makeExchange({ id, provider: 'openai', api: 'responses', target: { host: 'api.openai.com', port: 443, tls: true }, request: { method: 'GET', path: '/v1/responses', headers: [] }, timings: { start: AT, end: AT + 60_000 } });
  ex.response = { status: 101, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false } };
  ex.outcome = 'completed';
  const reducer = createWsReducer('responses');
  for (const m of messages) reducer.push(m);
  settleWebSocket(ex, { count: messages.length, messages: [] } as unknown as NonNullable<Exchange['websocket']>, reducer);
  return ex;
}

/** The row as the writer makes it: priced, then its per-model parts. */
function written(ex: Exchange): ExchangeRow {
  const row = exchangeToRow(ex);
  applyCost(row, ex, undefined);
  row.model_usage = modelUsageColumn(row, ex, undefined, (t) => t);
  return row;
}

function http(id: string, model: string, input: number, output: number): ExchangeRow {
  const ex = makeExchange({ id, provider: 'openai', api: 'responses', request: { method: 'POST', path: '/v1/responses', model }, usage: { inputTokens: input, outputTokens: output }, timings: { start: AT + 1, end: AT + 500 } });
  ex.response = { status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false } };
  ex.outcome = 'completed';
  return written(ex);
}

describe('a WebSocket session that switched models', () => {
  const switched = session('ws', [...turn('r1', 'gpt-5-codex', 1000, 100), ...turn('r2', 'gpt-5-mini', 2000, 300), ...turn('r3', 'gpt-5-codex', 1000, 100)]);

  it('its row keeps each model\'s responses, tokens and cost, adding up to the row\'s', () => {
    const row = written(switched);
    expect(row.model).toBe('gpt-5-codex');
    const parts = modelParts(row.model_usage)!;
    expect(parts.map((p) => [p.model, p.responses, p.input_tokens, p.output_tokens])).toEqual([['gpt-5-codex', 2, 2000, 200], ['gpt-5-mini', 1, 2000, 300]]);
    // gpt-5-codex: $1.25 / $10 per million; gpt-5-mini: $0.25 / $2.
    expect(parts[0]!.cost_usd).toBeCloseTo(2000 * 1.25e-6 + 200 * 10e-6, 12);
    expect(parts[1]!.cost_usd).toBeCloseTo(2000 * 0.25e-6 + 300 * 2e-6, 12);
    expect(parts[0]!.cost_usd! + parts[1]!.cost_usd!).toBeCloseTo(row.cost_usd!, 12);
  });

  it('a session one model answered, and an HTTP exchange, have no parts', () => {
    expect(written(session('one', [...turn('r1', 'gpt-5-codex', 10, 1), ...turn('r2', 'gpt-5-codex', 10, 1)])).model_usage).toBeNull();
    expect(http('h', 'gpt-5-mini', 10, 1).model_usage).toBeNull();
  });

  describe('in the archive', () => {
    let dir: string;
    let archive: Archive;
    let reader: SqliteArchiveReader;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'llmtap-model-split-'));
      archive = openArchive(join(dir, 'a.db'));
      reader = new SqliteArchiveReader(join(dir, 'a.db'));
      archive.insertExchanges([written(switched), http('h', 'gpt-5-mini', 500, 50)]);
    });
    afterEach(() => {
      reader.close();
      archive.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('stats --by model: each model its own tokens and cost; the session counts once in the total', () => {
      const { rows, total } = reader.statsTable({ by: 'model' });
      const by = Object.fromEntries(rows.map((r) => [r.key, r]));
      expect(Object.keys(by).sort()).toEqual(['gpt-5-codex', 'gpt-5-mini']);
      expect(by['gpt-5-codex']).toMatchObject({ requests: 1, inputTokens: 2000, outputTokens: 200 });
      expect(by['gpt-5-codex']!.costUsd).toBeCloseTo(2000 * 1.25e-6 + 200 * 10e-6, 12);
      expect(by['gpt-5-mini']).toMatchObject({ requests: 2, inputTokens: 2500, outputTokens: 350 });
      expect(by['gpt-5-mini']!.costUsd).toBeCloseTo(2500 * 0.25e-6 + 350 * 2e-6, 12);
      expect(total).toMatchObject({ requests: 2, inputTokens: 4500, outputTokens: 550 });
      expect(total!.costUsd).toBeCloseTo(by['gpt-5-codex']!.costUsd! + by['gpt-5-mini']!.costUsd!, 12);
      // Other dimensions keep the session whole: one request of the host's two.
      expect(reader.statsTable({ by: 'host' }).rows).toMatchObject([{ key: 'api.openai.com', requests: 2, inputTokens: 4500, outputTokens: 550 }]);
    });

    it('the web UI\'s charts by model split it the same way, in its time bucket', () => {
      const { points } = reader.timeSeries({ by: 'model' });
      const by = new Map<string | null, { requests: number; promptTokens: number; outputTokens: number; costUsd: number }>();
      for (const p of points) {
        const sum = by.get(p.key) ?? { requests: 0, promptTokens: 0, outputTokens: 0, costUsd: 0 };
        by.set(p.key, { requests: sum.requests + p.requests, promptTokens: sum.promptTokens + p.promptTokens, outputTokens: sum.outputTokens + p.outputTokens, costUsd: sum.costUsd + p.costUsd });
      }
      expect([...by.keys()].sort()).toEqual(['gpt-5-codex', 'gpt-5-mini']);
      expect(by.get('gpt-5-codex')).toMatchObject({ requests: 1, promptTokens: 2000, outputTokens: 200 });
      expect(by.get('gpt-5-mini')).toMatchObject({ requests: 2, promptTokens: 2500, outputTokens: 350 });
      expect(by.get('gpt-5-codex')!.costUsd).toBeCloseTo(2000 * 1.25e-6 + 200 * 10e-6, 12);
    });

    it('stats --model: a session that used the model counts for it, whichever model came last', () => {
      const mini = reader.statsTable({ by: 'model', model: 'gpt-5-mini' });
      expect(mini.rows.map((r) => [r.key, r.requests, r.inputTokens, r.outputTokens])).toEqual([['gpt-5-mini', 2, 2500, 350]]);
      expect(mini.total).toMatchObject({ requests: 2, inputTokens: 2500, outputTokens: 350 });
      const codex = reader.statsTable({ by: 'model', model: 'gpt-5-codex' });
      expect(codex.rows.map((r) => [r.key, r.requests, r.inputTokens])).toEqual([['gpt-5-codex', 1, 2000]]);
    });

    it('--model as the CLI and the usage page read it (anyModel): the session found by any of its models, only that model\'s part where stats and the charts split it', () => {
      const mini = reader.statsTable({ by: 'model', anyModel: 'gpt-5-mini' });
      expect(mini.rows.map((r) => [r.key, r.requests, r.inputTokens, r.outputTokens])).toEqual([['gpt-5-mini', 2, 2500, 350]]);
      expect(mini.total).toMatchObject({ requests: 2, inputTokens: 2500, outputTokens: 350 });
      expect(reader.statsTable({ by: 'model', anyModel: 'gpt-5-codex' }).rows.map((r) => [r.key, r.requests, r.inputTokens])).toEqual([['gpt-5-codex', 1, 2000]]);
      // Grouped otherwise, the session counts whole, though its last model (gpt-5-codex) is not the one asked for.
      expect(reader.statsTable({ by: 'host', anyModel: 'gpt-5-mini' }).rows).toMatchObject([{ key: 'api.openai.com', requests: 2, inputTokens: 4500, outputTokens: 550 }]);
      const points = reader.timeSeries({ by: 'model', anyModel: 'gpt-5-mini' }).points;
      expect([...new Set(points.map((p) => p.key))]).toEqual(['gpt-5-mini']);
      expect(points.reduce((n, p) => n + p.requests, 0)).toBe(2);
      expect(points.reduce((n, p) => n + p.promptTokens, 0)).toBe(2500);
      expect(reader.timeSeries({ by: 'tool', anyModel: 'gpt-5-mini' }).points.reduce((n, p) => n + p.promptTokens, 0)).toBe(4500);
      // tail's next rows by rowid, the model tested row by row.
      expect(reader.exchangesAfter(0, 10, { anyModel: 'gpt-5-mini' }).rows.map((r) => r.id)).toEqual(['ws', 'h']);
      expect(reader.exchangesAfter(0, 10, { anyModel: 'gpt-5-codex' }).rows.map((r) => r.id)).toEqual(['ws']);
    });

    it('budgets seeded from the archive: each model\'s part under that model, as the session was charged live', () => {
      const spent = new Map<string, number>();
      for (const r of reader.spendSince(0)) spent.set(r.model!, (spent.get(r.model!) ?? 0) + r.usd);
      expect([...spent.keys()].sort()).toEqual(['gpt-5-codex', 'gpt-5-mini']);
      expect(spent.get('gpt-5-codex')).toBeCloseTo(2000 * 1.25e-6 + 200 * 10e-6, 12);
      expect(spent.get('gpt-5-mini')).toBeCloseTo(2500 * 0.25e-6 + 350 * 2e-6, 12);
    });

    it('the CSV export and tail name every model of the session', () => {
      const csv = [...exchangeCsvLines(archive)].join('\n');
      expect(csv).toContain(',gpt-5-codex+gpt-5-mini,');
      const tailed = reader.exchangesAfter(0, 10).rows;
      expect(tailLine(tailed.find((r) => r.id === 'ws')!, false)).toContain('gpt-5-codex+gpt-5-m…');
    });
  });
});
