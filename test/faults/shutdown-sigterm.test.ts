/**
 * Fault list #18: SIGTERM with 50 streams in flight. The built CLI stops accepting,
 * lets every stream finish, flushes and checkpoints the archive and exits 0; after
 * the restart (`llmtap export`) all 50 exchanges are there.
 */
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { connectOutcome, exportJsonl, openStream, startCli, waitFor, type Cli } from './shutdown-helpers.js';

let fake: FakeProvider;
let cli: Cli | undefined;

beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  await cli?.dispose();
  await fake?.close();
});

describe('SIGTERM drains the built CLI', () => {
  it('with 50 streams in flight: refuses new connections, finishes all 50, exits 0, archive has all 50, WAL checkpointed', async () => {
    cli = await startCli(fake, { args: ['--drain-timeout', '8'] });
    // 13 events: each stream lasts about 1.5 s, longer than opening all 50 takes even on a busy machine.
    fake.eventGapMs = 115;
    const streams = await Promise.all(Array.from({ length: 50 }, (_, i) => openStream(cli!, i)));
    expect(streams.map((s) => s.status)).toEqual(Array(50).fill(200));
    let finished = 0;
    const bodies = streams.map((s) => s.body.then((text) => { finished++; return text; }));

    const signalled = Date.now();
    cli.child.kill('SIGTERM');
    await waitFor(() => cli!.stderr().includes('draining'), 'the draining log line');
    expect(cli.logs().find((l) => l.msg?.startsWith('draining'))).toMatchObject({ inFlight: 50 }); // all 50 mid-stream
    expect(await connectOutcome(cli.port)).toBe('ECONNREFUSED');

    const texts = await Promise.all(bodies);
    for (const text of texts) expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(finished).toBe(50);
    expect(await cli.exited).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThan(300); // the drain really waited for them
    expect(cli.logs().find((l) => l.msg === 'stopped')).toMatchObject({ recorded: 50, lost: 0 });

    // Checkpointed on close: no WAL left behind (SQLite deletes it when the last connection closes).
    const wal = `${cli.archive}-wal`;
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);

    const records = await exportJsonl(cli.home);
    expect(records).toHaveLength(50);
    expect(records.every((r) => r.outcome === 'completed' && r.status === 200 && r.stream === true)).toBe(true);
    expect(new Set(records.map((r) => r.request.headers['x-stream'])).size).toBe(50);
  });

  it('a stream still running at the drain deadline is cut and recorded as cut by the shutdown, not by its client', async () => {
    cli = await startCli(fake, { args: ['--drain-timeout', '1'] });
    fake.eventGapMs = 400; // 13 events: ~5 s, past the 1 s deadline
    const stream = await openStream(cli, 0);
    expect(stream.status).toBe(200);
    const body = stream.body.catch(() => 'cut');
    cli.child.kill('SIGTERM');
    await body;
    expect(await cli.exited).toBe(0);
    const [record] = await exportJsonl(cli.home);
    expect(record).toMatchObject({ outcome: 'proxy_error', error_code: 'shutdown', status: 200 });
  });
});
