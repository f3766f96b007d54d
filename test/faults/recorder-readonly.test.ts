/**
 * Fault list #17: a read-only archive. Writes fail and are counted as lost while
 * traffic continues; --fail-closed answers 503 while it is unwritable and forwards
 * again once it is fixed; no planted secret reaches any log line or error body.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { openArchive, type ArchiveOptions } from '../../src/recorder/db.js';
import { loadOrCreateCa } from '../../src/tls/ca.js';
import { eventually } from '../helpers/archive.js';
import type { TestProxy } from '../helpers/start-proxy.js';
import { expect503, expectNoSecret, expectProviderAnswer, logged, post, recordedIds, untilForwarded, useFaultProxies } from './recorder-helpers.js';

const { start, fake } = useFaultProxies();

/** What /healthz answers now: status and body. */
async function health(tp: TestProxy): Promise<[number, unknown]> {
  const res = await request(`${tp.url}/healthz`);
  return [res.statusCode, await res.body.json()];
}

/** A home with a migrated archive in it, as a previous run leaves it. */
function homeWithArchive(): string {
  const home = mkdtempSync(join(tmpdir(), 'llmtap-ro-'));
  openArchive(paths(home).archive).close();
  return home;
}

describe('read-only archive', () => {
  // SQLite opens a file the process may not write read-only; the `readonly` open option
  // does exactly that, and works for root too (root writes through any mode bits).
  it('fail-open: loses records but not traffic, and recovers once writable', async () => {
    const archive: ArchiveOptions = { readonly: true };
    const { tp, logs } = await start({ home: homeWithArchive(), archive });
    expect(tp.proxy.recorder.healthy).toBe(false); // known at start, not only after the first exchange
    expect(logged(logs, /archive unavailable/)[0]).toMatchObject({ level: 50, code: 'SQLITE_READONLY' });

    // Fail-open still forwards: a load balancer keeps sending, and the probe says the archive fails.
    expect(await health(tp)).toEqual([200, { status: 'ok', archive: 'failing' }]);
    expectProviderAnswer(await post(tp, 'ro-1'));
    expectProviderAnswer(await post(tp, 'ro-2'));
    await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 0, lost: 2 }));

    archive.readonly = false; // permissions fixed: the next batch opens it again
    expectProviderAnswer(await post(tp, 'rw'));
    await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 1, lost: 2 }));
    expect(tp.proxy.recorder.healthy).toBe(true);
    expect(await health(tp)).toEqual([200, { status: 'ok', archive: 'ok' }]);
    expect(recordedIds(tp)).toEqual(['rw']);
    expectNoSecret(logs.join('\n'));
  });

  it('fail-closed: 503 from the first request, forwarding after it is fixed', async () => {
    const archive: ArchiveOptions = { readonly: true };
    const { tp, logs } = await start({ home: homeWithArchive(), archive, failClosed: true });
    expect503(await post(tp, 'refused'));
    expect(fake().seen.some((s) => s.rawHeaders.includes('refused'))).toBe(false);
    // Every intercepted request would get 503: the probe takes this proxy out of rotation.
    expect(await health(tp)).toEqual([503, { status: 'archive_unavailable', archive: 'failing' }]);
    archive.readonly = false;
    expectProviderAnswer(await untilForwarded(tp, 'fixed'));
    expect(await health(tp)).toEqual([200, { status: 'ok', archive: 'ok' }]);
    expectNoSecret(logs.join('\n'));
  });

  it.skipIf(process.getuid?.() === 0)('fail-open with a real chmod: file 0444 and its directory 0555 at start', async () => {
    const home = homeWithArchive();
    const file = paths(home).archive;
    loadOrCreateCa(paths(home).certs); // certs/ stays writable; only the archive and its directory are not
    chmodSync(file, 0o444);
    chmodSync(home, 0o555);
    try {
      const { tp, logs } = await start({ home });
      expect(tp.proxy.recorder.healthy).toBe(false);
      expectProviderAnswer(await post(tp, 'chmod-ro'));
      await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 0, lost: 1 }));
      expect(logged(logs, /archive unavailable/)[0]).toMatchObject({ level: 50 });

      chmodSync(home, 0o700);
      chmodSync(file, 0o600);
      expectProviderAnswer(await post(tp, 'chmod-rw'));
      await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 1, lost: 1 }));
      expect(recordedIds(tp)).toEqual(['chmod-rw']);
      expectNoSecret(logs.join('\n'));
    } finally {
      chmodSync(home, 0o700);
    }
  });

  it('a connection that turns read-only under us is dropped and reopened on the next batch', async () => {
    const { tp, logs } = await start();
    const first = tp.proxy.recorder.connection; // the writer thread's connection
    expect(first).toBeDefined();
    tp.proxy.recorder.pragma('query_only = ON'); // every write on this connection now fails with SQLITE_READONLY
    expectProviderAnswer(await post(tp, 'lost'));
    await eventually(() => expect(tp.proxy.recorder.stats().lost).toBe(1));
    expect(tp.proxy.recorder.connection).toBeUndefined(); // closed, not reopened until the next batch
    expectProviderAnswer(await post(tp, 'kept'));
    await eventually(() => expect(tp.proxy.recorder.stats()).toMatchObject({ recorded: 1, lost: 1 }));
    expect(recordedIds(tp)).toEqual(['kept']);
    expect(logged(logs, /archive write failed/)[0]).toMatchObject({ code: 'SQLITE_READONLY' });
    expectNoSecret(logs.join('\n'));
  });
});
