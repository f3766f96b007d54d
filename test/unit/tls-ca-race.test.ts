/**
 * Two llmtap commands started at once on a fresh home both create the CA: one of them
 * failed with "… appeared while llmtap was creating its CA (another llmtap starting?);
 * try again". Now the first to publish wins and the others use its CA. Real processes
 * (the build), released at the same instant so their key generations overlap.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CA_CERT_FILE, CA_KEY_FILE } from '../../src/tls/ca.js';

const run = promisify(execFile);
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'llmtap-ca-race-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const CA_MODULE = pathToFileURL(path.resolve('dist/tls/ca.js')).href;
// Waits for the shared start instant, creates (or loads) the CA, prints what it got.
const SCRIPT = `
const { loadOrCreateCa } = await import(${JSON.stringify(CA_MODULE)});
const [dir, startAt] = process.argv.slice(1);
while (Date.now() < Number(startAt));
const { ca, created } = loadOrCreateCa(dir);
process.stdout.write(JSON.stringify({ fingerprint: ca.fingerprint256, created }));
`;

describe('loadOrCreateCa started by several processes at once on a fresh home', () => {
  it('all succeed with the same CA, created once, and leave no temporary file', async () => {
    const dir = path.join(tmpRoot, 'home', 'certs');
    const startAt = String(Date.now() + 700);
    const results = await Promise.all([0, 1, 2].map(() => run('node', ['--input-type=module', '-e', SCRIPT, dir, startAt])));
    const got = results.map((r) => JSON.parse(r.stdout) as { fingerprint: string; created: boolean });
    const onDisk = new X509Certificate(fs.readFileSync(path.join(dir, CA_CERT_FILE))).fingerprint256;
    expect(got.map((g) => g.fingerprint)).toEqual([onDisk, onDisk, onDisk]);
    expect(got.filter((g) => g.created)).toHaveLength(1);
    expect(fs.readdirSync(dir).sort()).toEqual([CA_KEY_FILE, CA_CERT_FILE].sort());
    expect(fs.statSync(path.join(dir, CA_KEY_FILE)).mode & 0o777).toBe(0o600);
  }, 20_000);
});
