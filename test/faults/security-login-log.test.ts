/**
 * A refused gateway login is logged for the operator (`proxy login refused`, warn): why,
 * the user when such a user exists, the client's address — never the password, and never
 * an unknown name (often a password typed in the user field). Through the built CLI, with
 * curl as the client for the proxy and undici for the web UI.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPasswordLine } from '../../src/proxy/auth.js';
import { startCliProxy, type CliProxy } from '../helpers/cli-proxy.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

const run = promisify(execFile);
let fake: FakeProvider;
let proxy: CliProxy;
let caFile: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  const dir = mkdtempSync(join(tmpdir(), 'llmtap-login-log-'));
  writeFileSync(join(dir, 'users.txt'), `${await hashPasswordLine('alice', 'alice-right-pass')}\n`);
  proxy = await startCliProxy(fake, ['--auth-file', join(dir, 'users.txt')]);
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, proxy.ca);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await fake?.close();
});

async function curlThrough(login: string): Promise<string> {
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', caFile, '-x', `http://${login}@127.0.0.1:${proxy.port}`,
    'https://api.openai.com/v1/chat/completions', '-H', 'content-type: application/json', '-d', '{"model":"gpt-4o-mini","messages":[]}']).catch((e: { stdout: string }) => e);
  return stdout;
}

describe('refused gateway logins', () => {
  it('are logged with the reason and a known user, without the password or an unknown name', async () => {
    const before = proxy.logs().length;
    await curlThrough('alice:alice-wrong-pass');
    const wrong = await proxy.waitLog(before, 'proxy login refused');
    expect(wrong).toMatchObject({ level: 40, reason: 'wrong_password', user: 'alice', client: '127.0.0.1', via: 'proxy' });

    // A password typed as the user name: refused, logged, the name left out.
    const mark = proxy.logs().length;
    await curlThrough('alice-right-pass:x');
    const unknown = await proxy.waitLog(mark, 'proxy login refused');
    expect(unknown).toMatchObject({ reason: 'unknown_user', via: 'proxy' });
    expect(unknown).not.toHaveProperty('user');

    // The web UI and the status page log theirs too.
    const page = proxy.logs().length;
    const res = await request(`http://127.0.0.1:${proxy.port}/ui/api/me`, { headers: { authorization: `Basic ${Buffer.from('alice:ui-wrong-pass').toString('base64')}` } });
    await res.body.dump();
    expect(res.statusCode).toBe(401);
    expect(await proxy.waitLog(page, 'proxy login refused')).toMatchObject({ reason: 'wrong_password', user: 'alice', via: 'page' });

    // The right password still works, and no password was ever written to the log.
    expect(await curlThrough('alice:alice-right-pass')).toBe('200');
    expect(proxy.stderr()).not.toMatch(/alice-wrong-pass|alice-right-pass|ui-wrong-pass/);
    // Logged once: the same wrong header within the minute is remembered (debug only).
    const again = proxy.logs().length;
    await curlThrough('alice:alice-wrong-pass');
    await new Promise((r) => setTimeout(r, 200));
    expect(proxy.logs().slice(again).filter((l) => l.msg === 'proxy login refused')).toEqual([]);
  }, 30_000);
});

describe('llmtap start on a gateway', () => {
  it('tells its operator the env --gateway command developers run, not a bare llmtap env (no login: every request 407)', () => {
    expect(proxy.stdout()).toContain(`  eval "$(llmtap env --gateway http://USER@127.0.0.1:${proxy.port})"\n`);
    expect(proxy.stdout()).not.toContain('--home');
  });
});
