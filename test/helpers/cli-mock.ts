import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const CLI = resolve('dist/cli/main.js');

/** `llmtap mock` run by the CLI as a user runs it, on the archive of `home`. */
export interface CliMock {
  child: ChildProcess;
  /** The mock's proxy URL and port. */
  url: string;
  port: number;
  /** The CA the recorded home's tools trust (the mock's too). */
  ca: string;
  /** All it wrote to stderr so far (its summary, once stopped). */
  stderr(): string;
  /** SIGTERM, and its exit waited for (it prints its summary first). */
  stop(): Promise<void>;
}

/** `args`: the mock's flags after `mock` (what to replay, --timing, --connect-to …); on a free port, warnings only. */
export async function startCliMock(home: string, args: readonly string[]): Promise<CliMock> {
  const child = spawn('node', [CLI, '--home', home, 'mock', '--port', '0', '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /llmtap listening on (http:\/\/\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`mock exited ${code}: ${stderr}`)));
  });
  return {
    child, url, port: Number(new URL(url).port),
    ca: readFileSync(join(home, 'certs', 'llmtap-ca.pem'), 'utf8'),
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
