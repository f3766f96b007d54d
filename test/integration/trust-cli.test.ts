import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');

/** As an unprivileged user (setpriv from root, as in CI): one clear line instead of an obscure failure. */
const why = process.getuid?.() !== 0 ? 'not root (needs setpriv to become nobody)' : !existsSync('/usr/bin/setpriv') ? 'no setpriv' : !existsSync('/usr/sbin/update-ca-certificates') ? 'not Debian/Ubuntu' : undefined;
if (why) console.warn(`skipping llmtap trust as non-root: ${why}`);

describe.skipIf(why !== undefined)('llmtap trust without root', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmtap-trust-'));
  chmodSync(dir, 0o777);
  const asNobody = (...args: string[]) => run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', `HOME=${dir}`, process.execPath, CLI, 'trust', '--home', join(dir, 'h'), ...args])
    .then((r) => ({ code: 0, ...r }), (err: { code: number; stdout: string; stderr: string }) => err);

  it('says in one line that root is needed and which sudo command to run; exit 1', async () => {
    const result = await asNobody();
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`llmtap: writing the system trust store needs root; run: sudo llmtap trust --home ${join(dir, 'h')} (or --dry-run to see the commands)\n`);
  });

  it('--dry-run prints the commands, with sudo where root is needed', async () => {
    const result = await asNobody('--dry-run');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`sudo install -m 0644 ${join(dir, 'h', 'certs', 'llmtap-ca.pem')} /usr/local/share/ca-certificates/llmtap.crt\nsudo update-ca-certificates\n`);
  });
});
