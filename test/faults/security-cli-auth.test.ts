/**
 * Fault list #3, through the built CLI: `llmtap passwd USER` makes an --auth-file
 * line from stdin, which then authenticates; wrong credentials get 407; the CLI
 * refuses to listen beyond loopback without auth (exit 2, one line) and listens on
 * 127.0.0.1 by default.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { FAKE_HOSTS } from '../helpers/start-proxy.js';
import { ProxyAuth, readAuthFile } from '../../src/proxy/auth.js';
import { CHAT, basic, expect407, rawExchange } from './security-helpers.js';

const CLI = resolve('dist/cli/main.js');

/** Runs the built CLI to completion; stdin is written and closed. */
function runCli(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn('node', [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('exit', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Starts `llmtap start …` and resolves once it prints where it listens. */
function startCli(args: string[]): Promise<{ child: ChildProcess; address: string; port: number; stderr: () => string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('node', [CLI, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on http:\/\/(.+):(\d+)\n/.exec(stdout);
      if (m) resolvePromise({ child, address: m[1]!, port: Number(m[2]), stderr: () => stderr });
    });
    child.once('exit', (code) => reject(new Error(`llmtap exited ${code}: ${stderr}`)));
  });
}

function stopCli(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

const children: ChildProcess[] = [];
let fake: FakeProvider;

beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await fake?.close();
});

describe('the CLI', () => {
  it('`llmtap passwd USER` on a terminal asks twice and never shows what is typed; the line it prints checks', async () => {
    const home = mkdtempSync(join(tmpdir(), 'llmtap-gw-tty-'));
    // `script` gives the command a terminal; the password is typed after the prompt, as a person would.
    const typed = (first: string, second: string) => new Promise<{ code: number | null; out: string }>((resolvePromise) => {
      const child = spawn('script', ['-qec', `node ${CLI} --home ${home} passwd dave`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('password for dave: ') && !out.includes('again: ') && !child.stdin.writableEnded && first) {
          child.stdin.write(`${first}\r`);
          first = '';
        } else if (out.includes('again: ') && !child.stdin.writableEnded) child.stdin.end(`${second}\r`);
      });
      child.once('exit', (code) => resolvePromise({ code, out }));
    });
    const made = await typed('Secr3t-Typed', 'Secr3t-Typed');
    expect(made.out).not.toContain('Secr3t-Typed');
    const line = /dave:scrypt\S+/.exec(made.out)![0];
    const users = join(home, 'users');
    writeFileSync(users, `${line}\n`);
    const auth = new ProxyAuth(readAuthFile(users));
    expect(await auth.check(basic('dave', 'Secr3t-Typed'))).toBe('dave');
    const differ = await typed('one-password', 'another');
    expect(differ.out).toContain('llmtap: the two passwords differ');
    expect(differ.out).not.toMatch(/one-password|another|dave:scrypt/);
  });

  it('FAULT 3: `llmtap passwd USER` reads stdin; the line works with --auth-file; wrong passwords get 407', async () => {
    const home = mkdtempSync(join(tmpdir(), 'llmtap-gw-cli-'));
    const made = await runCli(['--home', home, 'passwd', 'alice'], 'tr0ub4dor&3\nignored second line\n');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^alice:scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\n$/);
    expect(made.stdout + made.stderr).not.toContain('tr0ub4dor');
    const usersFile = join(home, 'users');
    writeFileSync(usersFile, `# proxy users\n${made.stdout}`);
    expect((await runCli(['--home', home, 'passwd', 'bob'], '')).code).toBe(2); // no password on stdin

    const cli = await startCli(['--home', home, '--port', '0', '--auth-file', usersFile, '--upstream-ca', fake.caFile,
      ...FAKE_HOSTS.flatMap((h) => ['--connect-to', `${h}:443:127.0.0.1:${fake.port}`])]);
    try {
      expect(cli.address).toBe('127.0.0.1');
      for (const h of ['', `Proxy-Authorization: ${basic('alice', 'wrong')}\r\n`, `Proxy-Authorization: ${basic('alice', 'tr0ub4dor&3\nignored')}\r\n`]) {
        expect407(await rawExchange(cli.port, `CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n${h}\r\n`), h);
      }
      const ca = readFileSync(join(home, 'certs', 'llmtap-ca.pem'), 'utf8');
      const agent = new ProxyAgent({ uri: `http://127.0.0.1:${cli.port}`, token: basic('alice', 'tr0ub4dor&3'), requestTls: { ca } });
      try {
        const res = await request('https://api.openai.com/v1/chat/completions', { dispatcher: agent, method: 'POST', body: CHAT, headers: { 'content-type': 'application/json', 'user-agent': 'hashed-user' } });
        expect(res.statusCode).toBe(200);
        await res.body.text();
      } finally {
        await agent.close();
      }
      let recs: Array<{ client: { user: string | null; user_agent: string } }> = [];
      for (let i = 0; i < 50 && recs.length === 0; i++) {
        const { stdout } = await runCli(['--home', home, 'export', '--format', 'jsonl']);
        recs = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as (typeof recs)[number]);
        if (recs.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(recs.map((r) => [r.client.user_agent, r.client.user])).toEqual([['hashed-user', 'alice']]);
      expect(cli.stderr()).not.toContain('tr0ub4dor');
    } finally {
      await stopCli(cli.child);
    }
  });

  it('FAULT 3: refuses to listen beyond loopback without auth: exit 2, one line', async () => {
    const home = mkdtempSync(join(tmpdir(), 'llmtap-gw-cli-'));
    const hosts = ['0.0.0.0', '::', '192.0.2.10'];
    const runs = await Promise.all(hosts.map((host) => runCli(['--home', home, 'start', '--host', host, '--port', '0'])));
    for (const [i, host] of hosts.entries()) {
      const r = runs[i]!;
      expect(r.code, host).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, host).toHaveLength(1);
      expect(lines[0]).toMatch(/^llmtap: --host .*gateway mode.* requires --auth USER:PASS or --auth-file FILE$/);
      expect(r.stdout).toBe('');
    }
    // A broken auth file is refused in one line too, naming its line: a file that does not load, exit 1.
    writeFileSync(join(home, 'bad-users'), '# users\nalice:plaintext-password\n');
    const bad = await runCli(['--home', home, 'start', '--port', '0', '--auth-file', join(home, 'bad-users')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('bad-users:2: expected user:scrypt');
    expect(bad.stderr).not.toContain('plaintext-password');
  });

  it('FAULT 3: in local mode the default listen address is 127.0.0.1', async () => {
    const home = mkdtempSync(join(tmpdir(), 'llmtap-gw-cli-'));
    const cli = await startCli(['--home', home, '--port', '0']);
    try {
      expect(cli.address).toBe('127.0.0.1');
      // No auth needed on loopback: the proxy answers its own status page directly.
      const a = await rawExchange(cli.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(a.status).toBe(200);
    } finally {
      await stopCli(cli.child);
    }
  });
});
