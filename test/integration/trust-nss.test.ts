import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');

const haveCertutil = await run('certutil', ['-H']).then(() => true, (err: { code?: unknown }) => err.code !== 'ENOENT');
if (!haveCertutil) console.warn('skipping llmtap trust --nss: certutil not installed (apt-get install libnss3-tools)');

/** `trust --nss` against real NSS databases (Chromium's and a Firefox profile) in a scratch HOME: no root needed. */
describe.skipIf(!haveCertutil)('llmtap trust --nss', () => {
  it('adds the CA to every NSS database as a trusted TLS issuer (C,,), and --remove takes it out again (twice is fine)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'llmtap-nss-'));
    const chromium = join(home, '.pki/nssdb');
    const firefox = join(home, '.mozilla/firefox/abcd.default-release');
    for (const db of [chromium, firefox]) {
      mkdirSync(db, { recursive: true });
      await run('certutil', ['-N', '--empty-password', '-d', `sql:${db}`]);
    }
    const env = { PATH: process.env.PATH ?? '', HOME: home };
    const trust = (...args: string[]) => run(process.execPath, [CLI, 'trust', '--home', join(home, '.llmtap'), '--no-system', '--nss', ...args], { env });
    const listed = (db: string) => run('certutil', ['-L', '-d', `sql:${db}`]).then((r) => r.stdout);

    expect((await trust('--dry-run')).stdout.split('\n').filter(Boolean)).toHaveLength(2);
    await trust();
    for (const db of [chromium, firefox]) expect(await listed(db)).toMatch(/^llmtap\s+C,,\s*$/m);
    await trust('--remove');
    await trust('--remove');
    for (const db of [chromium, firefox]) expect(await listed(db)).not.toMatch(/llmtap/);
  });
});
