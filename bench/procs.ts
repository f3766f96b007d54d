import { fork, spawn, type ChildProcess, type ForkOptions, type SpawnOptions, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Every child the bench starts is registered here and killed when the bench ends,
 * whichever way it ends (normal exit, exception, Ctrl-C).
 */
const children = new Set<ChildProcess>();

export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * Spawns a program that has no IPC channel to notice the bench going away (llmtap's CLI,
 * mitmdump): through `setpriv --pdeathsig KILL` where available, so even a SIGKILLed
 * orchestrator leaves nothing running (setpriv execs the program: same pid).
 */
export function spawnTracked(cmd: string, args: string[], options: SpawnOptions): ChildProcess {
  return track(SETPRIV ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', cmd, ...args], options) : spawn(cmd, args, options));
}

/** Forks a script with an IPC channel. `.ts` children inherit tsx; `.mjs` ones run on bare node. */
export function forkTracked(script: string, args: string[], options: ForkOptions = {}): ChildProcess {
  const execArgv = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return track(fork(script, args, { execArgv, ...options }));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export function stop(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function killAllSync(): void {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c, 3000)));
}

let installed = false;
/** Kill children on any exit path of the orchestrator. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping children\n`);
      killAllSync();
      process.exit(130);
    });
  }
}

/** Waits for the first IPC message matching `pred`, or fails on exit / timeout. */
export function nextMessage<T>(child: ChildProcess, pred: (m: any) => boolean, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what}: no answer in ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: unknown): void => {
      if (pred(m)) done(undefined, m as T);
    };
    const onExit = (code: number | null, sig: string | null): void => done(new Error(`${what}: child exited (${code ?? sig})`));
    const done = (err?: Error, value?: T): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value as T);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** A free loopback port (for programs that cannot report the one they were given by port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resident set size now and its high-water mark, in bytes, from /proc. */
export function memOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux: write 5 to clear_refs), so a phase's own peak can be read. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Sets the CPU affinity of a process and all its threads (`taskset -a -p -c`); false
 * when taskset is missing or refuses. `cpus` like "0" or "0-1".
 */
export function pinProcess(pid: number, cpus: string): boolean {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  return r.status === 0;
}

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

/** CPU time (user + system) used by a process so far, in ms. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return NaN;
  }
}

/** Waits until something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const { connect } = await import('node:net');
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

const stat = (pid: number | 'self'): number[] | undefined => {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number);
  } catch {
    return undefined;
  }
};

/**
 * CPU used by the bench itself so far (ms): this process, its reaped children
 * (cutime/cstime) and the live tracked children.
 */
function benchCpuMs(): number {
  const self = stat('self');
  let ticks = self ? self[11]! + self[12]! + self[13]! + self[14]! : 0;
  for (const child of children) {
    const s = child.pid ? stat(child.pid) : undefined;
    if (s) ticks += s[11]! + s[12]!;
  }
  return ticks * TICK_MS;
}

/** Busy CPU time of the whole machine so far (ms), from /proc/stat. */
function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) * TICK_MS;
}

/**
 * CPU that other processes on the machine used while a phase ran, in % of one core:
 * other work on a shared 2-core machine distorts every figure, so the report says how much there was.
 */
export function startNoiseMeter(): () => number {
  const t0 = Date.now();
  const m0 = machineBusyMs();
  const b0 = benchCpuMs();
  return () => {
    const wall = Date.now() - t0;
    if (wall <= 0) return 0;
    return Math.max(0, ((machineBusyMs() - m0 - (benchCpuMs() - b0)) / wall) * 100);
  };
}
