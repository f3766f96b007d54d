import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exchangeCsvLines } from '../../src/archive/export-csv.js';
import { SqliteArchiveReader } from '../../src/archive/sqlite-reader.js';
import { tailLine } from '../../src/cli/tail.js';
import { toPriceUsage } from '../../src/cost/price-usage.js';
import { makeExchange, type Exchange } from '../../src/exchange.js';
import { chargeUsage } from '../../src/policy/stage.js';
import type { RateLimiter } from '../../src/policy/rate-limit.js';
import { gemini } from '../../src/providers/gemini.js';
import { outputTokens, usageOutputTokens } from '../../src/providers/usage-totals.js';
import { openArchive, type Archive } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { listItem } from '../../src/ui/server/list-item.js';

/**
 * Gemini's candidatesTokenCount leaves the thinking out (thoughtsTokenCount, billed as
 * output); OpenAI's completion_tokens and Anthropic's output_tokens hold it. "Output
 * tokens" must mean every output token in every reader, and in token-rate charges.
 */
const T0 = Date.parse('2026-12-01T10:00:00Z');

/** A Gemini answer that thought: 18 answer tokens, 24 thinking tokens. */
function geminiExchange(id: string): Exchange {
  const answer = { candidates: [{ content: { role: 'model', parts: [{ text: 'Oslo.' }] }, finishReason: 'STOP' }], modelVersion: 'gemini-2.5-flash',
    usageMetadata: { promptTokenCount: 31, candidatesTokenCount: 18, thoughtsTokenCount: 24, totalTokenCount: 73 } };
  const reducer = gemini.createReducer('application/json');
  reducer.push(Buffer.from(JSON.stringify(answer)));
  const reassembled = reducer.finish();
  return makeExchange({ id, provider: 'gemini', api: 'gemini.generateContent', request: { method: 'POST', path: '/v1beta/models/gemini-2.5-flash:generateContent', model: 'gemini-2.5-flash' },
    usage: reassembled.usage, timings: { start: T0, firstByte: T0 + 50, end: T0 + 400 } });
}

/** An OpenAI answer whose 40 completion tokens already hold its 30 reasoning tokens. */
function openaiExchange(id: string): Exchange {
  return makeExchange({ id, provider: 'openai', api: 'chat.completions', request: { method: 'POST', path: '/v1/chat/completions', model: 'gpt-5' },
    usage: { inputTokens: 10, outputTokens: 40, reasoningTokens: 30 }, timings: { start: T0 + 1000, firstByte: T0 + 1050, end: T0 + 1400 } });
}

describe('output tokens: thinking counted once, the same way for every provider', () => {
  it('the Gemini reducer keeps thoughtsTokenCount apart; the helpers add it for Gemini only', () => {
    const ex = geminiExchange('g');
    expect(ex.usage).toEqual({ inputTokens: 31, outputTokens: 18, reasoningTokens: 24 });
    expect(usageOutputTokens(ex.usage, ex.api, ex.provider)).toBe(42);
    expect(usageOutputTokens(openaiExchange('o').usage, 'chat.completions')).toBe(40);
    expect(outputTokens({ ...exchangeToRow(ex) })).toBe(42);
    expect(outputTokens({ api: 'gemini.generateContent', output_tokens: null, reasoning_tokens: null })).toBeNull();
    expect(outputTokens({ api: 'messages', output_tokens: 5, reasoning_tokens: 3 })).toBe(5);
  });

  it('pricing adds the thinking once (the price reads the stored usage, never the readers\' total)', () => {
    expect(toPriceUsage(geminiExchange('g').usage, 'gemini.generateContent', 'gemini')).toEqual({ input_tokens: 31, output_tokens: 42 });
    expect(toPriceUsage(openaiExchange('o').usage, 'chat.completions', 'openai')).toEqual({ input_tokens: 10, output_tokens: 40 });
  });

  it('a token-rate rule is charged the thinking of a Gemini answer, as the reasoning of an OpenAI one', () => {
    const charged: number[] = [];
    const limiter = { charge: (_key: string, amount: number) => void charged.push(amount) } as unknown as RateLimiter;
    chargeUsage(geminiExchange('g'), { charges: [{ limiter, key: 'k' }] }, undefined);
    chargeUsage(openaiExchange('o'), { charges: [{ limiter, key: 'k' }] }, undefined);
    expect(charged).toEqual([31 + 42, 10 + 40]);
  });

  describe('archive readers', () => {
    let dir: string;
    let archive: Archive;
    let reader: SqliteArchiveReader;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'llmtap-output-tokens-'));
      archive = openArchive(join(dir, 'a.db'));
      reader = new SqliteArchiveReader(join(dir, 'a.db'));
      // Rows hold what the provider said: 18 for Gemini, its 24 thinking tokens beside it.
      const exchanges = [geminiExchange('g'), openaiExchange('o')];
      // One session for both (the agent's own id), so its rolled-up totals are read too.
      archive.insertExchanges(exchanges.map((ex) => ({ ...exchangeToRow(ex), status: 200, outcome: 'completed' })),
        exchanges.map((ex) => ({ id: ex.id, startedAt: ex.timings.start, clientAddress: '127.0.0.1', agent: { sessionId: 'both' }, chain: [] })));
    });
    afterEach(() => {
      reader.close();
      archive.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the row keeps Gemini\'s own counts', () => {
      expect(reader.exchange('g')?.row).toMatchObject({ output_tokens: 18, reasoning_tokens: 24 });
    });

    it('stats, the time series, the CSV export, the web UI list, session totals and tail count the thinking as output', () => {
      const { rows, total } = reader.statsTable({ by: 'model' });
      expect(Object.fromEntries(rows.map((r) => [r.key, r.outputTokens]))).toEqual({ 'gemini-2.5-flash': 42, 'gpt-5': 40 });
      expect(total?.outputTokens).toBe(82);
      const series = reader.timeSeries({ by: 'model' });
      expect(series.points.reduce((sum, p) => sum + p.outputTokens, 0)).toBe(82);
      const [header, ...lines] = parse([...exchangeCsvLines(archive)].join('\n')) as string[][];
      const csv = lines.map((l) => Object.fromEntries(header!.map((c, i) => [c, l[i]])));
      expect(csv.map((r) => [r.id, r.output_tokens, r.reasoning_tokens])).toEqual([['g', '42', '24'], ['o', '40', '30']]);
      const listed = reader.listExchanges({ limit: 10 });
      expect(Object.fromEntries(listed.map((e) => [e.id, listItem(e).outputTokens]))).toEqual({ g: 42, o: 40 });
      expect(reader.session('both')?.session.outputTokens).toBe(82);
      const tailed = reader.exchangesAfter(0, 10).rows;
      expect(tailed.map((r) => / out (\S+) /.exec(tailLine(r, false))?.[1])).toEqual(['42', '40']);
    });
  });
});
