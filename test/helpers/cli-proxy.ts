import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FakeProvider } from './fake-provider.js';
import { FAKE_HOSTS } from './start-proxy.js';

const CLI = resolve('dist/cli/main.js');

/** `llmtap start` run by the CLI as an operator runs it, provider hosts sent to the fake: its port, CA, JSON log lines. */
export interface CliProxy {
  child: ChildProcess;
  home: string;
  port: number;
  ca: string;
  /** What it printed on stdout (the banner). */
  stdout(): string;
  stderr(): string;
  logs(): Array<Record<string, unknown>>;
  /** The first log line with this message after the first `after` lines (5 s at most). */
  waitLog(after: number, msg: string): Promise<Record<string, unknown>>;
  /** SIGTERM, and its exit waited for. */
  stop(): Promise<void>;
}

/** `env`: added to the test's own environment (NODE_OPTIONS to load a fault into the process). */
export async function startCliProxy(fake: Pick<FakeProvider, 'port' | 'caFile'>, args: readonly string[], home = mkdtempSync(join(tmpdir(), 'llmtap-cli-home-')), env: Record<string, string> = {}): Promise<CliProxy> {
  const child = spawn('node', [CLI, 'start', '--home', home, '--port', '0', '--upstream-ca', fake.caFile,
    ...FAKE_HOSTS.flatMap((h) => ['--connect-to', `${h}:443:127.0.0.1:${fake.port}`]), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  let stdout = '';
  const port = await new Promise<number>((done, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      // A gateway (--host 0.0.0.0) listens on loopback too: the tests reach it there.
      const m = /listening on http:\/\/(?:127\.0\.0\.1|0\.0\.0\.0):(\d+)/.exec(stdout);
      if (m) done(Number(m[1]));
    });
    child.once('exit', (code) => fail(new Error(`exited ${code}: ${stderr}`)));
  });
  const logs = (): Array<Record<string, unknown>> => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child, home, port, logs,
    ca: readFileSync(join(home, 'certs', 'llmtap-ca.pem'), 'utf8'),
    stdout: () => stdout,
    stderr: () => stderr,
    async waitLog(after, msg) {
      for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
        const line = logs().slice(after).find((l) => l.msg === msg);
        if (line) return line;
      }
      throw new Error(`no "${msg}" log line: ${stderr}`);
    },
    async stop() {
      if (child.exitCode === null) await new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); });
    },
  };
}
