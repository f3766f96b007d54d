/**
 * Entry point of the recorder's writer thread: owns the better-sqlite3 connection and
 * does everything that touches SQLite (mapping, redaction, inserts, WAL checkpoints,
 * reopening), so none of it runs on the proxy's event loop. Started by recorder.ts;
 * loaded from dist/ (see writerWorkerUrl there).
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { ArchiveOptions } from './db.js';
import type { FromWriter, ToWriter, WriterInit } from './protocol.js';
import { splitFrames } from './record-codec.js';
import { compileOverrides } from './overrides-transfer.js';

/** Batches already waiting are merged into one transaction, up to this many records. */
const MERGE_LIMIT = 1024;
/**
 * Added to this thread's nice value. Each hand-off wakes this thread, and at equal
 * priority the kernel often ran it at once on the event loop's core, stopping the
 * proxy mid-hand-off for as long as the write took: 30–40 of ~750 hand-offs under
 * load took over 1 ms, while the same amount of other work on the loop never did.
 * At +10 it mostly waits for a free core instead (6–15 over 1 ms), and under CPU contention
 * relaying traffic comes before archiving it. The queue absorbs bursts while it waits.
 */
const NICE_INCREMENT = 10;

const { file, port, signal } = workerData as WriterInit;
lowerPriority();
const wake = new Int32Array(signal);
/** Read on every (re)open; each batch brings the current ones (tests flip `readonly`). */
let options: ArchiveOptions = {};

/** Linux gives each thread its own nice value, set through its task id; elsewhere this does nothing. */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return;
    setPriority(tid, Math.min(19, getPriority(tid) + NICE_INCREMENT));
  } catch {
    // No /proc (not Linux) or not allowed: run at the process's priority.
  }
}

function send(message: FromWriter): void {
  port.postMessage(message);
  // The message is in the main thread's queue before the counter moves, so a main
  // thread that wakes up finds it with receiveMessageOnPort.
  Atomics.add(wake, 0, 1);
  Atomics.notify(wake, 0);
}

// Imported here rather than statically so that a failure to load them (better-sqlite3's
// native module, say) is reported to the main thread at once instead of leaving it
// waiting for an answer until its timeout.
let loaded: [typeof import('./db.js'), typeof import('./writer.js')];
try {
  loaded = await Promise.all([import('./db.js'), import('./writer.js')]);
} catch (err) {
  send({ t: 'fatal', error: { message: err instanceof Error ? err.message : String(err) } });
  process.exit(1);
}
const [{ openArchive }, { ArchiveWriter, errorInfo }] = loaded;

const writer = new ArchiveWriter(
  () => {
    const archive = openArchive(file, options);
    // Commits run here, so do the automatic checkpoints they trigger (every ~4 MB of
    // WAL): stated explicitly because keeping them off the event loop is the point.
    archive.db.pragma('wal_autocheckpoint = 1000');
    return archive;
  },
  (level, fields, msg) => send({ t: 'log', level, fields, msg }),
);

const backlog: ToWriter[] = [];
let closed = false;

function next(): ToWriter | undefined {
  if (backlog.length > 0) return backlog.shift();
  if (closed) return undefined;
  return receiveMessageOnPort(port)?.message as ToWriter | undefined;
}

function writeBatches(first: Extract<ToWriter, { t: 'batch' }>): void {
  const records = splitFrames(first.records);
  let upTo = first.id;
  let batches = 1;
  let report = first.report;
  options = first.options;
  // More batches queued behind this one: one commit for all of them.
  while (records.length < MERGE_LIMIT) {
    const more = next();
    if (!more) break;
    if (more.t !== 'batch') {
      backlog.unshift(more);
      break;
    }
    for (const frame of splitFrames(more.records)) records.push(frame);
    upTo = more.id;
    batches++;
    report ||= more.report;
    options = more.options;
  }
  const outcome = writer.write(records, report);
  send({ t: 'written', upTo, batches, outcome, state: writer.state });
}

function handle(message: ToWriter): void {
  switch (message.t) {
    case 'batch':
      writeBatches(message);
      break;
    case 'open': {
      options = message.options;
      const error = writer.open();
      send(error ? { t: 'answer', id: message.id, error, state: writer.state } : { t: 'answer', id: message.id, state: writer.state });
      break;
    }
    case 'prices':
      writer.setPrices(compileOverrides(message.overrides));
      break;
    case 'purge': {
      const result = writer.purge(message.before);
      if ('message' in result) send({ t: 'log', level: 'warn', fields: { err: result.message }, msg: 'retention purge failed' });
      else send({ t: 'log', level: 'info', fields: { before: new Date(message.before).toISOString(), ...result }, msg: 'retention purge' });
      break;
    }
    case 'redact':
      writer.setRedactions(message.patterns.map((p) => new RegExp(p.source, p.flags)));
      break;
    case 'flush':
      send({ t: 'answer', id: message.id, state: writer.state });
      break;
    case 'pragma':
      try {
        send({ t: 'answer', id: message.id, value: writer.pragma(message.source), state: writer.state });
      } catch (err) {
        send({ t: 'answer', id: message.id, error: errorInfo(err), state: writer.state });
      }
      break;
    case 'close':
      writer.close();
      send({ t: 'answer', id: message.id, state: writer.state });
      closed = true;
      port.close(); // nothing keeps the thread alive now: it exits
      break;
  }
}

port.on('message', (message: ToWriter) => {
  try {
    handle(message);
    for (let m = next(); m; m = next()) handle(m);
  } catch (err) {
    // A bug here, not a SQLite failure (those are outcomes). Say so and exit; the
    // main thread counts what was in flight as lost and starts a fresh thread.
    send({ t: 'fatal', error: errorInfo(err) });
    process.exit(1);
  }
});
