/**
 * Fault list #17: SQLITE_BUSY and a full disk under a running proxy. Fail-open keeps
 * proxying and counts the loss; --fail-closed answers 503 archive_unavailable while
 * writes fail and forwards again once they work; no planted secret reaches any log
 * line or error body.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/archive.js';
import { expect503, expectNoSecret, expectProviderAnswer, logged, post, recordedIds, untilForwarded, useFaultProxies } from './recorder-helpers.js';

const { start, fake } = useFaultProxies();

describe('SQLITE_BUSY: another connection holds the write lock past the busy timeout', () => {
  it('fail-open: traffic flows, the loss is counted and logged, recording resumes after the lock goes', async () => {
    const { tp, logs, file } = await start({ archive: { busyTimeoutMs: 50 } });
    expectProviderAnswer(await post(tp, 'before'));
    await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 1, lost: 0 }));

    const locker = new Database(file);
    locker.exec('BEGIN EXCLUSIVE');
    try {
      expectProviderAnswer(await post(tp, 'locked-1'));
      expectProviderAnswer(await post(tp, 'locked-2'));
      await eventually(() => expect(tp.proxy.recorder.stats().lost).toBe(2));
      expect(tp.proxy.recorder.healthy).toBe(false);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    expect(logged(logs, /archive write failed/)[0]).toMatchObject({ level: 50, code: 'SQLITE_BUSY', err: 'database is locked' });

    expectProviderAnswer(await post(tp, 'after'));
    await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 2, lost: 2, pending: 0 }));
    expect(tp.proxy.recorder.healthy).toBe(true);
    expect(recordedIds(tp)).toEqual(['before', 'after']);
    expect(logged(logs, /recovered/)).toHaveLength(1);
    expectNoSecret(logs.join('\n'));
  });

  it('fail-closed: 503 archive_unavailable while locked, forwarding again once the lock is released', async () => {
    const { tp, logs, file } = await start({ failClosed: true, archive: { busyTimeoutMs: 50 } });
    const locker = new Database(file);
    locker.exec('BEGIN EXCLUSIVE');
    try {
      // The write that fails is what reveals the problem: this exchange was already forwarded.
      expectProviderAnswer(await post(tp, 'first'));
      await eventually(() => expect(tp.proxy.recorder.healthy).toBe(false));
      expect503(await post(tp, 'refused-1'));
      expect503(await post(tp, 'refused-2'));
      expect(fake().seen.some((s) => s.rawHeaders.includes('refused-1'))).toBe(false); // never reached the provider
      // The writer thread reports asynchronously: let the refused exchanges' writes fail under the lock.
      await eventually(() => expect(tp.proxy.recorder.stats().lost).toBeGreaterThanOrEqual(3));
    } finally {
      locker.exec('COMMIT');
      locker.close();
    }
    expectProviderAnswer(await untilForwarded(tp, 'recovered'));
    expect(tp.proxy.recorder.healthy).toBe(true);
    expect(tp.proxy.recorder.stats().lost).toBeGreaterThanOrEqual(3);
    expectNoSecret(logs.join('\n'));
  });
});

describe('disk full (max_page_count on the proxy connection → SQLITE_FULL)', () => {
  it('fail-open: answers keep coming, losses are counted, writes resume when there is room', async () => {
    const { tp, logs } = await start({ archive: { maxPageCount: 1 } }); // clamped to the migrated size: no growth
    for (let i = 0; i < 3; i++) expectProviderAnswer(await post(tp, `full-${i}`, 8000));
    await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 0, lost: 3 }));
    expect(logged(logs, /archive write failed/)[0]).toMatchObject({ level: 50, code: 'SQLITE_FULL' });

    tp.proxy.recorder.pragma('max_page_count = 1000000'); // space freed (on the writer thread's connection)
    expectProviderAnswer(await post(tp, 'room-again', 8000));
    await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 1, lost: 3 }));
    expect(recordedIds(tp)).toEqual(['room-again']);
    expectNoSecret(logs.join('\n'));
  });

  it('fail-closed: 503 once the disk is full, forwarding again when there is room', async () => {
    const { tp, logs } = await start({ failClosed: true, archive: { maxPageCount: 1 } });
    expectProviderAnswer(await post(tp, 'first', 8000));
    await eventually(() => expect(tp.proxy.recorder.healthy).toBe(false));
    expect503(await post(tp, 'refused', 8000));
    tp.proxy.recorder.pragma('max_page_count = 1000000');
    expectProviderAnswer(await untilForwarded(tp, 'recovered'));
    expectNoSecret(logs.join('\n'));
  });
});
