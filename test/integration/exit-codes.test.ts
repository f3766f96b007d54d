import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { makeExchange } from '../../src/exchange.js';
import { openArchive } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/**
 * One rule for every command (README "Exit codes"): a file the command was given that
 * does not load — missing or invalid — ends in one line naming it and exit code 1, the
 * code check-config gives the same file; a malformed command line is exit code 2.
 */
const CLI = resolve('dist/cli/main.js');
let home: string;
let bad: string;
let badConfig: string;
let missing: string;
let freePort: number;

function llmtap(...args: string[]): Promise<{ code: number | null; stderr: string }> {
  return llmtapIn(home, ...args);
}

function llmtapIn(dir: string, ...args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, '--home', dir, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    // A command that starts by mistake is stopped (and the assertion on its code fails): within the
    // test's 30 s, late enough for a dozen started at once on a loaded 2-core machine (15 s was not).
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}

beforeAll(async () => {
  // A port nothing listens on, for `run` to start its background proxy on.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  freePort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  home = mkdtempSync(join(tmpdir(), 'llmtap-exit-'));
  openArchive(paths(home).archive).close(); // the read commands need one to get as far as the file
  bad = join(home, 'bad.yaml');
  writeFileSync(bad, 'rules:\n  - {id: x, action: nope}\n');
  badConfig = join(home, 'bad.json');
  writeFileSync(badConfig, '{\n  "failClosed": "yes"\n}\n');
  missing = join(home, 'missing.yaml');
});

describe('exit codes', () => {
  it('a policy or config file that does not load: exit 1 and one line naming it, in every command', async () => {
    const cases: [string, string[], RegExp][] = [
      ['check-config policy', ['check-config', bad], /bad\.yaml:2: rules\[0\]\.action/],
      ['start --policy', ['start', '--port', '0', '--policy', bad], /bad\.yaml:2: rules\[0\]\.action/],
      ['mock --policy', ['mock', '--since', '1h', '--port', '0', '--policy', bad], /bad\.yaml:2: rules\[0\]\.action/],
      ['policy test', ['policy', 'test', bad], /bad\.yaml:2: rules\[0\]\.action/],
      ['stats --budgets', ['stats', '--budgets', bad], /--budgets .*bad\.yaml:2: rules\[0\]\.action/],
      ['export --policy', ['export', '--policy', bad, '--team', 't'], /--policy .*bad\.yaml:2: rules\[0\]\.action/],
      ['check-config config', ['check-config', badConfig], /bad\.json:2: "failClosed" must be a boolean/],
      ['start --config', ['start', '--port', '0', '--config', badConfig], /bad\.json:2: "failClosed" must be a boolean/],
      ['check-config missing', ['check-config', missing], /missing\.yaml: cannot read \(ENOENT\)/],
      ['start --policy missing', ['start', '--port', '0', '--policy', missing], /missing\.yaml: cannot read \(ENOENT\)/],
      ['policy test missing', ['policy', 'test', missing], /missing\.yaml: cannot read \(ENOENT\)/],
      ['start --upstream-ca missing', ['start', '--port', '0', '--upstream-ca', missing], /--upstream-ca .*missing\.yaml: no such file/],
    ];
    const runs = await Promise.all(cases.map(([, args]) => llmtap(...args)));
    for (const [i, [name, , said]] of cases.entries()) {
      const r = runs[i]!;
      expect([name, r.code], r.stderr).toEqual([name, 1]);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stderr, name).toMatch(said);
    }
  });

  it('run --config with a config that does not load: exit 1 and one line saying why its background proxy did not start', async () => {
    // Nothing on the port: run starts `llmtap start --config` in the background, which refuses the file.
    const r = await llmtap('run', '--port', String(freePort), '--config', badConfig, '--', 'true');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/did not start: .*bad\.json:2: "failClosed" must be a boolean/);
  });

  it('a malformed command line: exit 2', async () => {
    const runs = await Promise.all([
      llmtap('start', '--port', 'abc'),
      llmtap('start', '--connect-to', 'nonsense'),
      llmtap('policy', 'test'),
      llmtap('mock', '--port', '0'),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2]);
  });

  it('a byte count that is not a whole number (--max-request-body 10.5, --capture-limit 0.5): exit 2 naming the flag', async () => {
    const runs = await Promise.all([
      llmtap('start', '--port', '0', '--max-request-body', '10.5'),
      llmtap('mock', '--since', '1h', '--port', '0', '--capture-limit', '0.5'),
    ]);
    expect(runs.map((r) => [r.code, r.stderr])).toEqual([
      [2, 'llmtap: --max-request-body 10.5: must be a whole number of bytes\n'],
      [2, 'llmtap: --capture-limit 0.5: must be a whole number of bytes\n'],
    ]);
  });

  it('a start that cannot listen (its port in use: the gateway already runs) exits 1 having deleted nothing: --retain-days purges only once it listens', async () => {
    const own = mkdtempSync(join(tmpdir(), 'llmtap-exit-busy-'));
    const archive = openArchive(paths(own).archive);
    archive.insertExchanges([exchangeToRow(makeExchange({
      id: 'ten-days-old', timings: { start: Date.now() - 10 * 86_400_000 }, outcome: 'completed',
      request: { method: 'POST', path: '/v1/chat/completions', headers: [], body: { bytes: Buffer.from('{}'), size: 2, truncated: false } },
    }))]);
    archive.close();
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as { port: number }).port;
      const run = await llmtapIn(own, 'start', '--port', String(port), '--retain-days', '1');
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`llmtap: cannot start: 127.0.0.1:${port} is already in use`);
    } finally {
      busy.close();
    }
    const after = openArchive(paths(own).archive);
    expect(after.db.prepare('SELECT id FROM exchanges').all()).toEqual([{ id: 'ten-days-old' }]);
    after.close();
  });

  it('a session the archive does not hold: exit 1, as show says for an id', async () => {
    const [mock, show] = await Promise.all([llmtap('mock', '--session', 'nope', '--port', '0'), llmtap('show', 'nope')]);
    expect([mock.code, show.code]).toEqual([1, 1]);
    expect(mock.stderr).toBe('llmtap: --session "nope": no such session in the archive\n');
  });

  it('a date the calendar does not have (Feb 30, April 31, 23:60) is malformed: exit 2, never rolled into the next month', async () => {
    // purge first: read as March 2, --before 2026-02-30 would delete two more days than asked.
    const runs = await Promise.all([
      llmtap('purge', '--before', '2026-02-30', '--dry-run'),
      llmtap('stats', '--since', '2026-04-31'),
      llmtap('export', '--format', 'jsonl', '--until', '2025-02-29T10:00'),
      llmtap('sessions', '--since', '2026-12-01T23:60'),
      llmtap('search', 'x', '--since', '2026-12-01 09:00:60Z'),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
    expect(runs[0]!.stderr).toBe('llmtap: --before "2026-02-30": no such date or time\n');
    expect(runs[1]!.stderr).toBe('llmtap: --since "2026-04-31": no such date or time\n');
    expect(runs[2]!.stderr).toBe('llmtap: --until "2025-02-29T10:00": no such date or time\n');
    // A leap day that exists still reads.
    expect((await llmtap('stats', '--since', '2028-02-29', '--json')).code).toBe(0);
  });
});
