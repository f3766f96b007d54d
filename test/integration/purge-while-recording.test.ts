import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteArchiveReader } from '../../src/archive/sqlite-reader.js';
import { makeExchange } from '../../src/exchange.js';
import { openArchive, type Archive } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

const CLI = resolve('dist/cli/main.js');
const DAY = 86_400_000;
const dirs: string[] = [];
afterEach(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }); });

const system = `You are a coding agent. ${'Keep to the repository conventions. '.repeat(100)}`;

/** One agent turn: the whole conversation so far resent, stored as content-addressed parts. */
function write(archive: Archive, at: number, conversation: string, turns: number): string {
  const messages = Array.from({ length: turns }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `${conversation} message ${i} ${'words '.repeat(60)}` }));
  const body = Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1024, system: [{ type: 'text', text: system }], messages }));
  const ex = makeExchange({ provider: 'anthropic', api: 'messages', target: { host: 'api.anthropic.com', port: 443, tls: true }, timings: { start: at, end: at + 1 },
    request: { method: 'POST', path: '/v1/messages', headers: ['content-type', 'application/json'], body: { bytes: body, size: body.length, truncated: false } },
    outcome: 'completed' });
  archive.insertExchanges([exchangeToRow(ex)]);
  return ex.id;
}

describe('llmtap purge while the proxy records', () => {
  it('never sweeps a stored body part an exchange written during the purge uses', async () => {
    const home = mkdtempSync(join(tmpdir(), 'llmtap-purge-race-'));
    dirs.push(home);
    const archive = openArchive(join(home, 'llmtap.db'), { busyTimeoutMs: 5000 });
    const old = Date.now() - 60 * DAY;
    // Old conversations to purge, and enough recent ones that the purge's scan takes a while.
    for (let c = 0; c < 20; c++) for (let t = 1; t <= 20; t += 2) write(archive, old + c * 100 + t, `old ${c}`, t);
    for (let c = 0; c < 1500; c++) write(archive, Date.now() - DAY + c, `recent ${c}`, 3);
    const purge = spawn(process.execPath, [CLI, '--home', home, 'purge', '--before', '30d'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    purge.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    purge.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((done) => purge.once('exit', done));
    let running = true;
    void exited.then(() => { running = false; });
    // Meanwhile the old conversations carry on (their messages resent) and new ones start.
    const written: string[] = [];
    for (let i = 0; running; i++) {
      written.push(write(archive, Date.now(), i % 2 ? `old ${i % 20}` : `new ${i}`, 21));
      await tick();
    }
    expect(await exited, output).toBe(0);
    expect(output).toMatch(/^purged before .*: 200 exchanges/);
    archive.close();
    expect(written.length).toBeGreaterThan(10);
    const reader = new SqliteArchiveReader(join(home, 'llmtap.db'), { readonly: true });
    const unreadable = written.filter((id) => {
      try {
        return reader.exchange(id)?.row.request_body === undefined;
      } catch {
        return true;
      }
    });
    reader.close();
    expect(unreadable, `${unreadable.length} of ${written.length} exchanges written during the purge lost body parts`).toEqual([]);
  }, 30_000);
});
