import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import type { CheckResult } from '../../src/doctor/checks.js';
import { openArchive } from '../../src/recorder/db.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');

/** `llmtap doctor` against a real proxy, in a good shell and in deliberately broken ones. */
describe('llmtap doctor', () => {
  let tp: TestProxy;
  let goodEnv: Record<string, string>;

  beforeAll(async () => {
    tp = await startTestProxy(undefined);
    const { stdout } = await run('node', [CLI, 'env', '--home', tp.home, '--port', String(tp.proxy.address.port)]);
    goodEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/' };
    for (const m of stdout.matchAll(/^export (\w+)='([^']*)'$/gm)) goodEnv[m[1]!] = m[2]!;
  });
  afterAll(() => tp.close());

  async function doctor(env: Record<string, string>, port = tp.proxy.address.port): Promise<{ code: number; checks: Record<string, CheckResult> }> {
    const result = await run('node', [CLI, 'doctor', '--json', '--home', tp.home, '--port', String(port)], { env }).then((r) => ({ ...r, code: 0 }), (err: { stdout: string; code: number }) => err);
    const parsed = JSON.parse(result.stdout) as { checks: CheckResult[] };
    return { code: result.code, checks: Object.fromEntries(parsed.checks.map((c) => [c.name, c])) };
  }

  it('a good setup: every check passes (the system store may only warn), exit 0', async () => {
    const { code, checks } = await doctor(goodEnv);
    expect(code).toBe(0);
    expect(checks['proxy']?.status).toBe('ok');
    expect(checks['round trip']?.status).toBe('ok');
    expect(checks['Node trust']?.status).toBe('ok');
    expect(checks['HTTPS_PROXY']?.status).toBe('ok');
    expect(checks['clock']?.status).toBe('ok');
    expect(checks['archive']).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^recording \(\d+ records? written since start, none lost\)$/) });
    expect(Object.values(checks).filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('missing trust: NODE_EXTRA_CA_CERTS unset fails the Node check with the fix, exit 1', async () => {
    const { NODE_EXTRA_CA_CERTS: _, ...env } = goodEnv;
    const { code, checks } = await doctor(env);
    expect(code).toBe(1);
    // The fix names this home and port: a bare `llmtap env` would point the shell at another proxy.
    const here = `--home '${tp.home}' --port ${tp.proxy.address.port}`;
    expect(checks['Node trust']).toMatchObject({ status: 'fail', detail: expect.stringContaining('NODE_EXTRA_CA_CERTS is not set'), fix: `eval "$(llmtap env ${here})", or start the tool with llmtap run ${here} -- CMD` });
    expect(checks['round trip']?.status).toBe('ok');
  });

  it('Node 20\'s fetch: a warning with the fix until the preload is in NODE_OPTIONS; httpx without SSL_CERT_FILE fails; a proxy password is never printed', async () => {
    const here = `--home '${tp.home}' --port ${tp.proxy.address.port}`;
    const { checks } = await doctor(goodEnv);
    expect(checks['Node fetch']).toMatchObject({ status: 'warn', detail: expect.stringContaining('fetch ignores HTTPS_PROXY'), fix: `eval "$(llmtap env --node ${here})", or start the tool with llmtap run ${here} -- CMD` });
    const { stdout } = await run('node', [CLI, 'env', '--node', '--home', tp.home, '--port', String(tp.proxy.address.port)]);
    const nodeOptions = /^export NODE_OPTIONS='([^']*)'$/m.exec(stdout)![1]!;
    expect((await doctor({ ...goodEnv, NODE_OPTIONS: nodeOptions })).checks['Node fetch']?.status).toBe('ok');

    const { SSL_CERT_FILE: _, ...noSslCertFile } = goodEnv;
    const httpx = (await doctor(noSslCertFile)).checks['httpx trust'];
    const hasHttpx = spawnSync('python3', ['-c', 'import httpx'], { env: goodEnv }).status === 0;
    if (hasHttpx) expect(httpx).toMatchObject({ status: 'fail', detail: expect.stringContaining('SSL_CERT_FILE is not set') });
    else expect(httpx).toMatchObject({ status: 'skip', detail: 'httpx not installed' });

    const proxy = `http://alice:s3cret-pw@127.0.0.1:${tp.proxy.address.port}`;
    const withLogin = await doctor({ ...goodEnv, HTTPS_PROXY: proxy, https_proxy: proxy });
    expect(withLogin.checks['HTTPS_PROXY']?.detail).toBe(`http://alice:***@127.0.0.1:${tp.proxy.address.port}`);
    expect(JSON.stringify(withLogin.checks)).not.toContain('s3cret-pw');
  });

  it('the trust fix always names the home: sudo changes ~, so a bare `sudo llmtap trust` would trust root\'s CA', async () => {
    const { CURL_CA_BUNDLE: _, SSL_CERT_FILE: __, ...env } = goodEnv;
    const { checks } = await doctor(env);
    const trust = `sudo llmtap trust --home '${tp.home}'`;
    expect(checks['system store']).toMatchObject({ status: 'warn', fix: trust });
    expect(checks['curl trust']?.fix).toMatch(new RegExp(`, or ${trust.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it('wrong HTTPS_PROXY and a NO_PROXY that excludes an intercepted host both fail', async () => {
    const { code, checks } = await doctor({ ...goodEnv, HTTPS_PROXY: 'http://127.0.0.1:1', https_proxy: 'http://127.0.0.1:1', NO_PROXY: 'localhost,.openai.com', no_proxy: '' });
    expect(code).toBe(1);
    expect(checks['HTTPS_PROXY']).toMatchObject({ status: 'fail', detail: expect.stringContaining('is not this proxy'), fix: expect.stringContaining(`llmtap env --home '${tp.home}' --port ${tp.proxy.address.port}`) });
    expect(checks['NO_PROXY']).toMatchObject({ status: 'fail', detail: expect.stringContaining('api.openai.com') });
  });

  it('proxy down: the proxy and round-trip checks say so and name the start command', async () => {
    const { code, checks } = await doctor(goodEnv, 1);
    expect(code).toBe(1);
    expect(checks['proxy']).toMatchObject({ status: 'fail', detail: expect.stringContaining('refused'), fix: `llmtap start --home '${tp.home}' --port 1` });
    expect(checks['round trip']?.status).toBe('skip');
  });

  it('an archive that cannot be written fails the archive check with where to look, exit 1', async () => {
    const home = mkdtempSync(join(tmpdir(), 'llmtap-doctor-ro-'));
    openArchive(paths(home).archive).close();
    const ro = await startTestProxy(undefined, { home }, { archive: { readonly: true } });
    try {
      const { code, checks } = await doctor(goodEnv, ro.proxy.address.port);
      expect(code).toBe(1);
      expect(checks['archive']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^failing: traffic is forwarded but not recorded/), fix: expect.stringContaining('archive unavailable') });
    } finally {
      await ro.close();
    }
  });

  it('a client that rejected the CA shows in the count, with a fix for this home and port (sudo for the system store)', async () => {
    tp.proxy.server.trust.report('rejected', 'api.openai.com', '127.0.0.1');
    const { checks } = await doctor(goodEnv);
    const here = `--home '${tp.home}' --port ${tp.proxy.address.port}`;
    expect(checks['clients rejecting the CA']).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^1 rejected/), fix: `sudo llmtap trust --home '${tp.home}', or start those tools with llmtap run ${here} -- CMD` });
  });
});
