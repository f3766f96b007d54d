/**
 * A reload (SIGHUP) re-reads the users file of a gateway started with only `--auth-file`
 * (the README's own example, no `--config`): a user added with `llmtap passwd` logged in
 * only after a restart, and a removed one kept working. The file is the truth on every
 * listener: emptied, nobody logs in (it was refused beyond loopback, the old users kept
 * working). A line that does not load is refused, the running users stay; the log names the
 * users file's line (with --config too: it named the config's), and the web UI's policy page
 * says so until the file loads. Through the built CLI on 0.0.0.0, with curl as the client.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPasswordLine } from '../../src/proxy/auth.js';
import { startCliProxy, type CliProxy } from '../helpers/cli-proxy.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

const run = promisify(execFile);
let fake: FakeProvider;
let dir: string;
let alice: string;
let bob: string;
/** Started together (each start takes a while): a gateway with --auth-file and --policy only, one with --config too. */
let flagsOnly: { proxy: CliProxy; usersFile: string };
let withConfig: { proxy: CliProxy; usersFile: string };
/** A gateway whose config file names the users file (authFile) and alice a UI admin. */
let configKey: { proxy: CliProxy; usersFile: string; configFile: string };

const CHAT = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}';

/** The CONNECT's status, then the request's (000 when the CONNECT was refused). */
async function curlThrough(proxy: CliProxy, login: string): Promise<string> {
  const caFile = join(proxy.home, 'certs', 'llmtap-ca.pem');
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_connect} %{http_code}', '--cacert', caFile,
    '-x', `http://${login}@127.0.0.1:${proxy.port}`, 'https://api.openai.com/v1/chat/completions',
    '-H', 'content-type: application/json', '-d', CHAT]).catch((e: { stdout: string }) => e);
  return stdout;
}

/** SIGHUP, and the log line it ends with; the mark is where this reload's lines start. */
async function reload(proxy: CliProxy, msg: string): Promise<{ mark: number; line: Record<string, unknown> }> {
  const mark = proxy.logs().length;
  proxy.child.kill('SIGHUP');
  return { mark, line: await proxy.waitLog(mark, msg) };
}

const NO_USER = 'users file holds no user: no user can log in until one is added (llmtap passwd USER >> FILE)';

beforeAll(async () => {
  fake = await startFakeProvider();
  dir = mkdtempSync(join(tmpdir(), 'llmtap-users-reload-'));
  [alice, bob] = await Promise.all([hashPasswordLine('alice', 'alice-pass'), hashPasswordLine('bob', 'bob-pass')]);
  const usersFile = join(dir, 'users.txt');
  writeFileSync(usersFile, `${alice}\n`);
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, 'rules: []\n');
  const configUsers = join(dir, 'config-users.txt');
  writeFileSync(configUsers, `${alice}\n`);
  const config = join(dir, 'config.json');
  writeFileSync(config, '{}\n');
  const keyUsers = join(dir, 'key-users.txt');
  writeFileSync(keyUsers, `${alice}\n`);
  const keyConfig = join(dir, 'key-config.json');
  writeFileSync(keyConfig, JSON.stringify({ authFile: 'key-users.txt', uiAdmins: ['alice'] }, null, 2));
  const [a, b, c] = await Promise.all([
    startCliProxy(fake, ['--host', '0.0.0.0', '--auth-file', usersFile, '--policy', policyFile]),
    startCliProxy(fake, ['--host', '0.0.0.0', '--config', config, '--auth-file', configUsers]),
    startCliProxy(fake, ['--host', '0.0.0.0', '--config', keyConfig]),
  ]);
  flagsOnly = { proxy: a, usersFile };
  withConfig = { proxy: b, usersFile: configUsers };
  configKey = { proxy: c, usersFile: keyUsers, configFile: keyConfig };
}, 30_000);

afterAll(async () => {
  await Promise.all([flagsOnly?.proxy.stop(), withConfig?.proxy.stop(), configKey?.proxy.stop()]);
  await fake?.close();
});

describe('SIGHUP on a gateway started with --auth-file (no --config)', () => {
  it('re-reads the users file: an added user logs in, a removed one is refused, a bad line keeps the running users, an emptied file lets nobody in', async () => {
    const { proxy, usersFile } = flagsOnly;
    expect(await curlThrough(proxy, 'alice:alice-pass')).toBe('200 200');
    expect(await curlThrough(proxy, 'bob:bob-pass')).toBe('407 000');

    // Added as the README says (llmtap passwd bob >> users.txt): both files reload on the one SIGHUP.
    appendFileSync(usersFile, `${bob}\n`);
    const added = await reload(proxy, 'users reloaded');
    expect(added.line).toMatchObject({ level: 30, file: usersFile, users: 2 });
    await proxy.waitLog(added.mark, 'policy reloaded');
    expect(await curlThrough(proxy, 'bob:bob-pass')).toBe('200 200');

    // Removed: refused, on a connection alice already holds open too (its next request).
    const held = new ProxyAgent({ uri: `http://127.0.0.1:${proxy.port}`, token: `Basic ${Buffer.from('alice:alice-pass').toString('base64')}`, requestTls: { ca: proxy.ca } });
    try {
      const chat = async (): Promise<number> => (await request('https://api.openai.com/v1/chat/completions', { dispatcher: held, method: 'POST', body: CHAT, headers: { 'content-type': 'application/json' } }).then(async (r) => { await r.body.dump(); return r; })).statusCode;
      expect(await chat()).toBe(200);
      writeFileSync(usersFile, `${bob}\n`);
      await reload(proxy, 'users reloaded');
      expect(await chat()).toBe(407);
    } finally {
      await held.close();
    }
    expect(await curlThrough(proxy, 'alice:alice-pass')).toBe('407 000');
    expect(await curlThrough(proxy, 'bob:bob-pass')).toBe('200 200');

    // A line that does not load: one error line naming file:line, bob still logs in, alice still does not.
    writeFileSync(usersFile, `${alice}\nalice:not-a-hash\n`);
    const refused = await reload(proxy, 'users file reload refused; keeping the running users');
    expect(refused.line).toMatchObject({ level: 50, file: usersFile });
    expect(String(refused.line.err)).toContain(`${usersFile}:2: expected user:scrypt`);
    expect(proxy.logs().slice(refused.mark).filter((l) => Number(l.level) >= 50)).toHaveLength(1);
    expect(await curlThrough(proxy, 'bob:bob-pass')).toBe('200 200');
    expect(await curlThrough(proxy, 'alice:alice-pass')).toBe('407 000');

    // Emptied beyond loopback: nobody logs in, said once with the file.
    writeFileSync(usersFile, '# everyone removed\n');
    const emptied = await reload(proxy, 'users reloaded');
    const seen = fake.seen.length;
    expect(await curlThrough(proxy, 'bob:bob-pass')).toBe('407 000');
    expect(fake.seen.length).toBe(seen);
    expect(proxy.logs().slice(emptied.mark).filter((l) => l.msg === NO_USER)).toEqual([expect.objectContaining({ level: 40, file: usersFile })]);
    // No password or hash is ever logged.
    for (const secret of ['alice-pass', 'bob-pass', ...[alice, bob].flatMap((line) => line.split('$').slice(-2))]) expect(proxy.stderr()).not.toContain(secret);
  }, 30_000);
});

describe('SIGHUP on a gateway started with --config and an --auth-file', () => {
  it('a bad line in the users file (the config\'s authFile, or --auth-file beside --config) is logged as the users file\'s, file:line, and noted on the policy page until the file loads', async () => {
    type Refused = { file: string; message: string; at: number } | null;
    const page = async (): Promise<{ refused_users_reload: Refused; refused_reload: Refused }> => {
      const res = await fetch(`http://127.0.0.1:${configKey.proxy.port}/ui/api/policy`, { headers: { authorization: `Basic ${Buffer.from('alice:alice-pass').toString('base64')}` } });
      expect(res.status).toBe(200);
      return await res.json() as { refused_users_reload: Refused; refused_reload: Refused };
    };
    for (const { proxy, usersFile } of [configKey, withConfig]) {
      writeFileSync(usersFile, `${alice}\nalice:not-a-hash\n`);
      const refused = await reload(proxy, 'users file reload refused; keeping the running users');
      expect(refused.line).toMatchObject({ level: 50, file: usersFile });
      expect(String(refused.line.err)).toMatch(new RegExp(`^(--auth-file )?${usersFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: expected user:scrypt`));
      // One error line, the users file's: not the config's.
      expect(proxy.logs().slice(refused.mark).filter((l) => Number(l.level) >= 50)).toHaveLength(1);
    }
    const { refused_users_reload: noted, refused_reload: configNote } = await page();
    // One note, the users file's, saying the config's reload waits for it: not a second one for the config.
    expect(noted).toMatchObject({ file: configKey.usersFile, config: configKey.configFile, message: `${configKey.usersFile}:2: expected user:scrypt$N$r$p$salt$key (make one with "llmtap passwd USER")` });
    expect(configNote).toBeNull();
    expect(noted!.at).toBeGreaterThan(Date.now() - 10_000);

    // The file fixed: it loads, and the note is gone (never a hash on the page meanwhile).
    writeFileSync(configKey.usersFile, `${alice}\n${bob}\n`);
    await reload(configKey.proxy, 'config reloaded');
    expect(await page()).toMatchObject({ refused_users_reload: null });
    expect(await curlThrough(configKey.proxy, 'bob:bob-pass')).toBe('200 200');
    writeFileSync(withConfig.usersFile, `${alice}\n`);
  }, 30_000);

  it('an emptied users file lets nobody in beyond loopback too (the reload was refused and the old users kept working)', async () => {
    const { proxy, usersFile } = withConfig;
    expect(await curlThrough(proxy, 'alice:alice-pass')).toBe('200 200');
    writeFileSync(usersFile, '');
    const { mark } = await reload(proxy, 'config reloaded');
    expect(await curlThrough(proxy, 'alice:alice-pass')).toBe('407 000');
    expect(proxy.logs().slice(mark).filter((l) => l.msg === NO_USER)).toEqual([expect.objectContaining({ level: 40, file: usersFile })]);
  }, 30_000);
});
