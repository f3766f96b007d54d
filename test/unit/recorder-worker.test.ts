import { decodeStoredBodies } from '../../src/archive/stored-bodies.js';
import type { ExchangeRow } from '../../src/recorder/db.js';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeExchange, type Exchange } from '../../src/exchange.js';
import { silentLogger } from '../../src/log.js';
import { openArchive, type ArchiveOptions } from '../../src/recorder/db.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Recorder, type BatchEvent } from '../../src/recorder/recorder.js';
import { eventually } from '../helpers/archive.js';
import { typicalExchange as typical } from '../helpers/exchanges.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A typical exchange with an id that sorts by `i`, so tests can name what was stored. */
function typicalExchange(i: number, extra = ''): Exchange {
  return { ...typical(i, extra), id: `ex-${String(i).padStart(5, '0')}` };
}

/** What another connection sees, as the archive helpers read it. */
function ids(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT id FROM exchanges ORDER BY id').all() as { id: string }[]).map((r) => r.id);
  } finally {
    db.close();
  }
}

/** Nice value of each thread of this process (Linux), by task id. */
function threadNiceValues(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      nice.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])); // field 19
    } catch {
      // the thread ended while we listed them
    }
  }
  return nice;
}

describe('recorder with a writer thread', () => {
  let dir: string;
  let file: string;
  const recorders: Recorder[] = [];
  const open = (extra: { options?: ArchiveOptions } = {}) => {
    const recorder = new Recorder({ file, ...extra }, { logger: silentLogger() });
    recorders.push(recorder);
    return recorder;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmtap-worker-'));
    file = join(dir, 'archive.db');
  });
  afterEach(() => {
    for (const r of recorders.splice(0)) r.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records off the calling thread; flush() is synchronous and leaves every row visible to another connection', async () => {
    const recorder = open();
    for (let i = 0; i < 300; i++) recorder.recordExchange(typicalExchange(i));
    recorder.recordTunnel({ id: 't', clientAddress: '::1', host: 'h', port: 443, start: 1, end: 2, bytesUp: 3, bytesDown: 4, outcome: 'closed' });
    expect(recorder.stats()).toEqual({ recorded: 0, lost: 0, pending: 301 });
    await new Promise((r) => setImmediate(r)); // the first batches are posted: still pending until the thread reports
    expect(recorder.stats().pending).toBe(301);
    recorder.flush();
    expect(recorder.stats()).toEqual({ recorded: 301, lost: 0, pending: 0 });
    expect(recorder.healthy).toBe(true);
    expect(ids(file)).toHaveLength(300);

    // The automatic path gets there too, and reports back by itself.
    for (let i = 300; i < 400; i++) recorder.recordExchange(typicalExchange(i));
    await eventually(() => expect(recorder.stats()).toEqual({ recorded: 401, lost: 0, pending: 0 }));
    expect(ids(file)).toHaveLength(400);
  });

  it('hands records trickling in over a few milliseconds to the thread in one message; a full batch goes at once', async () => {
    const batches: BatchEvent[] = [];
    const onBatch = (message: unknown) => void batches.push(message as BatchEvent);
    subscribe('llmtap:recorder:batch', onBatch);
    try {
      const recorder = new Recorder({ file }, { logger: silentLogger(), maxBatch: 16 });
      recorders.push(recorder);
      for (let i = 0; i < 5; i++) {
        recorder.recordExchange(typicalExchange(i));
        await new Promise((r) => setImmediate(r));
      }
      expect(batches).toEqual([]); // still gathering
      await eventually(() => expect(batches.map((b) => b.records)).toEqual([5]));
      expect(batches[0]!.bytes).toBeGreaterThan(5 * 300);
      expect(batches[0]!.ms).toBeGreaterThanOrEqual(0);
      expect(batches[0]!.encodeMs).toBeGreaterThan(0);
      expect(batches[0]!.encodeMaxMs).toBeLessThanOrEqual(batches[0]!.encodeMs);

      for (let i = 5; i < 21; i++) recorder.recordExchange(typicalExchange(i));
      await new Promise((r) => setImmediate(r));
      expect(batches.map((b) => b.records)).toEqual([5, 16]); // full: no waiting
      await eventually(() => expect(recorder.stats()).toEqual({ recorded: 21, lost: 0, pending: 0 }));
    } finally {
      unsubscribe('llmtap:recorder:batch', onBatch);
    }
  });

  it('stores what the calling thread would have: bodies decoded and redacted, extra patterns included', () => {
    const recorder = open();
    recorder.setRedactions([/internal-[0-9]+/g]);
    const body = 'key sk-proj-abcdefghijklmnopqrstuvwxyz0123 and internal-4242 and héllo';
    // A view into a larger buffer: only its bytes must arrive.
    const big = Buffer.from(`XXXX${body}YYYY`);
    recorder.recordExchange(makeExchange({ id: 'r', request: { method: 'POST', path: '/p?key=AIzaSecret', headers: ['x-api-key', 'secret'], body: { bytes: big.subarray(4, 4 + Buffer.byteLength(body)), size: body.length, truncated: false } } }));
    recorder.flush();
    const db = new Database(file, { readonly: true });
    const row = decodeStoredBodies(db.prepare('SELECT * FROM exchanges').get() as ExchangeRow, db) as ExchangeRow & { request_body: Buffer };
    db.close();
    expect(row.request_body.toString('utf8')).toBe('key [REDACTED] and [REDACTED] and héllo');
    expect(row.path).toBe('/p?key=[REDACTED]');
    expect(row.request_headers).toBe('[["x-api-key","[REDACTED]"]]');
  });

  it('never blocks the event loop while the writer waits for a locked archive', async () => {
    // A write waiting on the lock would hold the loop for the whole busy timeout (500 ms, as
    // the inline recorder below shows); the bound sits well under that, well over what a
    // busy machine's scheduler alone makes a timer wait.
    const recorder = open({ options: { busyTimeoutMs: 500 } });
    expect(recorder.open()).toBe(true);
    const locker = new Database(file);
    locker.exec('BEGIN EXCLUSIVE'); // every write now waits the full 500 ms busy timeout, then fails

    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    let maxGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    let sent = 0;
    try {
      const until = performance.now() + 1000;
      while (performance.now() < until) {
        recorder.recordExchange(typicalExchange(sent++));
        await sleep(10);
      }
      await eventually(() => expect(recorder.stats()).toMatchObject({ lost: sent, pending: 0 }), 5000);
    } finally {
      clearInterval(ticker);
      delay.disable();
    }
    const maxDelayMs = delay.max / 1e6;
    console.log(`writer thread, archive locked for 1 s: ${sent} exchanges, event-loop delay max ${maxDelayMs.toFixed(1)} ms, timer gap max ${maxGap.toFixed(1)} ms`);
    expect(recorder.healthy).toBe(false);
    expect(recorder.stats().recorded).toBe(0);
    expect(maxDelayMs).toBeLessThan(250);
    expect(maxGap).toBeLessThan(250);

    // The same lock stalls a recorder that writes on the calling thread for the whole busy timeout.
    const inline = new Recorder(openArchive(file, { busyTimeoutMs: 500 }), { logger: silentLogger() });
    inline.recordExchange(typicalExchange(0));
    const t0 = performance.now();
    inline.flush();
    expect(performance.now() - t0).toBeGreaterThan(450);
    inline.close();

    locker.exec('ROLLBACK');
    locker.close();
    recorder.recordExchange(typicalExchange(99_999));
    recorder.flush();
    expect(recorder.healthy).toBe(true);
    expect(recorder.stats()).toEqual({ recorded: 1, lost: sent, pending: 0 });
    expect(ids(file)).toEqual(['ex-99999']);
  });

  it('logs failures through the main logger (message and code only), and recovery', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const recorder = new Recorder({ file, options: { busyTimeoutMs: 20 } }, { logger });
    recorders.push(recorder);
    recorder.open();
    const locker = new Database(file);
    locker.exec('BEGIN EXCLUSIVE');
    recorder.recordExchange(typicalExchange(1, 'SECRETPROMPTTEXT'));
    recorder.flush();
    locker.exec('ROLLBACK');
    locker.close();
    recorder.recordExchange(typicalExchange(2));
    recorder.flush();
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.find((l) => l.msg === 'archive write failed; records lost')).toMatchObject({ level: 50, code: 'SQLITE_BUSY', err: 'database is locked', rows: 1, lost: 1 });
    expect(parsed.find((l) => l.msg === 'archive writes recovered')).toMatchObject({ level: 30, lost: 1 });
    expect(lines.join('\n')).not.toContain('SECRETPROMPTTEXT');
  });

  it('a crashed writer thread: its records count as lost, unhealthy, and a new thread takes the next batch', async () => {
    const recorder = open({ options: { busyTimeoutMs: 500 } });
    recorder.recordExchange(typicalExchange(1));
    recorder.flush();
    const first = recorder.writerThread!;
    expect(first).toBeDefined();

    // Keep the thread inside its write (waiting for a lock) so it dies with the record in hand.
    const locker = new Database(file);
    locker.exec('BEGIN EXCLUSIVE');
    recorder.recordExchange(typicalExchange(2));
    await new Promise((r) => setImmediate(r)); // posted: in flight
    expect(recorder.stats().pending).toBe(1);
    await sleep(50);
    const terminated = first.terminate();
    locker.exec('ROLLBACK');
    locker.close();
    await terminated;
    await eventually(() => expect(recorder.stats()).toEqual({ recorded: 1, lost: 1, pending: 0 }));
    expect(recorder.healthy).toBe(false);
    expect(recorder.writerThread).toBeUndefined();

    recorder.recordExchange(typicalExchange(3));
    recorder.flush();
    expect(recorder.writerThread).toBeDefined();
    expect(recorder.writerThread).not.toBe(first);
    expect(recorder.healthy).toBe(true);
    expect(recorder.stats()).toEqual({ recorded: 2, lost: 1, pending: 0 });
    expect(ids(file)).toEqual(['ex-00001', 'ex-00003']);
  });

  it.runIf(process.platform === 'linux')('runs the writer thread 10 nice levels below the event loop; the event loop keeps its priority', () => {
    const main = threadNiceValues().get(process.pid)!;
    const before = new Set(threadNiceValues().keys());
    const recorder = open();
    expect(recorder.open()).toBe(true); // blocks until the thread has answered
    const started = [...threadNiceValues()].filter(([tid]) => !before.has(tid));
    expect(started.map(([, nice]) => nice)).toContain(Math.min(19, main + 10));
    expect(threadNiceValues().get(process.pid)).toBe(main);
  });

  it('loses only a record that cannot be encoded, not its batch-mates; a stray function is just left out', () => {
    const recorder = open();
    const odd = typicalExchange(2);
    (odd.usage as { inputTokens: unknown }).inputTokens = 100n; // a bug elsewhere puts a BigInt in it
    const hooked = typicalExchange(4);
    (hooked as unknown as { hook: () => void }).hook = () => {};
    recorder.recordExchange(typicalExchange(1));
    recorder.recordExchange(odd);
    recorder.recordExchange(typicalExchange(3));
    recorder.recordExchange(hooked);
    recorder.flush();
    expect(recorder.stats()).toEqual({ recorded: 3, lost: 1, pending: 0 });
    expect(ids(file)).toEqual(['ex-00001', 'ex-00003', 'ex-00004']);
  });

  it('close() flushes, checkpoints the WAL away and stops the thread; later records count as lost', async () => {
    const recorder = open();
    for (let i = 0; i < 50; i++) recorder.recordExchange(typicalExchange(i));
    await eventually(() => expect(recorder.writerThread).toBeDefined()); // started by the first hand-off
    const thread = recorder.writerThread!;
    const exited = new Promise((r) => thread.once('exit', r));
    recorder.close();
    expect(recorder.stats()).toEqual({ recorded: 50, lost: 0, pending: 0 });
    expect(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0).toBe(0);
    expect(ids(file)).toHaveLength(50);
    await exited;
    recorder.recordExchange(typicalExchange(50));
    recorder.flush();
    expect(recorder.stats()).toEqual({ recorded: 50, lost: 1, pending: 0 });
  });

  it('does not start a thread (or create the file) for a recorder that never recorded', () => {
    const recorder = open();
    recorder.close();
    expect(existsSync(file)).toBe(false);
  });

  it('an archive that cannot be opened is known at open(), and each batch retries', () => {
    const options: ArchiveOptions = { readonly: true };
    openArchive(file).close();
    const recorder = open({ options });
    expect(recorder.open()).toBe(false);
    expect(recorder.healthy).toBe(false);
    recorder.recordExchange(typicalExchange(1));
    recorder.flush();
    expect(recorder.stats()).toEqual({ recorded: 0, lost: 1, pending: 0 });
    options.readonly = false; // read again for the next batch
    recorder.recordExchange(typicalExchange(2));
    recorder.flush();
    expect(recorder.healthy).toBe(true);
    expect(recorder.stats()).toEqual({ recorded: 1, lost: 1, pending: 0 });
  });
});
