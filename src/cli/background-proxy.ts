import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForProxy } from './probe.js';

export interface BackgroundStart {
  home: string;
  host: string;
  port: number;
  intercept: readonly string[];
  config?: string;
}

/**
 * Starts `llmtap start` detached, its output in a log file under the home, and
 * waits until it answers. It outlives the run that started it on purpose: the next
 * run finds it listening, and stopping it is one `kill` of the printed pid.
 */
export async function startInBackground(options: BackgroundStart): Promise<{ pid: number; log: string }> {
  mkdirSync(options.home, { recursive: true, mode: 0o700 });
  const log = join(options.home, `llmtap-${options.port}.log`);
  const fd = openSync(log, 'a', 0o600);
  const from = fstatSync(fd).size; // where this start's lines begin in a log earlier starts appended to
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const args = [main, 'start', '--home', options.home, '--host', options.host, '--port', String(options.port)];
  for (const pattern of options.intercept) args.push('--intercept', pattern);
  if (options.config) args.push('--config', options.config);
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, NODE_OPTIONS: '' } });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.unref();
  const up = await Promise.race([waitForProxy(options.host, options.port, 15_000), exited.then(() => false)]);
  if (!up || child.pid === undefined) {
    const why = child.exitCode !== null ? startError(log, from) : undefined;
    throw new Error(why ? `the background proxy did not start: ${why} (log: ${log})` : `the background proxy did not start; see ${log}`);
  }
  return { pid: child.pid, log };
}

/**
 * The one line `llmtap start` ended with when it refused to start (a config file that
 * does not load, a port taken): `llmtap: <problem>`, written by this start to the log.
 */
function startError(log: string, from: number): string | undefined {
  const lines = readFileSync(log).subarray(from).toString('utf8').split('\n');
  const last = lines.filter((l) => l.startsWith('llmtap: ')).pop();
  return last?.slice('llmtap: '.length);
}
