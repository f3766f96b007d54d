/**
 * A users file emptied on a reload (SIGHUP) keeps logins required, on loopback too: a
 * loopback proxy behind a local reverse proxy or on a shared host became open to anyone
 * because its users file was truncated. Nobody logs in until a user is added again; the
 * log says so once, naming the file. Through the built CLI, with curl as the client.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPasswordLine } from '../../src/proxy/auth.js';
import { startCliProxy, type CliProxy } from '../helpers/cli-proxy.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

const run = promisify(execFile);
let fake: FakeProvider;
let proxy: CliProxy;
let usersFile: string;
let caFile: string;

/** The CONNECT's status, then the request's (000 when the CONNECT was refused). */
async function curlThrough(login?: string): Promise<string> {
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_connect} %{http_code}', '--cacert', caFile,
    '-x', `http://${login ? `${login}@` : ''}127.0.0.1:${proxy.port}`, 'https://api.openai.com/v1/chat/completions',
    '-H', 'content-type: application/json', '-d', '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}']).catch((e: { stdout: string }) => e);
  return stdout;
}

async function reload(): Promise<number> {
  const mark = proxy.logs().length;
  proxy.child.kill('SIGHUP');
  await proxy.waitLog(mark, 'config reloaded');
  return mark;
}

beforeAll(async () => {
  fake = await startFakeProvider();
  const dir = mkdtempSync(join(tmpdir(), 'llmtap-users-emptied-'));
  usersFile = join(dir, 'users.txt');
  writeFileSync(usersFile, `${await hashPasswordLine('alice', 'alice-pass')}\n`);
  const config = join(dir, 'config.json');
  writeFileSync(config, '{}\n');
  proxy = await startCliProxy(fake, ['--config', config, '--auth-file', usersFile]);
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, proxy.ca);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await fake?.close();
});

describe('a users file emptied on a reload', () => {
  it('keeps logins required on a loopback proxy: nobody gets through, one warn line names the file', async () => {
    expect(await curlThrough('alice:alice-pass')).toBe('200 200');
    expect(await curlThrough()).toBe('407 000');

    writeFileSync(usersFile, '# everyone removed\n');
    const mark = await reload();
    const seen = fake.seen.length;
    expect(await curlThrough()).toBe('407 000');
    expect(await curlThrough('alice:alice-pass')).toBe('407 000');
    expect(fake.seen.length).toBe(seen);
    const warned = proxy.logs().slice(mark).filter((l) => l.level === 40 && typeof l.msg === 'string' && l.msg.includes('no user can log in'));
    expect(warned).toEqual([expect.objectContaining({ file: usersFile })]);

    // A user added again logs in as before.
    writeFileSync(usersFile, `${await hashPasswordLine('alice', 'alice-pass')}\n`);
    await reload();
    expect(await curlThrough('alice:alice-pass')).toBe('200 200');
  }, 30_000);

  it('is read the same way at start: a loopback proxy started on an empty users file lets nobody in and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-users-empty-'));
    const empty = join(dir, 'users.txt');
    writeFileSync(empty, '');
    const other = await startCliProxy(fake, ['--auth-file', empty]);
    try {
      const warned = await other.waitLog(0, 'users file holds no user: no user can log in until one is added (llmtap passwd USER >> FILE)');
      expect(warned).toMatchObject({ level: 40, file: empty });
      const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_connect}', '--cacert', caFile, '-x', `http://127.0.0.1:${other.port}`,
        'https://api.openai.com/v1/models']).catch((e: { stdout: string }) => e);
      expect(stdout).toBe('407');
    } finally {
      await other.stop();
    }
  }, 30_000);
});
