/**
 * `llmtap backup FILE`: a consistent, compacted copy of the archive taken while the proxy
 * goes on recording, readable as an archive, created 0600, never over an existing file.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const CLI = resolve('dist/cli/main.js');
const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'llmtap-backup-'));

/** The CLI's exit code, stdout and stderr (a non-zero exit is a result here, not a throw). */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('node', [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let fake: FakeProvider;
let tp: TestProxy;

async function chat(i: number): Promise<void> {
  const res = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${i}` }] }),
  });
  await res.body.text();
}

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
  for (let i = 0; i < 20; i++) await chat(i);
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

describe('llmtap backup', () => {
  it('copies the archive while the proxy records, and the copy reads as an archive', async () => {
    // Recorded and handed to the writer: the 20 exchanges are in the archive before the copy starts.
    await expect.poll(async () => (await cli(['--home', tp.home, 'export'])).stdout.trim().split('\n').length, { timeout: 5000 }).toBe(20);
    let recording = true;
    let sent = 20;
    const traffic = (async () => {
      while (recording) await chat(sent++);
    })();
    const out = join(dir, 'copy.db');
    const r = await cli(['--home', tp.home, 'backup', out, '--json']);
    recording = false;
    await traffic;
    expect([r.code, r.stderr]).toEqual([0, '']);
    const result = JSON.parse(r.stdout) as { file: string; bytes: number; exchanges: number; check: string; source: string };
    expect(result).toMatchObject({ file: out, check: 'ok', bytes: statSync(out).size, source: join(tp.home, 'llmtap.db') });
    expect(result.exchanges).toBeGreaterThanOrEqual(20);
    expect(result.exchanges).toBeLessThanOrEqual(sent);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    // Read as an archive: put where a home keeps it.
    const home = mkdtempSync(join(tmpdir(), 'llmtap-restored-'));
    copyFileSync(out, join(home, 'llmtap.db'));
    const lines = (await cli(['--home', home, 'export'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { model: string });
    expect(lines).toHaveLength(result.exchanges);
    expect(new Set(lines.map((l) => l.model))).toEqual(new Set(['gpt-4o-mini']));
  });

  it('says what it wrote in one line', async () => {
    const out = join(dir, 'plain.db');
    const r = await cli(['--home', tp.home, 'backup', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^backed up [\\d,]+ exchanges? \\([\\d.]+ [kM]B\\) from .+llmtap\\.db to ${out.replace(/[.]/g, '\\.')} in \\S+; quick_check ok\\n$`));
  });

  it('never writes over a file, names a missing directory, and needs an archive', async () => {
    const taken = join(dir, 'taken.db');
    writeFileSync(taken, 'keep me');
    const over = await cli(['--home', tp.home, 'backup', taken]);
    expect([over.code, over.stdout, over.stderr]).toEqual([2, '', `llmtap: backup ${taken}: already exists; name a new file (a copy never overwrites one)\n`]);
    expect(readFileSync(taken, 'utf8')).toBe('keep me');
    const nowhere = join(dir, 'no-such-dir', 'copy.db');
    const missing = await cli(['--home', tp.home, 'backup', nowhere]);
    expect([missing.code, missing.stderr]).toEqual([2, `llmtap: backup ${nowhere}: no such directory ${join(dir, 'no-such-dir')}\n`]);
    const empty = mkdtempSync(join(tmpdir(), 'llmtap-empty-'));
    const none = await cli(['--home', empty, 'backup', join(dir, 'none.db')]);
    expect([none.code, none.stderr]).toEqual([1, `llmtap: no archive at ${join(empty, 'llmtap.db')} (start the proxy first, or pass --home)\n`]);
  });
});
