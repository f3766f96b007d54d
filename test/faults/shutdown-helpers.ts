/** Spawning the built CLI (`npm run build` → dist/) for the shutdown fault tests. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ProxyAgent, request } from 'undici';
import type { FakeProvider } from '../helpers/fake-provider.js';

export const CLI = resolve('dist/cli/main.js');
const execFileP = promisify(execFile);

export interface Cli {
  child: ChildProcess;
  home: string;
  archive: string;
  port: number;
  /** Sends requests through this proxy, trusting its CA. */
  agent: ProxyAgent;
  /** Resolves with the exit code, or the signal's name when killed by one. */
  exited: Promise<number | string | null>;
  stderr(): string;
  /** The JSON log lines so far. */
  logs(): Array<Record<string, unknown> & { msg?: string }>;
  /** SIGKILL if still running; closes the agent. */
  dispose(): Promise<void>;
}

/** Starts `llmtap start` on a free port; provider hosts go to the fake provider. Resolves at the banner. */
export async function startCli(fake: FakeProvider, options: { home?: string; args?: string[] } = {}): Promise<Cli> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'llmtap-cli-fault-'));
  const child = spawn('node', [CLI, 'start', '--home', home, '--port', '0', '--upstream-ca', fake.caFile,
    '--connect-to', `api.openai.com:443:127.0.0.1:${fake.port}`, ...(options.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | string | null>((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  let stdout = '';
  const port = await new Promise<number>((resolvePort, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /llmtap listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) resolvePort(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`llmtap exited ${code}: ${stderr}`)));
  });
  const ca = readFileSync(join(home, 'certs', 'llmtap-ca.pem'), 'utf8');
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${port}`, requestTls: { ca } });
  return {
    child, home, port, agent, exited,
    archive: join(home, 'llmtap.db'),
    stderr: () => stderr,
    logs: () => stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown> & { msg?: string }),
    async dispose() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await agent.destroy();
    },
  };
}

/** `llmtap export --format jsonl` for a home, parsed. */
export async function exportJsonl(home: string): Promise<Array<Record<string, any>>> {
  const { stdout } = await execFileP('node', [CLI, 'export', '--home', home, '--format', 'jsonl'], { maxBuffer: 64 << 20 });
  return stdout.trim() === '' ? [] : stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
}

/** Opens one OpenAI SSE stream; resolves once the response headers are in, with a promise of the whole body. */
export async function openStream(cli: Cli, i: number): Promise<{ status: number; body: Promise<string> }> {
  const res = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: cli.agent,
    headers: { 'content-type': 'application/json', 'x-stream': String(i) },
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: `stream ${i}` }] }),
  });
  return { status: res.statusCode, body: res.body.text() };
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** 'connected', or the error code of a refused attempt (ECONNREFUSED). */
export function connectOutcome(port: number): Promise<string> {
  return new Promise((resolveOutcome) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolveOutcome('connected'); });
    socket.once('error', (err: NodeJS.ErrnoException) => resolveOutcome(err.code ?? err.message));
  });
}
