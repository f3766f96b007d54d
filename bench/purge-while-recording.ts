/**
 * `llmtap purge --before` run from the CLI while a writer keeps recording into the same
 * archive (as a running proxy does): afterwards every exchange written meanwhile must
 * still read back (no stored body part swept from under it), and the purge's longest
 * write lock is what the recorder had to wait for.
 *
 *   node --import tsx bench/purge-while-recording.ts --home DIR --before 30d
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { makeExchange } from '../src/exchange.js';
import { openArchive } from '../src/recorder/db.js';
import { encodeRecord } from '../src/recorder/record-codec.js';
import { ArchiveWriter } from '../src/recorder/writer.js';
import { SqliteArchiveReader } from '../src/archive/sqlite-reader.js';

const args = process.argv.slice(2);
const home = args[args.indexOf('--home') + 1]!;
const before = args[args.indexOf('--before') + 1] ?? '30d';
const file = join(home, 'llmtap.db');
const writer = new ArchiveWriter(() => openArchive(file, { busyTimeoutMs: 200 }), () => {});
const system = `You are Claude Code. ${'Follow the repository conventions carefully. '.repeat(150)}`;

const purge = spawn(process.execPath, ['dist/cli/main.js', '--home', home, 'purge', '--before', before], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
purge.stdout.on('data', (d) => { out += d; });
let running = true;
const started = performance.now();
purge.on('exit', () => { running = false; });
const ids: string[] = [];
let lost = 0;
let worstMs = 0;
for (let i = 0; running; i++) {
  const messages = [{ role: 'user', content: `new turn ${i} ${'x'.repeat(500)}` }];
  const body = Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 100, system: [{ type: 'text', text: system }], messages }));
  const ex = makeExchange({ provider: 'anthropic', api: 'messages', target: { host: 'api.anthropic.com', port: 443, tls: true },
    request: { method: 'POST', path: '/v1/messages', headers: ['content-type', 'application/json'], body: { bytes: body, size: body.length, truncated: false } },
    response: { status: 200, headers: [], body: { bytes: Buffer.from('{}'), size: 2, truncated: false } }, outcome: 'completed' });
  const t = performance.now();
  const o = writer.write([encodeRecord({ kind: 'exchange', exchange: ex })]);
  worstMs = Math.max(worstMs, performance.now() - t);
  if (o.recorded) ids.push(ex.id); else lost++;
  await tick();
}
writer.close();
const reader = new SqliteArchiveReader(file, { readonly: true });
let unreadable = 0;
for (const id of ids) {
  try { reader.exchange(id); } catch { unreadable++; }
}
reader.close();
console.log(JSON.stringify({ purge: out.trim(), purgeSeconds: +((performance.now() - started) / 1000).toFixed(1), writtenDuringPurge: ids.length, lostToLock: lost, worstWriteMs: Math.round(worstMs), unreadableAfter: unreadable }));
