import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');

/**
 * `run` and `env` in a shell whose --home (or LLMTAP_HOME) is not the running proxy's: the
 * tools would trust one CA while the proxy signs with another, and fail in their own words
 * ("unable to get local issuer certificate") with nothing pointing at llmtap. They say so.
 */
describe('run and env against a proxy of another home', () => {
  let tp: TestProxy;
  const otherHome = mkdtempSync(join(tmpdir(), 'llmtap-other-home-'));
  beforeAll(async () => {
    tp = await startTestProxy(undefined);
  });
  afterAll(() => tp.close());

  const llmtap = async (home: string, args: string[]): Promise<string> => (await run('node', [CLI, '--home', home, ...args]).catch((e: { stderr: string; code: number }) => { throw new Error(`exit ${e.code}: ${e.stderr}`); })).stderr;

  it('warns in one line naming both CAs and the fix; the proxy\'s own home gets no warning', async () => {
    const port = String(tp.proxy.address.port);
    // The other home's CA is created by the first command (two at once would race to create it).
    const [runOther, runSame] = await Promise.all([llmtap(otherHome, ['run', '--port', port, '--', 'true']), llmtap(tp.home, ['run', '--port', port, '--', 'true'])]);
    const envOther = await llmtap(otherHome, ['env', '--port', port]);
    for (const stderr of [runOther, envOther]) {
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain(`llmtap: warning: the proxy on 127.0.0.1:${port} signs with another CA than ${join(otherHome, 'certs', 'llmtap-ca.pem')}`);
      expect(stderr).toMatch(/tools given this CA will refuse its certificates; give the proxy's --home \(or LLMTAP_HOME\)/);
    }
    expect(runSame).toBe('');
  });
});
