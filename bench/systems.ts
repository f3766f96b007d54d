import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TargetSpec } from './clients.js';
import { forkTracked, freePort, nextMessage, sleep, spawnTracked, stop, waitForPort } from './procs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILDREN = join(ROOT, 'bench', 'children');

/** The compiled llmtap under test: ./dist, or another build given with --dist (A/B comparisons). */
let DIST = join(ROOT, 'dist');
export function useDist(dir: string): void {
  DIST = dir;
}
/** Extra `llmtap start` flags for every CLI instance (--llmtap-arg; A/B of options such as --log-level). */
let EXTRA_ARGS: string[] = [];
export function useLlmtapArgs(args: string[]): void {
  EXTRA_ARGS = args;
}

/** What the bench knows about the fake provider (started once for the whole run). */
export interface FakeInfo {
  httpsPort: number;
  blastPort: number;
  caFile: string;
  caPem: string;
}

/** A proxy under test, running as its own process. */
export interface RunningSystem {
  pid: number;
  child: ChildProcess;
  proxyUrl: string;
  /** What a client must trust for intercepted TLS (the proxy's CA). */
  caPem: string;
  logFile: string;
  home?: string;
  stop(): Promise<void>;
}

/** The TLS name/port mapping every proxy gets: blast.test → raw byte blaster, everything else → fake provider. */
function connectToArgs(fake: FakeInfo): string[] {
  return [`blast.test:443:127.0.0.1:${fake.blastPort}`, `::127.0.0.1:${fake.httpsPort}`];
}

export function directTarget(fake: FakeInfo, host = 'api.openai.com'): TargetSpec {
  return { via: 'direct', ca: fake.caPem, fakePort: fake.httpsPort, host };
}

/** Through a proxy; `tunnelled` means the client does TLS with the fake itself (trusts the fake CA). */
export function proxyTarget(sys: RunningSystem, fake: FakeInfo, host = 'api.openai.com', tunnelled = false): TargetSpec {
  return { via: 'proxy', proxyUrl: sys.proxyUrl, ca: tunnelled ? fake.caPem : sys.caPem, fakePort: fake.httpsPort, host };
}

function logFd(dir: string, name: string): { fd: number; file: string } {
  const file = join(dir, `${name}.log`);
  return { fd: openSync(file, 'a'), file };
}

/**
 * `node dist/cli/main.js start` as a user runs it (default config: info logging to
 * stderr, here a file; recording on), plus what it needs to reach the fake provider.
 */
export async function startLlmtap(tmp: string, fake: FakeInfo, name: string, opts: { args?: string[]; nodeArgs?: string[]; home?: string; dist?: string } = {}): Promise<RunningSystem> {
  const home = opts.home ?? mkdtempSync(join(tmp, `${name}-home-`));
  const extraArgs = opts.args ?? [];
  const nodeArgs = opts.nodeArgs ?? [];
  const { fd, file } = logFd(tmp, name);
  const args = [
    ...nodeArgs, join(opts.dist ?? DIST, 'cli', 'main.js'), 'start',
    '--home', home, '--host', '127.0.0.1', '--port', '0',
    '--upstream-ca', fake.caFile,
    ...connectToArgs(fake).flatMap((c) => ['--connect-to', c]),
    '--drain-timeout', '2',
    ...extraArgs,
    ...EXTRA_ARGS,
  ];
  const child = spawnTracked(process.execPath, args, { stdio: ['ignore', 'pipe', fd], cwd: tmp });
  closeSync(fd);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name}: no "listening" line in 30 s (log: ${file})`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} (log: ${file})`));
    });
  });
  child.stdout!.resume();
  const caPem = readFileSync(join(home, 'certs', 'llmtap-ca.pem'), 'utf8');
  return { pid: child.pid!, child, proxyUrl: `http://127.0.0.1:${port}`, caPem, logFile: file, home, stop: () => stop(child, 10_000) };
}

/** llmtap in-process in a bench child that watches its event loop and recorder batches. */
export async function startLlmtapInproc(tmp: string, fake: FakeInfo, opts: { instrument?: boolean } = {}): Promise<RunningSystem> {
  const home = mkdtempSync(join(tmp, 'inproc-home-'));
  const { fd, file } = logFd(tmp, 'llmtap-inproc');
  const child = forkTracked(join(CHILDREN, 'llmtap-inproc.mjs'), [home, JSON.stringify({ upstreamCa: [fake.caFile], connectTo: connectToArgs(fake) }), DIST, opts.instrument === false ? 'plain' : 'timed'], { stdio: ['ignore', fd, fd, 'ipc'] });
  closeSync(fd);
  const ready = await nextMessage<{ port: number; caFile: string }>(child, (m) => m.ready, 30_000, 'llmtap in-process');
  return {
    pid: child.pid!, child, proxyUrl: `http://127.0.0.1:${ready.port}`, caPem: readFileSync(ready.caFile, 'utf8'), logFile: file, home,
    async stop() {
      child.send({ cmd: 'stop' });
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
      await stop(child);
    },
  };
}

/**
 * Debian's mitmdump 8.1.1: streaming on, lazy upstream connections, upstream
 * verification on with the fake CA trusted, and the connect-to addon.
 * blast.test is ignored (raw pass-through) for the tunnel-throughput figure.
 */
export async function startMitmdump(tmp: string, fake: FakeInfo): Promise<RunningSystem> {
  const confdir = mkdtempSync(join(tmp, 'mitmproxy-conf-'));
  const port = await freePort();
  const { fd, file } = logFd(tmp, 'mitmdump');
  const map = { [`blast.test:443`]: ['127.0.0.1', fake.blastPort], '*': ['127.0.0.1', fake.httpsPort] };
  const args = [
    '--listen-host', '127.0.0.1', '--listen-port', String(port),
    '--set', `confdir=${confdir}`,
    '--set', 'stream_large_bodies=1',
    '--set', 'connection_strategy=lazy',
    '--set', 'ssl_insecure=false',
    '--set', `ssl_verify_upstream_trusted_ca=${fake.caFile}`,
    '--ignore-hosts', '^blast\\.test$',
    '-s', join(CHILDREN, 'mitm-connect-to.py'),
  ];
  const child = spawnTracked('mitmdump', args, { stdio: ['ignore', fd, fd], cwd: tmp, env: { ...process.env, BENCH_CONNECT_TO: JSON.stringify(map) } });
  closeSync(fd);
  await waitForPort(port, 60_000, child);
  const caFile = join(confdir, 'mitmproxy-ca-cert.pem');
  for (let i = 0; i < 100 && !existsSync(caFile); i++) await sleep(100);
  return { pid: child.pid!, child, proxyUrl: `http://127.0.0.1:${port}`, caPem: readFileSync(caFile, 'utf8'), logFile: file, stop: () => stop(child, 5000) };
}

export async function startHttpMitmProxy(tmp: string, fake: FakeInfo): Promise<RunningSystem> {
  const caDir = mkdtempSync(join(tmp, 'hmp-ca-'));
  const { fd, file } = logFd(tmp, 'http-mitm-proxy');
  const child = forkTracked(join(CHILDREN, 'hmp-proxy.mjs'), [caDir, String(fake.httpsPort)], {
    stdio: ['ignore', fd, fd, 'ipc'],
    env: { ...process.env, NODE_EXTRA_CA_CERTS: fake.caFile },
    cwd: tmp,
  });
  closeSync(fd);
  const ready = await nextMessage<{ port: number }>(child, (m) => m.ready, 120_000, 'http-mitm-proxy');
  return { pid: child.pid!, child, proxyUrl: `http://127.0.0.1:${ready.port}`, caPem: readFileSync(join(caDir, 'certs', 'ca.pem'), 'utf8'), logFile: file, stop: () => stop(child, 5000) };
}

/** The plain Node socket pipe in front of the blaster (tunnel-throughput baseline). */
export async function startPipe(tmp: string, fake: FakeInfo): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const { fd } = logFd(tmp, 'pipe');
  const child = forkTracked(join(CHILDREN, 'pipe.mjs'), [String(fake.blastPort)], { stdio: ['ignore', fd, fd, 'ipc'] });
  closeSync(fd);
  const ready = await nextMessage<{ port: number }>(child, (m) => m.ready, 10_000, 'pipe');
  return { port: ready.port, pid: child.pid!, stop: () => stop(child) };
}
