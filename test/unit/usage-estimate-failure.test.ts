import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeExchange, type Exchange } from '../../src/exchange.js';
import { openArchive, type Archive } from '../../src/recorder/db.js';
import { encodeRecord } from '../../src/recorder/record-codec.js';
import { ArchiveWriter } from '../../src/recorder/writer.js';

// The writer's estimator, as each test wants it to behave.
const hook = vi.hoisted(() => ({ estimate: (_ex: unknown): boolean => false }));
vi.mock('../../src/recorder/row-estimate.js', () => ({
  mayEstimateUsage: () => true,
  estimateMissingUsage: (ex: unknown) => hook.estimate(ex),
}));

const streamed = (): Exchange => makeExchange({
  provider: 'openai', api: 'chat.completions', request: { method: 'POST', path: '/v1/chat/completions', headers: [], body: { bytes: Buffer.from('{"messages":[]}'), size: 15, truncated: false }, model: 'gpt-4o' },
  response: { status: 200, headers: ['Content-Type', 'text/event-stream'], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { text: 'hi', toolCalls: [], events: 2 } },
});

let dir: string;
let file: string;
let archive: Archive;
const warnings: string[] = [];
let writer: ArchiveWriter;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmtap-estimate-'));
  file = join(dir, 'archive.db');
  archive = openArchive(file);
  warnings.length = 0;
  writer = new ArchiveWriter(archive, (level, _fields, msg) => void (level === 'warn' && warnings.push(msg)));
});
afterEach(() => {
  archive.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the writer\'s estimate of an answer without usage', () => {
  it('comes after the row is committed: counting (or loading the tokenizer) never holds a record back', () => {
    const seen: unknown[] = [];
    hook.estimate = (ex) => {
      // Another connection already reads the row, without tokens, while the estimate runs.
      const other = new Database(file, { readonly: true });
      seen.push(other.prepare('SELECT input_tokens FROM exchanges WHERE id = ?').get((ex as Exchange).id));
      other.close();
      (ex as Exchange).usage = { inputTokens: 8, outputTokens: 3 };
      return true;
    };
    const outcome = writer.write([encodeRecord({ kind: 'exchange', exchange: streamed() })]);
    expect(seen).toEqual([{ input_tokens: null }]);
    expect(outcome.estimated).toMatchObject([{ inputTokens: 8, outputTokens: 3 }]);
    // Then the row and its session's totals are amended: priced, flagged, counted.
    expect(archive.db.prepare('SELECT input_tokens, output_tokens, usage_estimated, cost_usd > 0 AS priced FROM exchanges').get()).toEqual({ input_tokens: 8, output_tokens: 3, usage_estimated: 1, priced: 1 });
    const session = archive.db.prepare('SELECT input_tokens, output_tokens, unpriced, cost_usd > 0 AS priced FROM sessions').get();
    expect(session).toEqual({ input_tokens: 8, output_tokens: 3, unpriced: 0, priced: 1 });
  });

  it('failing costs the record nothing: archived without usage, and the writer says why once', () => {
    hook.estimate = () => {
      throw new Error('Cannot find module gpt-tokenizer');
    };
    const outcome = writer.write([encodeRecord({ kind: 'exchange', exchange: streamed() }), encodeRecord({ kind: 'exchange', exchange: streamed() })]);
    expect([outcome.recorded, outcome.lost, outcome.estimated]).toEqual([2, 0, undefined]);
    // Said at once, so the charges held for these estimates are let go (not after 5 minutes).
    expect(outcome.unestimated).toHaveLength(2);
    expect(archive.db.prepare('SELECT input_tokens, usage_estimated FROM exchanges').all()).toEqual([{ input_tokens: null, usage_estimated: null }, { input_tokens: null, usage_estimated: null }]);
    expect(warnings.filter((w) => w.startsWith('could not estimate'))).toHaveLength(1);
  });
});
