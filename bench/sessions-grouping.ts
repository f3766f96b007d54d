/**
 * Microbenchmark: the writer thread's per-exchange grouping cost for a 200-message
 * agent request (~1 KB per message), with the SQLite key index in a WAL file that
 * already holds 50 000 unrelated keys.
 *
 *   node --import tsx bench/sessions-grouping.ts [iterations]
 *
 * Reports µs per exchange for: reading the conversation + summarizing (hashing every
 * message), assignGroup continuing a conversation (no ids: prefix chaining), assignGroup
 * for a new conversation (no earlier request began like it: one lookup), and
 * assignGroup with an explicit Claude Code session id.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readConversation } from '../src/sessions/conversation.js';
import { assignGroup, type ExchangeSummary } from '../src/sessions/group.js';
import { GROUP_KEYS_DDL, SqliteGroupIndex } from '../src/sessions/group-index.js';
import { summarizeForGrouping } from '../src/sessions/summary.js';

const iterations = Number(process.argv[2] ?? 300);
const prose = 'The build runs the tests again; a tool result comes back with a stack trace and some code. ';

function body(label: string, count: number): Record<string, unknown> {
  const messages: unknown[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) messages.push({ role: 'user', content: i === 0 ? `${label} ${prose.repeat(10)}` : [{ type: 'tool_result', tool_use_id: `toolu_${i - 1}`, content: prose.repeat(11) }] });
    else messages.push({ role: 'assistant', content: [{ type: 'text', text: prose.repeat(2) }, { type: 'tool_use', id: `toolu_${i}`, name: 'Bash', input: { command: `npm test -- ${i}` } }] });
  }
  const last = messages[messages.length - 1] as { content: unknown };
  if (Array.isArray(last.content)) (last.content[last.content.length - 1] as Record<string, unknown>).cache_control = { type: 'ephemeral' };
  return { model: 'claude-sonnet-4-5', max_tokens: 32000, system: [{ type: 'text', text: prose.repeat(50) }], tools: [{ name: 'Bash', input_schema: {} }, { name: 'Task', input_schema: {} }], messages };
}

function summary(id: string, label: string, count: number, at: number, address: string, agent?: ExchangeSummary['agent']): ExchangeSummary {
  const input: Parameters<typeof summarizeForGrouping>[0] = { id, startedAt: at, client: { address }, toolName: 'anthropic-sdk', api: 'messages', request: body(label, count) };
  if (agent) input.agent = agent;
  return summarizeForGrouping(input);
}

const dir = mkdtempSync(join(tmpdir(), 'llmtap-grouping-'));
const db = new Database(join(dir, 'archive.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(GROUP_KEYS_DDL);
const index = new SqliteGroupIndex(db);
db.transaction(() => {
  for (let i = 0; i < 50_000; i++) index.put(`c:a:10.9.${i % 250}.${i % 7}|x|:-:${i.toString(36).padStart(22, 'q')}`, { sessionId: `s${i}`, threadId: `s${i}`, turn: 1, at: Date.now() });
})();

const parsed = body('probe', 200);
const bytes = Buffer.byteLength(JSON.stringify(parsed));
let t = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) summarizeForGrouping({ id: `p${i}`, startedAt: 0, client: { address: 'x' }, api: 'messages', request: parsed }, readConversation('messages', parsed));
const summarizeUs = Number(process.hrtime.bigint() - t) / 1000 / iterations;

// Prepared outside the timed loops: per iteration a conversation at 198 messages, then its next turn at 200.
const at = Date.now();
const prev = Array.from({ length: iterations }, (_, i) => summary(`a${i}`, `conv ${i}`, 198, at, `10.1.${i % 250}.1`));
const cur = Array.from({ length: iterations }, (_, i) => summary(`b${i}`, `conv ${i}`, 200, at + 1000, `10.1.${i % 250}.1`));
const fresh = Array.from({ length: iterations }, (_, i) => summary(`f${i}`, `fresh ${i}`, 200, at + 2000, `10.2.${i % 250}.1`));
const claudePrev = Array.from({ length: iterations }, (_, i) => summary(`j${i}`, `cc ${i}`, 198, at + 3000, '127.0.0.1', { sessionId: `sess-${i}` }));
const claude = Array.from({ length: iterations }, (_, i) => summary(`k${i}`, `cc ${i}`, 200, at + 4000, '127.0.0.1', { sessionId: `sess-${i}` }));

function time(label: string, list: ExchangeSummary[], batched: boolean): number {
  const start = process.hrtime.bigint();
  if (batched) db.transaction(() => list.forEach((s) => assignGroup(s, index)))();
  else list.forEach((s) => assignGroup(s, index));
  const us = Number(process.hrtime.bigint() - start) / 1000 / list.length;
  console.log(`${label.padEnd(58)} ${us.toFixed(1).padStart(8)} µs`);
  return us;
}

console.log(`200-message request: ${(bytes / 1024).toFixed(0)} KB JSON; ${iterations} iterations; index holds 50 000 other keys`);
console.log(`${'readConversation + summarizeForGrouping (hash 200 messages)'.padEnd(58)} ${summarizeUs.toFixed(1).padStart(8)} µs`);
db.transaction(() => prev.forEach((s) => assignGroup(s, index)))();
time('assignGroup, continuing (prefix chain), in a transaction', cur, true);
time('assignGroup, new conversation (no match), in a transaction', fresh, true);
db.transaction(() => claudePrev.forEach((s) => assignGroup(s, index)))();
time('assignGroup, Claude Code session id, next turn, in a transaction', claude, true);
time('assignGroup, continuing again, autocommit per put', cur.map((s, i) => ({ ...s, id: `c${i}`, startedAt: at + 5000 })), false);
db.close();
rmSync(dir, { recursive: true, force: true });
