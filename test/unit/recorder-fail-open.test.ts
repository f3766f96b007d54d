import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { silentLogger } from '../../src/log.js';
import { openArchive, type Archive } from '../../src/recorder/db.js';
import { Recorder } from '../../src/recorder/recorder.js';

/** A logger that keeps its JSON lines, to check what failures put in the log. */
function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

function count(archive: Archive): number {
  return (archive.db.prepare('SELECT COUNT(*) AS n FROM exchanges').get() as { n: number }).n;
}

const secretPrompt = 'SECRETPROMPTTEXT';

describe('recorder fails open', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmtap-failopen-'));
    file = join(dir, 'archive.db');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts a failed batch as lost, flips healthy, and recovers on the next good write', () => {
    const archive = openArchive(file);
    const { logger, lines } = capturingLogger();
    const recorder = new Recorder(archive, { logger });
    // A real SQLite failure inside the real archive: every insert aborts.
    archive.db.exec("CREATE TRIGGER boom BEFORE INSERT ON exchanges BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");

    for (let i = 0; i < 3; i++) recorder.recordExchange(makeExchange({ request: { method: 'POST', path: '/', headers: [], body: { bytes: Buffer.from(secretPrompt), size: 16, truncated: false } } }));
    expect(() => recorder.flush()).not.toThrow();
    expect(recorder.stats()).toEqual({ recorded: 0, lost: 3, pending: 0 });
    expect(recorder.healthy).toBe(false);
    expect(count(archive)).toBe(0);
    const errorLine = lines.find((l) => l.includes('archive write failed'));
    expect(errorLine).toBeDefined();
    expect(JSON.parse(errorLine!)).toMatchObject({ err: 'disk on fire', rows: 3 });
    expect(lines.join('\n')).not.toContain(secretPrompt);

    archive.db.exec('DROP TRIGGER boom');
    recorder.recordExchange(makeExchange());
    recorder.flush();
    expect(recorder.healthy).toBe(true);
    expect(recorder.stats()).toEqual({ recorded: 1, lost: 3, pending: 0 });
    expect(count(archive)).toBe(1);
    recorder.close();
  });

  it('survives the database being closed under it, including on the automatic path', async () => {
    let current = openArchive(file);
    // Delegates to whichever archive is current, so the test can swap a dead one for a fresh one.
    const swappable: Archive = {
      get db() { return current.db; },
      insertExchanges: (rows) => current.insertExchanges(rows),
      insertTunnels: (rows) => current.insertTunnels(rows),
      insertWsMessages: (rows) => current.insertWsMessages(rows),
      checkpoint: () => current.checkpoint(),
      close: () => current.close(),
    };
    const recorder = new Recorder(swappable, { logger: silentLogger() });
    current.db.close();

    expect(() => {
      recorder.recordExchange(makeExchange());
      recorder.recordTunnel({ id: 't', clientAddress: '::1', host: 'h', port: 443, start: 1, end: 2, bytesUp: 0, bytesDown: 0, outcome: 'closed' });
    }).not.toThrow();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(recorder.stats()).toEqual({ recorded: 0, lost: 2, pending: 0 });
    expect(recorder.healthy).toBe(false);

    current = openArchive(file);
    recorder.recordExchange(makeExchange());
    await new Promise((r) => setImmediate(r));
    expect(recorder.healthy).toBe(true);
    expect(recorder.stats()).toEqual({ recorded: 1, lost: 2, pending: 0 });
    recorder.close();
    expect(current.db.open).toBe(false);
  });

  it('retries a lazy archive that cannot be opened yet', () => {
    let fail = true;
    const recorder = new Recorder(
      () => {
        if (fail) throw new Error('EACCES: cannot open');
        return openArchive(file);
      },
      { logger: silentLogger() },
    );
    recorder.recordExchange(makeExchange());
    expect(() => recorder.flush()).not.toThrow();
    expect(recorder.healthy).toBe(false);
    expect(recorder.stats().lost).toBe(1);

    fail = false;
    recorder.recordExchange(makeExchange());
    recorder.flush();
    expect(recorder.healthy).toBe(true);
    expect(recorder.stats()).toEqual({ recorded: 1, lost: 1, pending: 0 });
    recorder.close();
  });

  it('does not open a lazy archive that was never needed', () => {
    let opened = 0;
    const recorder = new Recorder(() => { opened++; return openArchive(file); }, { logger: silentLogger() });
    recorder.close();
    expect(opened).toBe(0);
  });

  it('counts records after close as lost instead of throwing', () => {
    const recorder = new Recorder(openArchive(file), { logger: silentLogger() });
    recorder.recordExchange(makeExchange());
    recorder.close();
    expect(() => {
      recorder.recordExchange(makeExchange());
      recorder.recordTunnel({ id: 't', clientAddress: '::1', host: 'h', port: 1, start: 1, end: 2, bytesUp: 0, bytesDown: 0, outcome: 'closed' });
      recorder.flush();
      recorder.close();
    }).not.toThrow();
    expect(recorder.stats()).toEqual({ recorded: 1, lost: 2, pending: 0 });
  });

  it('drops the oldest records beyond maxQueue and counts them as lost', () => {
    const archive = openArchive(file);
    const recorder = new Recorder(archive, { logger: silentLogger(), maxQueue: 5 });
    const ids = Array.from({ length: 8 }, (_, i) => `ex-${i}`);
    for (const id of ids) recorder.recordExchange(makeExchange({ id }));
    expect(recorder.stats()).toEqual({ recorded: 0, lost: 3, pending: 5 });
    recorder.flush();
    const stored = (archive.db.prepare('SELECT id FROM exchanges ORDER BY id').all() as { id: string }[]).map((r) => r.id);
    expect(stored).toEqual(ids.slice(3));
    recorder.close();
  });

  it('loses only a record that cannot be mapped, not its batch-mates', () => {
    const archive = openArchive(file);
    const recorder = new Recorder(archive, { logger: silentLogger() });
    const broken = makeExchange();
    (broken as { request: unknown }).request = undefined; // a bug elsewhere hands us garbage
    recorder.recordExchange(makeExchange());
    recorder.recordExchange(broken);
    recorder.recordExchange(makeExchange());
    expect(() => recorder.flush()).not.toThrow();
    expect(recorder.stats()).toEqual({ recorded: 2, lost: 1, pending: 0 });
    expect(recorder.healthy).toBe(true);
    recorder.close();
  });
});
