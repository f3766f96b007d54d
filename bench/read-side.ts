/**
 * The archive's read side at scale: `sessions` and `show` query time on an archive
 * of N exchanges (default 1,000,000: 10,000 sessions of 100 turns), and what an
 * exchange costs on disk. Rows are written through the real archive (compact
 * storage, session rollup), grouping ids assigned directly so the fill stays fast.
 *
 *   node --import tsx bench/read-side.ts [--exchanges N] [--keep DIR]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteArchiveReader } from '../src/archive/sqlite-reader.js';
import { makeExchange } from '../src/exchange.js';
import { openArchive, type ExchangeRow } from '../src/recorder/db.js';
import { exchangeToRow } from '../src/recorder/rows.js';
import { SessionRollup } from '../src/recorder/session-rollup.js';
import { sessionThreads } from '../src/sessions/turns.js';
import { summarize } from './stats.js';

const args = process.argv.slice(2);
const total = Number(args[args.indexOf('--exchanges') + 1] ?? 0) || 1_000_000;
const turns = 100;
const dir = mkdtempSync(join(tmpdir(), 'llmtap-read-bench-'));
const file = join(dir, 'llmtap.db');
const archive = openArchive(file);
const rollup = new SessionRollup(archive.db);

const t0 = Date.parse('2026-11-01T00:00:00Z');
const template = exchangeToRow(makeExchange({
  provider: 'anthropic', api: 'messages', target: { host: 'api.anthropic.com', port: 443, tls: true },
  request: { method: 'POST', path: '/v1/messages', headers: ['content-type', 'application/json'], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, model: 'claude-sonnet-4-5' },
}));

function row(session: number, turn: number): ExchangeRow {
  const at = t0 + (session * turns + turn) * 1000;
  const messages = Array.from({ length: Math.min(turn + 1, 6) }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i} of session ${session}` }));
  const body = Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages }));
  return {
    ...template, id: `ex-${String(session).padStart(6, '0')}-${String(turn).padStart(3, '0')}`, started_at: at, first_byte_at: at + 300, ended_at: at + 900,
    status: 200, outcome: 'completed', model: 'claude-sonnet-4-5', tool_name: 'claude-code', request_body: body, request_body_size: body.length,
    response_text: `answer ${turn}`, input_tokens: 100 + turn, output_tokens: 50, cached_input_tokens: turn * 90, cost_usd: 0.001, cost_source: 'api',
    session_id: `session-${String(session).padStart(6, '0')}`, thread_id: `session-${String(session).padStart(6, '0')}`, turn: turn + 1,
  };
}

const fillStart = performance.now();
const sessions = Math.ceil(total / turns);
const batch = archive.db.transaction((s: number) => {
  for (let turn = 0; turn < turns; turn++) {
    const r = row(s, turn);
    archive.insertExchanges([r]);
    rollup.add(r, { sessionId: r.session_id!, threadId: r.thread_id!, turn: r.turn! });
  }
});
for (let s = 0; s < sessions; s++) {
  batch(s);
  if (s % 1000 === 999) process.stderr.write(`\rfilled ${(s + 1) * turns} / ${sessions * turns} exchanges`);
}
archive.checkpoint();
archive.close();
const fillS = (performance.now() - fillStart) / 1000;
const bytes = statSync(file).size;
process.stderr.write('\n');

const reader = new SqliteArchiveReader(file, { readonly: true });
const time = (fn: () => unknown, runs = 30): number[] => Array.from({ length: runs }, () => {
  const start = performance.now();
  fn();
  return performance.now() - start;
});
const list = summarize(time(() => reader.sessions({ limit: 20 })));
const listTool = summarize(time(() => reader.sessions({ limit: 20, tool: 'claude-code', since: t0 + 500 * 86_400_000 })));
const show = summarize(time(() => {
  const id = `session-${String(Math.floor(Math.random() * sessions)).padStart(6, '0')}`;
  const detail = reader.session(id)!;
  sessionThreads(detail);
}));
reader.close();
console.log(JSON.stringify({
  exchanges: sessions * turns, sessions, fillSeconds: Math.round(fillS), archiveBytes: bytes, bytesPerExchange: Math.round(bytes / (sessions * turns)),
  sessionsListMs: { p50: list.p50, p90: list.p90 }, sessionsFilteredMs: { p50: listTool.p50, p90: listTool.p90 }, show100TurnMs: { p50: show.p50, p90: show.p90 },
}, null, 2));
if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
