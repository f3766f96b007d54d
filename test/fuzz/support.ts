/**
 * Shared pieces of the fuzz suite: run counts from the environment, fast-check
 * parameters, crash listeners, real ClientHellos and a bounded raw-socket probe.
 *
 *   FUZZ_RUNS=N        cases per property (pure and live), default per property
 *   FUZZ_LIVE_RUNS=N   cases per live property only (wins over FUZZ_RUNS there)
 *   FUZZ_SEED=N        replay a seed fast-check printed
 *   FUZZ_SHRINK=1      shrink failing live cases (slow: every step may wait a deadline)
 *   FUZZ_STATS=1       print how live cases ended (status codes etc.), to check depth
 *   FUZZ_DEBUG=" 400"  print the plain-HTTP cases whose status line contains this text
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import fc from 'fast-check';

function envInt(name: string, min = 1): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${raw}: expected ${min === 1 ? 'a positive integer' : 'an integer'}`);
  return n;
}

/** Cases for a pure property. */
export function pureRuns(defaultRuns: number): number {
  return envInt('FUZZ_RUNS') ?? defaultRuns;
}

/** Cases for a property that opens sockets against a live proxy. */
export function liveRuns(defaultRuns: number): number {
  return envInt('FUZZ_LIVE_RUNS') ?? envInt('FUZZ_RUNS') ?? defaultRuns;
}

/** A vitest timeout that grows with the run count (setTimeout's ceiling is ~24.8 days). */
export function timeoutFor(runs: number, msPerCase: number, floorMs = 30_000): number {
  return Math.min(2 **31 - 1, Math.max(floorMs, Math.ceil(runs * msPerCase) + floorMs));
}

/** fast-check parameters; live properties stop at the first failure unless FUZZ_SHRINK=1. */
export function params(numRuns: number, live = false): fc.Parameters<unknown> {
  // fast-check prints negative seeds as often as positive ones.
  const seed = envInt('FUZZ_SEED', Number.MIN_SAFE_INTEGER);
  return {
    numRuns,
    ...(seed === undefined ? {} : { seed }),
    ...(live && process.env.FUZZ_SHRINK !== '1' ? { endOnFailure: true } : {}),
  };
}

/**
 * Collects uncaught exceptions and unhandled rejections while installed. Vitest
 * reports them too, but only after the run: this lets a property fail on them.
 */
export function watchCrashes(): { readonly errors: unknown[]; dispose(): void } {
  const errors: unknown[] = [];
  const onError = (err: unknown): void => void errors.push(err);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    dispose() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

/** The sockets the proxy keeps track of (a private Set of client sockets). */
export function proxySockets(server: unknown): Set<unknown> {
  return (server as { sockets: Set<unknown> }).sockets;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true, or until the deadline; returns the last answer. */
export async function until(check: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

/** Counts of process.getActiveResourcesInfo() by kind (TCPSocketWrap, Timeout, …). */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

export function socketResources(): number {
  const r = activeResources();
  return (r.TCPSocketWrap ?? 0) + (r.TLSWrap ?? 0);
}

// ---------------------------------------------------------------------------
// Real ClientHellos, as Node's TLS client sends them.

export interface CapturedHello {
  bytes: Buffer;
  servername: string | undefined;
  alpn: string[];
}

const HELLO_VARIANTS: Array<{ servername?: string; ALPNProtocols?: string[]; extra?: ConnectionOptions }> = [
  { servername: 'api.openai.com', ALPNProtocols: ['http/1.1'] },
  { servername: 'api.anthropic.com', ALPNProtocols: ['h2', 'http/1.1'] },
  { servername: 'api.openai.com' },
  { ALPNProtocols: ['http/1.1'] },
  { servername: 'generativelanguage.googleapis.com', ALPNProtocols: ['http/1.1'], extra: { maxVersion: 'TLSv1.2' } },
  { servername: 'x.openai.azure.com', ALPNProtocols: ['http/1.1'], extra: { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' } },
  { servername: `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.example`, ALPNProtocols: ['http/1.1', 'spdy/3', 'x'.repeat(200)] },
];

/** Opens TLS connections to a loopback server that records and drops each first flight. */
export async function captureClientHellos(): Promise<CapturedHello[]> {
  const out: CapturedHello[] = [];
  for (const variant of HELLO_VARIANTS) {
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const server = createServer((s) => {
        let buf = Buffer.alloc(0);
        s.on('data', (c: Buffer) => {
          buf = Buffer.concat([buf, c]);
          if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
            resolve(buf.subarray(0, 5 + buf.readUInt16BE(3)));
            s.destroy();
            server.close();
          }
        });
        s.on('error', () => {});
      });
      server.listen(0, '127.0.0.1', () => {
        const port = (server.address() as AddressInfo).port;
        const c = tlsConnect({ host: '127.0.0.1', port, servername: variant.servername, ALPNProtocols: variant.ALPNProtocols, rejectUnauthorized: false, ...variant.extra });
        c.on('error', () => {});
        c.on('close', () => c.destroy());
      });
      server.on('error', reject);
    });
    out.push({ bytes, servername: variant.servername, alpn: variant.ALPNProtocols ?? [] });
  }
  return out;
}

/** Re-wraps one handshake message into several TLS records split at the given payload offsets. */
export function refragment(hello: Buffer, cuts: number[]): Buffer {
  const payload = hello.subarray(5);
  const version = hello.subarray(1, 3);
  const points = [...new Set(cuts.map((c) => c % payload.length).filter((c) => c > 0))].sort((a, b) => a - b);
  const bounds = [0, ...points, payload.length];
  const records: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = payload.subarray(bounds[i], bounds[i + 1]);
    const header = Buffer.alloc(5);
    header[0] = 22;
    version.copy(header, 1);
    header.writeUInt16BE(piece.length, 3);
    records.push(header, piece);
  }
  return Buffer.concat(records);
}

/** Byte-level mutations: flips, overwrites, inserts, deletes, truncation. */
export const mutationArb = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  ),
  { minLength: 1, maxLength: 6 },
);
export type Mutation = typeof mutationArb extends fc.Arbitrary<Array<infer M>> ? M : never;

export function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let buf = Buffer.from(input);
  for (const m of mutations) {
    if (buf.length === 0) break;
    const at = m.at % buf.length;
    switch (m.op) {
      case 'set': buf[at] = m.value; break;
      case 'flip': buf[at] = buf[at]! ^ (1 << m.bit); break;
      case 'insert': buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes), buf.subarray(at)]); break;
      case 'delete': buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.count)]); break;
      case 'truncate': buf = buf.subarray(0, at); break;
    }
  }
  return buf;
}

/** Splits bytes at the given offsets (modulo length), keeping order; empty pieces dropped. */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  if (bytes.length === 0) return [];
  const points = [...new Set(cuts.map((c) => c % bytes.length))].filter((c) => c > 0).sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    pieces.push(bytes.subarray(prev, p));
    prev = p;
  }
  pieces.push(bytes.subarray(prev));
  return pieces;
}

// ---------------------------------------------------------------------------
// A bounded raw-socket probe.

export interface ProbeResult {
  /** The proxy closed (or reset) the connection before the deadline. */
  closed: boolean;
  /** Everything the proxy sent back. */
  response: Buffer;
  ms: number;
}

export interface ProbeOptions {
  /** Half-close after the last piece (FIN): the proxy then owes a close. */
  end: boolean;
  /**
   * Wait this long (or until a response head and a little more arrived) before the FIN.
   * Node's HTTP server aborts a request whose client half-closes before the answer, so an
   * immediate FIN only ever exercises the abort path; a short linger lets requests through.
   */
  finAfterMs?: number;
  /** Pause between pieces. */
  gapMs?: number;
  /** Give up (destroy the socket) after this long. */
  deadlineMs: number;
  /** Resolve as soon as this many bytes arrived (for answers on kept-alive connections). */
  enoughBytes?: (response: Buffer) => boolean;
}

/** Sends pieces over `socket` (or a new connection to the port), waits for close or the deadline, then destroys. */
export function probe(target: number | Socket, pieces: Array<Buffer | string>, options: ProbeOptions): Promise<ProbeResult> {
  const started = Date.now();
  const socket = typeof target === 'number' ? connect({ port: target, host: '127.0.0.1', noDelay: true }) : target;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ closed, response: Buffer.concat(chunks), ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), options.deadlineMs);
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (options.enoughBytes?.(Buffer.concat(chunks))) finish(true);
    });
    const send = async (): Promise<void> => {
      for (const piece of pieces) {
        if (settled || socket.destroyed) return;
        socket.write(piece);
        if (options.gapMs) await sleep(options.gapMs);
      }
      if (options.finAfterMs) {
        const lingerUntil = Date.now() + options.finAfterMs;
        while (!settled && Date.now() < lingerUntil && Buffer.concat(chunks).indexOf('\r\n\r\n') < 0) await sleep(5);
        if (!settled) await sleep(10); // a little of the body, too
      }
      if (options.end && !settled && !socket.destroyed) socket.end();
    };
    if (typeof target === 'number') socket.once('connect', () => void send());
    else void send();
  });
}

/** The first line of a response, for messages. */
export function statusLine(response: Buffer): string {
  const i = response.indexOf('\r\n');
  return response.subarray(0, i < 0 ? Math.min(response.length, 80) : i).toString('latin1');
}

/** Outcome counts per property, printed with FUZZ_STATS=1 (to see the fuzzing reaches deep paths). */
export class Tally {
  private readonly counts = new Map<string, number>();
  constructor(private readonly name: string) {}
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  /** The status line's code, a TLS record type, or how the connection ended without an answer. */
  addResponse(r: ProbeResult): void {
    if (r.response.length === 0) this.add(r.closed ? 'closed, no bytes' : 'open, no bytes');
    else if (r.response[0] === 0x16 || r.response[0] === 0x15) this.add(`tls record ${r.response[0]}`);
    else this.add(statusLine(r.response).slice(0, 12));
  }
  print(): void {
    if (process.env.FUZZ_STATS !== '1') return;
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
    const rows = [...this.counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${String(n).padStart(7)}  ${(100 * n / total).toFixed(1).padStart(5)}%  ${k}`);
    console.log(`${this.name} (${total} cases)\n${rows.join('\n')}`);
  }
}

/**
 * The per-case hook of a long pure property: progress lines (see `progress`) and,
 * every 1,000 cases, a turn of the event loop, which the property awaits
 * (fc.asyncProperty). Why: a Node zlib *Sync call that throws (wrong coding, damaged
 * or cut-short input: most fuzz cases) destroys its stream, and the destroy's error
 * and close events go out by process.nextTick, holding the stream and its 16 KiB
 * output buffer until then. A synchronous fc.assert never lets a tick run, so every
 * case's streams stayed alive to the end: 80 KB a case, 17 GB RSS after some
 * 200,000 cases of the secrets property. The proxy decodes inside event callbacks,
 * so there the ticks run after each exchange (or each archive batch).
 */
export function caseHook(name: string, runs: number, turnEvery = 1000): () => Promise<void> | undefined {
  const tick = progress(name, runs);
  let done = 0;
  return () => {
    tick();
    return ++done % turnEvery === 0 ? new Promise((resolve) => setImmediate(resolve)) : undefined;
  };
}

/**
 * A per-case counter that prints a progress line to stderr every `every` cases:
 * cases done, elapsed time and the process's memory (rss, V8 heap, external and
 * array buffers), so a long run shows how far it got and whether memory grows.
 * On by default only for runs of 100,000 cases or more (every 50,000);
 * FUZZ_PROGRESS=N sets the interval for any run.
 */
export function progress(name: string, runs: number): () => void {
  const every = envInt('FUZZ_PROGRESS') ?? (runs >= 100_000 ? 50_000 : 0);
  if (every === 0) return () => {};
  const started = Date.now();
  let done = 0;
  const mib = (n: number): string => `${(n / 2 ** 20).toFixed(0)}M`;
  return () => {
    done++;
    if (done % every !== 0) return;
    // With --expose-gc, collect first: the figures then show what is retained, not garbage.
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    process.stderr.write(`[fuzz] ${name}: ${done}/${runs} cases, ${((Date.now() - started) / 1000).toFixed(0)} s, rss ${mib(m.rss)} heap ${mib(m.heapUsed)} external ${mib(m.external)} arrayBuffers ${mib(m.arrayBuffers)}\n`);
  };
}
