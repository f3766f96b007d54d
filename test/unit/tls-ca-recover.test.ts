/**
 * A process killed between putting its CA key in place and renaming its certificate in
 * beside it (publishCa) left the key and a complete temporary certificate: every later
 * start waited 5 s for a certificate nobody was writing and failed with "llmtap CA is
 * incomplete". Now a start that finds the writer gone (its pid not alive, or the file
 * older than any publish takes) finishes the publish with the temporary certificate that
 * matches the key, and removes the leftovers. The kill is real: a process that SIGKILLs
 * itself at the rename, running the build.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CA_CERT_FILE, CA_KEY_FILE, loadOrCreateCa } from '../../src/tls/ca.js';

const run = promisify(execFile);
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'llmtap-ca-recover-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const CA_MODULE = pathToFileURL(path.resolve('dist/tls/ca.js')).href;
// Creates the CA, killed (SIGKILL) at the moment it renames its certificate into place.
const KILLED_AT_RENAME = `
const fs = (await import('node:module')).createRequire(import.meta.url)('node:fs');
fs.renameSync = () => process.kill(process.pid, 'SIGKILL');
(await import('node:module')).syncBuiltinESMExports();
const { loadOrCreateCa } = await import(${JSON.stringify(CA_MODULE)});
loadOrCreateCa(process.argv[1]);
`;

async function killedMidPublish(dir: string): Promise<void> {
  await run('node', ['--input-type=module', '-e', KILLED_AT_RENAME, dir]).then(
    () => { throw new Error('the writer was not killed'); },
    (err: { signal?: string }) => expect(err.signal).toBe('SIGKILL'),
  );
  // What it left: the key in place, and its temporary key and certificate.
  const left = fs.readdirSync(dir);
  expect(left).toContain(CA_KEY_FILE);
  expect(left).not.toContain(CA_CERT_FILE);
  expect(left.filter((f) => f.endsWith('.tmp'))).toHaveLength(2);
}

describe('a CA publish cut between the key and the certificate', () => {
  it('the next start finishes it at once with the certificate that matches the key, and leaves no temporary file', async () => {
    const dir = path.join(tmpRoot, 'killed', 'certs');
    await killedMidPublish(dir);
    const tmpCert = fs.readdirSync(dir).find((f) => f.startsWith(`${CA_CERT_FILE}.`))!;
    const expected = new X509Certificate(fs.readFileSync(path.join(dir, tmpCert))).fingerprint256;
    const started = Date.now();
    const { ca, created } = loadOrCreateCa(dir);
    expect(Date.now() - started).toBeLessThan(2000); // no 5 s wait for a writer that is gone
    expect(created).toBe(false);
    expect(ca.fingerprint256).toBe(expected);
    expect(fs.readdirSync(dir).sort()).toEqual([CA_KEY_FILE, CA_CERT_FILE].sort());
    expect(fs.statSync(path.join(dir, CA_CERT_FILE)).mode & 0o777).toBe(0o644);
    expect(fs.statSync(path.join(dir, CA_KEY_FILE)).mode & 0o777).toBe(0o600);
  }, 20_000);

  it('several starts at once after the kill: all get that CA', async () => {
    const dir = path.join(tmpRoot, 'killed-race', 'certs');
    await killedMidPublish(dir);
    const script = `const { loadOrCreateCa } = await import(${JSON.stringify(CA_MODULE)}); const [dir, at] = process.argv.slice(1); while (Date.now() < Number(at)); process.stdout.write(loadOrCreateCa(dir).ca.fingerprint256);`;
    const at = String(Date.now() + 700);
    const got = await Promise.all([0, 1, 2].map(() => run('node', ['--input-type=module', '-e', script, dir, at]).then((r) => r.stdout)));
    const onDisk = new X509Certificate(fs.readFileSync(path.join(dir, CA_CERT_FILE))).fingerprint256;
    expect(got).toEqual([onDisk, onDisk, onDisk]);
    expect(fs.readdirSync(dir).sort()).toEqual([CA_KEY_FILE, CA_CERT_FILE].sort());
  }, 20_000);

  it('a leftover whose writer pid is alive again (reused) but that is older than any publish: finished too', async () => {
    const dir = path.join(tmpRoot, 'reused-pid', 'certs');
    await killedMidPublish(dir);
    // Rename the leftovers as if written by a live process (this one's parent), ten minutes ago.
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))) {
      const renamed = f.replace(/\.\d+\.([0-9a-f]+)\.tmp$/, `.${process.ppid}.$1.tmp`);
      fs.renameSync(path.join(dir, f), path.join(dir, renamed));
      const old = new Date(Date.now() - 10 * 60_000);
      fs.utimesSync(path.join(dir, renamed), old, old);
    }
    expect(loadOrCreateCa(dir).created).toBe(false);
    expect(fs.readdirSync(dir).sort()).toEqual([CA_KEY_FILE, CA_CERT_FILE].sort());
  }, 20_000);

  it('a fresh leftover named with the starting process\'s own pid (a container restarted under the same pid): finished, not waited for', async () => {
    const dir = path.join(tmpRoot, 'own-pid', 'certs');
    await killedMidPublish(dir);
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))) {
      fs.renameSync(path.join(dir, f), path.join(dir, f.replace(/\.\d+\.([0-9a-f]+)\.tmp$/, `.${process.pid}.$1.tmp`)));
    }
    const started = Date.now();
    expect(loadOrCreateCa(dir).created).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(fs.readdirSync(dir).sort()).toEqual([CA_KEY_FILE, CA_CERT_FILE].sort());
  }, 20_000);

  it('a key whose leftover certificate is another key\'s: still refused as incomplete, at once', async () => {
    const dir = path.join(tmpRoot, 'mismatch', 'certs');
    await killedMidPublish(dir);
    const other = loadOrCreateCa(path.join(tmpRoot, 'other', 'certs')).ca;
    const tmpCert = fs.readdirSync(dir).find((f) => f.startsWith(`${CA_CERT_FILE}.`))!;
    fs.writeFileSync(path.join(dir, tmpCert), other.certPem);
    const started = Date.now();
    expect(() => loadOrCreateCa(dir)).toThrow(/llmtap CA is incomplete/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(fs.existsSync(path.join(dir, CA_KEY_FILE))).toBe(true); // a key is never deleted
  }, 20_000);
});
