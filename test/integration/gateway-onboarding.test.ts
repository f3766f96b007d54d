import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/doctor/checks.js';
import { loadOrCreateCa } from '../../src/tls/ca.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const exec = promisify(execFile);
const CLI = resolve('dist/cli/main.js');
const PASSWORD = 'p@ss w:rd/1';

interface Ran { code: number; stdout: string; stderr: string }

/**
 * A developer's machine onboarded to a team's gateway with `env`/`run`/`doctor`/`trust
 * --gateway`: the gateway's CA fetched behind its login and kept (trusted on first use,
 * a changed CA refused), real clients (curl, Node 20 fetch) sent through it as the proxy
 * user, and the password never written to disk.
 */
describe('onboarding a developer to a gateway', () => {
  let fake: FakeProvider;
  let gw: TestProxy;
  let dev: string;
  let gateway: string;
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/' };

  beforeAll(async () => {
    fake = await startFakeProvider();
    gw = await startTestProxy(fake, { auth: [{ user: 'alice', password: PASSWORD }] });
    dev = mkdtempSync(join(tmpdir(), 'llmtap-dev-home-'));
    gateway = `http://alice@127.0.0.1:${gw.proxy.address.port}`;
  });
  let gatewayClosed = false;
  afterAll(async () => {
    if (!gatewayClosed) await gw?.close();
    await fake?.close();
  });

  async function llmtap(args: string[], env: Record<string, string> = {}): Promise<Ran> {
    return exec('node', [CLI, ...args], { env: { ...base, ...env } }).then((r) => ({ ...r, code: 0 }), (err: Ran) => err);
  }
  const exports = (stdout: string): Record<string, string> => Object.fromEntries([...stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));

  it('refuses, in one line each, a login it cannot make: no password without a terminal, a wrong one, no user', async () => {
    const noPassword = await llmtap(['env', '--home', dev, '--gateway', gateway]);
    expect(noPassword.code).toBe(1);
    expect(noPassword.stderr).toBe(`llmtap: no password for alice at 127.0.0.1:${gw.proxy.address.port}: set LLMTAP_GATEWAY_PASSWORD, or run this in a terminal to be asked\n`);
    const wrong = await llmtap(['env', '--home', dev, '--gateway', gateway], { LLMTAP_GATEWAY_PASSWORD: 'nope' });
    expect(wrong).toMatchObject({ code: 1, stdout: '', stderr: `llmtap: the gateway at 127.0.0.1:${gw.proxy.address.port} refused the login of alice (wrong password?)\n` });
    const anonymous = await llmtap(['env', '--home', dev, '--gateway', `127.0.0.1:${gw.proxy.address.port}`]);
    expect(anonymous.stderr).toContain('has proxy users: name yours, --gateway http://USER@127.0.0.1:');
    const https = await llmtap(['env', '--gateway', 'https://llmtap.internal:8080']);
    expect(https).toMatchObject({ code: 2, stderr: expect.stringContaining('a gateway is reached over http://') });
    const clash = await llmtap(['env', '--gateway', gateway, '--port', '9000']);
    expect(clash).toMatchObject({ code: 2, stderr: "llmtap: --port is for a proxy on this machine; with --gateway the gateway's own settings apply\n" });
    // Nothing was kept from the failed tries.
    expect(readdirSync(dev)).toEqual([]);
  });

  it('env --gateway: fetches the CA behind the login, trusts it on first use (fingerprint on stderr), prints the login in the proxy URL', async () => {
    const first = await llmtap(['env', '--node', '--home', dev, '--gateway', gateway], { LLMTAP_GATEWAY_PASSWORD: PASSWORD });
    expect(first.code).toBe(0);
    const fingerprint = /SHA-256 ([0-9A-F:]{95})/.exec(first.stderr)?.[1];
    expect(fingerprint).toBeDefined();
    expect(first.stderr).toContain("trusting the gateway's CA on first use");
    const vars = exports(first.stdout);
    const proxyUrl = `http://alice:${encodeURIComponent(PASSWORD)}@127.0.0.1:${gw.proxy.address.port}`;
    expect(vars).toMatchObject({ HTTPS_PROXY: proxyUrl, https_proxy: proxyUrl, NO_PROXY: 'localhost,127.0.0.1,::1' });
    // The CA the gateway signs with, kept under the developer's home; the bundle adds the system's roots.
    expect(readFileSync(vars.NODE_EXTRA_CA_CERTS!, 'utf8').trim()).toBe(gw.caPem.trim());
    expect(vars.NODE_EXTRA_CA_CERTS).toBe(join(dev, 'gateways', `127.0.0.1_${gw.proxy.address.port}`, 'ca.pem'));
    const bundle = readFileSync(vars.SSL_CERT_FILE!, 'utf8');
    expect(bundle).toContain(gw.caPem.trim());
    expect(bundle.split('BEGIN CERTIFICATE').length).toBeGreaterThan(3);

    // Again: the kept CA is the one fetched, nothing to say. The password comes from this shell's HTTPS_PROXY.
    const again = await llmtap(['env', '--home', dev, '--gateway', gateway], { HTTPS_PROXY: proxyUrl });
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(exports(again.stdout).HTTPS_PROXY).toBe(proxyUrl);
    // A pinned fingerprint that matches passes; one that does not is refused.
    expect((await llmtap(['env', '--home', dev, '--gateway', gateway, '--gateway-fingerprint', fingerprint!.toLowerCase()], { HTTPS_PROXY: proxyUrl })).code).toBe(0);
    const pinnedOther = await llmtap(['env', '--home', dev, '--gateway', gateway, '--gateway-fingerprint', 'ab'.repeat(32)], { HTTPS_PROXY: proxyUrl });
    expect(pinnedOther).toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining(`the gateway's CA has fingerprint ${fingerprint}, not the --gateway-fingerprint given`) });
  });

  it('on a terminal the password is asked once, not shown, and goes only into the proxy URL', async () => {
    // `script` gives the command a terminal; the password is typed after the prompt, as a person would.
    const home = mkdtempSync(join(tmpdir(), 'llmtap-dev-home-'));
    const out = await new Promise<string>((done) => {
      const child = spawn('script', ['-qec', `node ${CLI} env --home ${home} --gateway ${gateway}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: base });
      let text = '';
      child.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes(`password for alice at 127.0.0.1:${gw.proxy.address.port}: `) && !child.stdin.writableEnded) child.stdin.end(`${PASSWORD}\r`);
      });
      child.once('exit', () => done(text));
    });
    expect(out).not.toContain(PASSWORD);
    expect(out).toContain(`export HTTPS_PROXY='http://alice:${encodeURIComponent(PASSWORD)}@127.0.0.1:${gw.proxy.address.port}'`);
  });

  it('run --gateway: curl and Node 20 fetch go through the gateway as the proxy user, recorded there', async () => {
    const env = { LLMTAP_GATEWAY_PASSWORD: PASSWORD };
    const body = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });
    const curl = await llmtap(['run', '--home', dev, '--gateway', gateway, '--', 'curl', '-sS', '--fail', 'https://api.openai.com/v1/chat/completions', '-H', 'content-type: application/json', '-d', body('gpt-gw-curl')], env);
    expect(curl.code).toBe(0);
    expect(JSON.parse(curl.stdout)).toMatchObject({ object: 'chat.completion' });
    const script = `const r = await fetch('https://api.openai.com/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(body('gpt-gw-node'))} }); console.log(r.status);`;
    const node = await llmtap(['run', '--home', dev, '--gateway', gateway, '--', 'node', '--input-type=module', '-e', script], env);
    expect(node).toMatchObject({ code: 0, stdout: '200\n' });
    const rows = await eventually(() => {
      const found = exported(gw).filter((e) => String(e.model).startsWith('gpt-gw-'));
      expect(found).toHaveLength(2);
      return found;
    });
    for (const row of rows) expect((row as unknown as { client: { user: string } }).client.user).toBe('alice');
    // The doctor's echo host through the gateway answers its clock and the counts, nothing of the proxy's insides.
    const echo = await llmtap(['run', '--home', dev, '--gateway', gateway, '--', 'curl', '-sS', '--fail', 'https://doctor.llmtap.invalid/doctor'], env);
    expect(JSON.parse(echo.stdout)).toEqual({ llmtap: true, method: 'GET', path: '/doctor', now: expect.any(Number), untrustedCa: { rejected: 0, likelyRejected: 0 } });
    // A gateway names traffic by its user: a run label is refused rather than dropped.
    expect((await llmtap(['run', '--gateway', gateway, '--label', 'x', '--', 'true'], env))).toMatchObject({ code: 2, stderr: expect.stringContaining('--label is for a proxy on this machine') });
  });

  it('doctor --gateway: every check passes in a shell set by env --gateway; a shell without the login fails HTTPS_PROXY', async () => {
    const set = exports((await llmtap(['env', '--node', '--home', dev, '--gateway', gateway], { LLMTAP_GATEWAY_PASSWORD: PASSWORD })).stdout);
    const doctor = async (env: Record<string, string>) => {
      const r = await llmtap(['doctor', '--json', '--home', dev, '--gateway', gateway], env);
      return { code: r.code, checks: Object.fromEntries((JSON.parse(r.stdout) as { checks: CheckResult[] }).checks.map((c) => [c.name, c])) };
    };
    const good = await doctor(set);
    expect(good.checks['gateway']).toMatchObject({ status: 'ok', detail: expect.stringContaining(`on 127.0.0.1:${gw.proxy.address.port}`) });
    expect(good.checks['round trip']?.status).toBe('ok');
    expect(good.checks['gateway CA']).toMatchObject({ status: 'ok', detail: expect.stringContaining('SHA-256 ') });
    expect(good.checks['Node trust']?.status).toBe('ok');
    expect(good.checks['curl trust']?.status).toBe('ok');
    expect(good.checks['HTTPS_PROXY']).toMatchObject({ status: 'ok', detail: `http://alice:***@127.0.0.1:${gw.proxy.address.port}` });
    expect(good.checks['system store']).toMatchObject({ fix: `sudo llmtap trust --gateway '${gateway}' --home '${dev}'` });
    expect(Object.values(good.checks).filter((c) => c.status === 'fail')).toEqual([]);
    expect(good.code).toBe(0);

    const noLogin = `http://127.0.0.1:${gw.proxy.address.port}`;
    const bare = await doctor({ ...set, HTTPS_PROXY: noLogin, https_proxy: noLogin });
    expect(bare.code).toBe(1);
    expect(bare.checks['HTTPS_PROXY']).toMatchObject({ status: 'fail', detail: expect.stringContaining('carries no login, not as alice') });
    expect(JSON.stringify(good.checks)).not.toContain(PASSWORD);
  });

  it('doctor --gateway with a wrong password or a user the gateway lacks: its first check says the login was refused (407), not "is the URL right?"', async () => {
    const where = `127.0.0.1:${gw.proxy.address.port}`;
    for (const [url, user] of [[gateway, 'alice'], [`http://mallory@${where}`, 'mallory']] as const) {
      const r = await llmtap(['doctor', '--json', '--home', dev, '--gateway', url], { LLMTAP_GATEWAY_PASSWORD: 'not the password' });
      expect(r.code).toBe(1);
      const checks = (JSON.parse(r.stdout) as { checks: CheckResult[] }).checks;
      expect(checks[0]).toEqual({
        name: 'gateway', status: 'fail',
        detail: `${where} refused the login of ${user} (407 Proxy Authentication Required to tools): the password is wrong, or the gateway has no user ${user}`,
        fix: `check ${user}'s password (LLMTAP_GATEWAY_PASSWORD, the login in HTTPS_PROXY, or the one typed); if it is right, ask the gateway's team whether ${user} is one of its users`,
      });
      expect(r.stdout).not.toContain('is the URL right');
      expect(r.stdout).not.toContain('proxy not reachable');
      expect(checks.find((c) => c.name === 'gateway CA')).toMatchObject({ status: 'skip', detail: 'not fetched: the gateway refused the login' });
    }
    // A gateway that does not answer keeps its message.
    const down = await llmtap(['doctor', '--json', '--home', mkdtempSync(join(tmpdir(), 'llmtap-dev-home-')), '--gateway', 'http://alice@127.0.0.1:9'], { LLMTAP_GATEWAY_PASSWORD: PASSWORD });
    expect((JSON.parse(down.stdout) as { checks: CheckResult[] }).checks[0]).toMatchObject({ name: 'gateway', status: 'fail', detail: '127.0.0.1:9: connection refused (nothing listens)', fix: 'ask the gateway\'s team (is the URL right?)' });
  });

  it('trust --gateway names the gateway\'s CA apart from this machine\'s own; the password is in no file', async () => {
    const dry = await llmtap(['trust', '--dry-run', '--home', dev, '--gateway', gateway]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`${join(dev, 'gateways', `127.0.0.1_${gw.proxy.address.port}`, 'ca.pem')} /usr/local/share/ca-certificates/llmtap-gateway-127.0.0.1_${gw.proxy.address.port}.crt`);
    const none = await llmtap(['trust', '--dry-run', '--home', dev, '--gateway', 'http://127.0.0.1:9']);
    expect(none).toMatchObject({ code: 1, stderr: expect.stringContaining('no CA kept for the gateway at 127.0.0.1:9') });
    const files = readdirSync(dev, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name), 'utf8')).not.toContain(PASSWORD);
  });

  it('a CA that changed since first use is refused until its new fingerprint is confirmed; an unreachable gateway falls back to the kept CA', async () => {
    const home = mkdtempSync(join(tmpdir(), 'llmtap-dev-home-'));
    const env = { LLMTAP_GATEWAY_PASSWORD: PASSWORD };
    expect((await llmtap(['env', '--home', home, '--gateway', gateway], env)).code).toBe(0);
    // What someone in the middle would do: the kept CA stays, the gateway now presents another.
    const kept = join(home, 'gateways', `127.0.0.1_${gw.proxy.address.port}`, 'ca.pem');
    const other = loadOrCreateCa(mkdtempSync(join(tmpdir(), 'llmtap-other-ca-'))).ca;
    writeFileSync(kept, other.certPem);
    const changed = await llmtap(['env', '--home', home, '--gateway', gateway], env);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/^llmtap: the gateway's CA changed since it was first trusted \(was [0-9A-F:]{95}, now ([0-9A-F:]{95})\); if its team rotated it, confirm the new fingerprint with them and run again with --gateway-fingerprint \1\n$/);
    expect(readFileSync(kept, 'utf8')).toBe(other.certPem);
    const fingerprint = /now ([0-9A-F:]{95})/.exec(changed.stderr)![1]!;
    const confirmed = await llmtap(['env', '--home', home, '--gateway', gateway, '--gateway-fingerprint', fingerprint], env);
    expect(confirmed).toMatchObject({ code: 0, stderr: expect.stringContaining('replaces the one kept before') });
    expect(readFileSync(kept, 'utf8').trim()).toBe(gw.caPem.trim());

    const port = gw.proxy.address.port;
    await gw.close();
    gatewayClosed = true;
    const offline = await llmtap(['env', '--home', home, '--gateway', gateway], env);
    expect(offline.code).toBe(0);
    expect(offline.stderr).toBe(`llmtap: cannot reach the gateway at 127.0.0.1:${port}: connection refused; using its CA kept from before (${fingerprint})\n`);
    expect(exports(offline.stdout).NODE_EXTRA_CA_CERTS).toBe(kept);
    const neverSeen = await llmtap(['env', '--home', mkdtempSync(join(tmpdir(), 'llmtap-dev-home-')), '--gateway', gateway], env);
    expect(neverSeen).toMatchObject({ code: 1, stderr: `llmtap: cannot reach the gateway at 127.0.0.1:${port}: connection refused\n` });
  });
});
