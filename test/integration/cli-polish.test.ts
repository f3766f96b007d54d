/**
 * The built CLI as a new user meets it: bad values name their flag, `ca --der -`,
 * `passwd` usage, "did you mean", --version, one pretty line per exchange coloured
 * by status, and `export --last N` / relative --since/--until. Needs `npm run build`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fetch, ProxyAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPasswordLine } from '../../src/proxy/auth.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');
let home: string;

async function fails(...args: string[]): Promise<{ code: number; stderr: string }> {
  const err = (await run('node', [CLI, '--home', home, ...args]).then(() => ({ code: 0, stderr: '' }), (e: unknown) => e)) as { code: number; stderr: string };
  return { code: err.code, stderr: err.stderr };
}

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'llmtap-polish-'));
});

describe('CLI errors a new user meets', () => {
  it('one line naming the flag: --port abc, --upstream-ca /missing.pem, a bad --upstream-proxy (password never echoed)', async () => {
    expect(await fails('start', '--port', 'abc')).toEqual({ code: 2, stderr: 'llmtap: --port "abc": not a number\n' });
    // A file that does not load is exit code 1 (README "Exit codes"); a bad value 2.
    expect(await fails('start', '--port', '0', '--upstream-ca', '/missing.pem')).toEqual({ code: 1, stderr: 'llmtap: --upstream-ca /missing.pem: no such file\n' });
    expect(await fails('start', '--port', '0', '--auth-file', '/missing-users')).toEqual({ code: 1, stderr: 'llmtap: --auth-file /missing-users: cannot read (ENOENT)\n' });
    const proxy = await fails('start', '--port', '0', '--upstream-proxy', 'socks5://me:hunter2@proxy:1080');
    expect(proxy).toEqual({ code: 2, stderr: 'llmtap: --upstream-proxy: socks5:// proxies are not supported (use http:// or https://)\n' });
  });

  it('passwd without a user prints a usage line; a mistyped command suggests the closest; --version prints the version', async () => {
    // A gateway whose users file holds no user (only comments) names the file, not a missing flag.
    const noUsers = join(home, 'no-users.txt');
    writeFileSync(noUsers, '# proxy users: none yet\n');
    expect(await fails('start', '--host', '0.0.0.0', '--port', '0', '--auth-file', noUsers)).toEqual({ code: 2, stderr: `llmtap: --host 0.0.0.0: listening beyond loopback (gateway mode) requires a proxy user, and ${noUsers} holds none (add one with "llmtap passwd USER >> FILE")\n` });
    // A name no users-file line can log in with: refused before any password is read, exit 2.
    expect(await fails('passwd', '#eve')).toEqual({ code: 2, stderr: 'llmtap: user name "#eve": cannot start with "#" (a users-file line starting with it is a comment)\n' });
    expect(await fails('passwd', ' eve')).toEqual({ code: 2, stderr: 'llmtap: user name " eve": cannot start or end with a space (the users file trims its lines)\n' });
    expect(await fails('passwd', 'a:b')).toEqual({ code: 2, stderr: 'llmtap: user names cannot be empty or contain ":"\n' });
    expect(await fails('passwd')).toEqual({ code: 2, stderr: 'llmtap: usage: llmtap passwd USER < password-file (prints a line for --auth-file; the password is read from stdin)\n' });
    expect(await fails('sesions')).toEqual({ code: 2, stderr: 'llmtap: unknown command "sesions"; did you mean sessions? (llmtap --help lists them)\n' });
    expect(await fails('policy', 'tset', 'p.yaml')).toEqual({ code: 2, stderr: 'llmtap: unknown policy command "tset"; did you mean test? (llmtap policy --help lists them)\n' });
    const { stdout } = await run('node', [CLI, '--version']);
    expect(stdout.trim()).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  });

  it('export --last/--limit N: a count that is not a positive whole number names the flag as typed, as sessions --limit does', async () => {
    for (const [flag, value] of [['--last', '0'], ['--last', '-2'], ['--last', '1.5'], ['--limit', '0']] as const) {
      expect(await fails('export', flag, value), `${flag} ${value}`).toEqual({ code: 2, stderr: `llmtap: ${flag} must be a positive integer\n` });
    }
    expect(await fails('export', '--last=0')).toEqual({ code: 2, stderr: 'llmtap: --last must be a positive integer\n' });
    expect(await fails('sessions', '--limit', '0')).toEqual({ code: 2, stderr: 'llmtap: --limit must be a positive integer\n' });
  });

  it('ca --der - writes the DER certificate to stdout', async () => {
    const file = join(home, 'ca.der');
    await run('node', [CLI, '--home', home, 'ca', '--der', file]);
    const { stdout } = await run('node', [CLI, '--home', home, 'ca', '--der', '-'], { encoding: 'buffer' });
    expect(stdout.equals(readFileSync(file))).toBe(true);
    expect(stdout[0]).toBe(0x30);
  });

  it('env, pac, run and doctor refuse a port or host pattern no proxy can have, before printing anything', async () => {
    for (const args of [['env', '--port', '99999'], ['pac', '--port', '0'], ['pac', '--intercept', 'bad host!!'], ['run', '--port', '70000', '--', 'true'], ['doctor', '--port', '-1']]) {
      const result = await run('node', [CLI, '--home', home, ...args]).then((r) => ({ ...r, code: 0 }), (e: { code: number; stdout: string; stderr: string }) => e);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout, args.join(' ')).toBe('');
      expect(result.stderr, args.join(' ')).toMatch(/^llmtap: --(port -?\d+: must be 1-65535|intercept: invalid host pattern "bad host!!")\n$/);
    }
  });

  it('check-config --json: ok and the summary, or the problem, for a machine; exit codes as without it', async () => {
    const good = join(home, 'good.yaml');
    const bad = join(home, 'bad.yaml');
    writeFileSync(good, 'rules:\n  - {id: d, action: deny, match: {model: "gpt-5*"}}\n');
    writeFileSync(bad, 'rules:\n  - {id: d, action: nope}\n');
    const ok = JSON.parse((await run('node', [CLI, '--home', home, 'check-config', '--json', good])).stdout) as { ok: boolean; summary: string };
    expect(ok).toMatchObject({ ok: true, summary: expect.stringContaining('policy with 1 rule') });
    const failed = await run('node', [CLI, '--home', home, 'check-config', bad, '--json']).then(() => undefined, (e: { code: number; stdout: string }) => e);
    expect(failed?.code).toBe(1);
    expect(JSON.parse(failed!.stdout)).toMatchObject({ ok: false, error: expect.stringMatching(/bad\.yaml:2: rules\[0\]\.action/) });
  });

  it('check-config warns about a budget rule an earlier enforced one shadows, naming both; a warning keeps exit 0', async () => {
    const file = join(home, 'shadowed.yaml');
    writeFileSync(file, 'teams: {platform: [alice]}\nrules:\n  - {id: team-cap, budget: {usd: 100, period: month, per: team}}\n  - {id: alice-cap, match: {user: alice}, budget: {usd: 10, period: month, per: user}}\n');
    const text = await run('node', [CLI, '--home', home, 'check-config', file]);
    expect(text.stdout).toMatch(/shadowed\.yaml: ok, policy with 2 rules/);
    expect(text.stderr).toBe(`llmtap: warning: ${file}:4: rules[1]: budget rule "alice-cap" never applies: the enforced budget rule "team-cap" above it (rules[0]) matches every request it matches (within budgets the first enforced match wins). List it first, or make "team-cap" mode: monitor to count both\n`
      + 'llmtap: 1 warning; the file loads as it is (warnings do not fail check-config: exit 0)\n');
    const json = JSON.parse((await run('node', [CLI, '--home', home, 'check-config', '--json', file])).stdout) as { ok: boolean; warnings: string[] };
    expect(json).toMatchObject({ ok: true, warnings: [expect.stringContaining('budget rule "alice-cap" never applies')] });
    // A config file naming the policy warns the same.
    const config = join(home, 'shadowed-config.json');
    writeFileSync(config, JSON.stringify({ policy: file }));
    expect((await run('node', [CLI, '--home', home, 'check-config', config])).stderr).toContain('never applies');
  });

  it('check-config warns when retainDays deletes spend a budget period still counts (a restart would seed the budget from less)', async () => {
    const policy = join(home, 'retained.yaml');
    writeFileSync(policy, 'rules:\n  - {id: daily, mode: monitor, budget: {usd: 5, period: day, per: user}}\n  - {id: monthly, budget: {usd: 100, period: month, per: user}}\n');
    const config = join(home, 'retained.json');
    writeFileSync(config, JSON.stringify({ policy: 'retained.yaml', retainDays: 7 }, null, 2));
    const text = await run('node', [CLI, '--home', home, 'check-config', config]);
    expect(text.stdout).toMatch(/retained\.json: ok, config with 2 settings/);
    // file:line of the key, as a policy's warnings and the config's errors name theirs.
    expect(text.stderr).toBe(`llmtap: warning: ${config}:3: retainDays 7 deletes exchanges before the month of budget rule "monthly" is over: after a restart, or a reload that seeds the rule again, it counts only the spend of the last 7 days (budgets start from the archive); keep retainDays at least 31 for a month\n`
      + 'llmtap: 1 warning; the file loads as it is (warnings do not fail check-config: exit 0)\n');
    writeFileSync(config, JSON.stringify({ policy: 'retained.yaml', retainDays: 31 }));
    expect((await run('node', [CLI, '--home', home, 'check-config', config])).stderr).toBe('');
  });

  it('check-config warns about a uiAdmins name no proxy user has (a typo would leave the UI and /metrics to nobody)', async () => {
    writeFileSync(join(home, 'admins-users.txt'), `${await hashPasswordLine('alice', 'pw')}\n${await hashPasswordLine('prometheus', 'pw')}\n`);
    const config = join(home, 'admins.json');
    writeFileSync(config, `{\n  "authFile": "admins-users.txt",\n  "uiAdmins": [\n    "prometheus",\n    "Alice"\n  ]\n}\n`);
    const text = await run('node', [CLI, '--home', home, 'check-config', config]);
    expect(text.stdout).toMatch(/admins\.json: ok, config with 2 settings/);
    expect(text.stderr).toBe(`llmtap: warning: ${config}:5: uiAdmins: "Alice" is not one of the proxy users (names are compared exactly): nobody by that name sees everything in the web UI or may scrape /metrics\n`
      + 'llmtap: 1 warning; the file loads as it is (warnings do not fail check-config: exit 0)\n');
  });

  it('a flag the other flags make meaningless is refused, not ignored', async () => {
    expect(await fails('ca', '--intercept', 'foo.com')).toEqual({ code: 2, stderr: 'llmtap: --intercept is read only with --regenerate --name-constrained (the hosts the new CA may sign for)\n' });
    expect(await fails('show', 'x', '--json', '--format', 'md')).toEqual({ code: 2, stderr: 'llmtap: --format md is for the text view: not with --json\n' });
  });

  it('a file the user named that cannot be written ends in one line naming it, exit 1, not a stack trace', async () => {
    for (const [path, why] of [[join(home, 'no-such-dir', 'ca.der'), 'ENOENT: no such file or directory'], [home, 'EISDIR: illegal operation on a directory']] as const) {
      const failed = await fails('ca', '--der', path);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toBe(`llmtap: ${why}, open '${path}'\n`);
    }
  });
});

describe('pretty logs and export windows', () => {
  let fake: FakeProvider;
  let proxy: ChildProcess;
  let stderr = '';
  let port = 0;

  beforeAll(async () => {
    fake = await startFakeProvider();
    proxy = spawn('node', [CLI, 'start', '--home', home, '--port', '0', '--pretty', '--upstream-ca', fake.caFile,
      '--connect-to', `api.openai.com:443:127.0.0.1:${fake.port}`, '--connect-to', 'api.anthropic.com:443:127.0.0.1:1'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '1', NO_COLOR: '' } });
    proxy.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let stdout = '';
    port = await new Promise<number>((ok, fail) => {
      proxy.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
        if (m) ok(Number(m[1]));
      });
      proxy.once('exit', (code) => fail(new Error(`proxy exited ${code}: ${stderr}`)));
    });
  });
  afterAll(async () => {
    if (proxy.exitCode === null) proxy.kill('SIGKILL');
    await fake?.close();
  });

  it('one line per exchange, coloured by status; then export --last/--since/--until select by time', async () => {
    const agent = new ProxyAgent({ uri: `http://127.0.0.1:${port}`, requestTls: { ca: readFileSync(join(home, 'certs', 'llmtap-ca.pem'), 'utf8') } });
    for (const model of ['gpt-4o-mini', 'gpt-4.1']) {
      const res = await fetch('https://api.openai.com/v1/chat/completions', { dispatcher: agent, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });
      expect(res.status).toBe(200);
      await res.text();
    }
    const down = await fetch('https://api.anthropic.com/v1/messages', { dispatcher: agent, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [] }) });
    expect(down.status).toBe(502);
    expect(await down.text()).toContain('api.anthropic.com:443');
    await agent.close();
    await new Promise<void>((ok) => {
      proxy.once('exit', () => ok());
      proxy.kill('SIGTERM');
    });
    const lines = stderr.split('\n').filter((l) => l.includes(' api.openai.com/v1/chat/completions') || l.includes(' api.anthropic.com/v1/messages'));
    expect(lines.filter((l) => l.includes('\u001b[32m200\u001b[39m POST api.openai.com/v1/chat/completions'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('\u001b[35m502 upstream_unreachable\u001b[39m POST api.anthropic.com/v1/messages'))).toHaveLength(1);
    expect(stderr).not.toMatch(/^\s+(method|host|status):/m); // not pino-pretty's one field per line

    const exported = async (...args: string[]): Promise<Array<{ model: string | null; host: string }>> => {
      const { stdout } = await run('node', [CLI, '--home', home, 'export', ...args]);
      return stdout.trim() === '' ? [] : stdout.trim().split('\n').map((l) => JSON.parse(l) as { model: string | null; host: string });
    };
    expect((await exported('--last', '2')).map((e) => e.model)).toEqual(['gpt-4.1', 'claude-sonnet-4-5']);
    expect((await exported('--limit', '1')).map((e) => e.host)).toEqual(['api.anthropic.com']);
    expect(await exported('--since', '10m')).toHaveLength(3);
    expect(await exported('--until', '10m')).toHaveLength(0);
    expect((await fails('export', '--since', 'yesterday')).stderr).toMatch(/^llmtap: --since "yesterday": expected a duration such as 24h or 7d/);
  });
});
