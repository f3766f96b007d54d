import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatewayProblem, typedFlags } from '../../src/cli/gateway-option.js';
import { proxyVarsCheck } from '../../src/doctor/checks.js';
import { adoptGatewayCa, caFingerprint, fetchGatewayCa, normalizeFingerprint } from '../../src/gateway-client/gateway-ca.js';
import { basicAuthorization, gatewayDirName, gatewayProxyUrl, knownPassword, parseGateway } from '../../src/gateway-client/gateway-url.js';
import { loadOrCreateCa } from '../../src/tls/ca.js';
import { nssSteps, shellLine, systemSteps } from '../../src/trust/plan.js';

const newCa = (): string => loadOrCreateCa(mkdtempSync(join(tmpdir(), 'llmtap-unit-ca-'))).ca.certPem;

describe('naming a gateway', () => {
  it('parses http://USER[:PASSWORD]@HOST[:PORT] and bare HOST:PORT; refuses what it cannot reach the way tools will', () => {
    expect(parseGateway('http://alice@llmtap.internal:8080')).toEqual({ host: 'llmtap.internal', port: 8080, user: 'alice' });
    expect(parseGateway('llmtap.internal:8080')).toEqual({ host: 'llmtap.internal', port: 8080 });
    expect(parseGateway('http://a%40corp:p%3Aw@[::1]:9000/')).toEqual({ host: '::1', port: 9000, user: 'a@corp', password: 'p:w' });
    expect(parseGateway('http://gw.internal')).toEqual({ host: 'gw.internal', port: 80 });
    expect(parseGateway('https://gw:8080')).toEqual({ error: expect.stringContaining('a gateway is reached over http://') });
    expect(parseGateway('socks5://gw:1080')).toEqual({ error: expect.stringContaining('over http://') });
    expect(parseGateway('http://gw:8080/ui')).toEqual({ error: '--gateway "http://gw:8080/ui": only http://USER@HOST:PORT, no path or query' });
    expect(parseGateway('http://gw:99999')).toEqual({ error: expect.stringContaining('not a URL') });
    expect(parseGateway(' ')).toEqual({ error: expect.stringContaining('name the gateway') });
  });

  it('puts the login into the proxy URL percent-encoded, and the Basic header for its own pages', () => {
    const gw = { host: 'gw.internal', port: 8080, user: 'a@corp' };
    expect(gatewayProxyUrl(gw, 'p@ss w:rd/1')).toBe('http://a%40corp:p%40ss%20w%3Ard%2F1@gw.internal:8080');
    expect(new URL(gatewayProxyUrl(gw, 'p@ss w:rd/1')).password).toBe('p%40ss%20w%3Ard%2F1');
    expect(gatewayProxyUrl({ host: '::1', port: 1 }, undefined)).toBe('http://[::1]:1');
    expect(gatewayProxyUrl(gw, undefined)).toBe('http://a%40corp@gw.internal:8080');
    expect(basicAuthorization('alice', 'pw')).toBe(`Basic ${Buffer.from('alice:pw').toString('base64')}`);
    expect(basicAuthorization(undefined, 'pw')).toBeUndefined();
    expect(gatewayDirName({ host: 'GW.Internal', port: 8080 })).toBe('gw.internal_8080');
    expect(gatewayDirName({ host: 'fe80::1%eth0', port: 1 })).toBe('fe80__1_eth0_1');
  });

  it('takes the password from the URL, then LLMTAP_GATEWAY_PASSWORD, then a proxy variable logging in to the same gateway as the same user', () => {
    const gw = { host: 'gw.internal', port: 8080, user: 'alice' };
    expect(knownPassword({ ...gw, password: 'in-url' }, { LLMTAP_GATEWAY_PASSWORD: 'env' })).toBe('in-url');
    expect(knownPassword(gw, { LLMTAP_GATEWAY_PASSWORD: 'env', HTTPS_PROXY: 'http://alice:proxy@gw.internal:8080' })).toBe('env');
    expect(knownPassword(gw, { https_proxy: 'http://alice:pr%40xy@GW.internal:8080' })).toBe('pr@xy');
    expect(knownPassword(gw, { HTTPS_PROXY: 'http://bob:x@gw.internal:8080' })).toBeUndefined();
    expect(knownPassword(gw, { HTTPS_PROXY: 'http://alice:x@gw.internal:9090' })).toBeUndefined();
    expect(knownPassword(gw, { HTTPS_PROXY: 'http://alice:x@other:8080' })).toBeUndefined();
    expect(knownPassword(gw, {})).toBeUndefined();
  });

  it('refuses local-proxy flags beside --gateway, naming LLMTAP_GATEWAY when that is where the gateway came from', () => {
    const local = ['host', 'port', 'label'];
    expect(gatewayProblem({ gateway: 'http://gw:1' }, ['--gateway', 'http://gw:1', '--port=9'], local)).toBe("--port is for a proxy on this machine; with --gateway the gateway's own settings apply");
    expect(gatewayProblem({ gateway: 'http://gw:1' }, ['--label', 'x'], local)).toContain('LLMTAP_GATEWAY names a gateway: unset it');
    expect(gatewayProblem({ gateway: 'http://gw:1' }, typedFlags(['--gateway', 'http://gw:1', '--', 'curl', '--port', '9']), local)).toBeUndefined();
    expect(gatewayProblem({ 'gateway-fingerprint': 'ab'.repeat(32) }, [], local)).toBe('--gateway-fingerprint: only with --gateway');
    expect(gatewayProblem({ gateway: 'http://gw:1', 'gateway-fingerprint': 'xyz' }, [], local)).toContain('not a SHA-256 fingerprint');
    expect(gatewayProblem({}, ['--port', '9'], local)).toBeUndefined();
  });
});

describe("the gateway's CA", () => {
  it('reads a fingerprint pasted with colons, spaces, any case or a sha256 prefix', () => {
    const hex = 'ab'.repeat(32);
    expect(normalizeFingerprint(hex.toUpperCase().match(/../g)!.join(':'))).toBe(hex);
    expect(normalizeFingerprint(`SHA256:${hex}`)).toBe(hex);
    expect(normalizeFingerprint(`sha256=${hex.match(/..../g)!.join(' ')}`)).toBe(hex);
    expect(normalizeFingerprint('ab'.repeat(31))).toBeUndefined();
    expect(normalizeFingerprint(`${'ab'.repeat(31)}zz`)).toBeUndefined();
  });

  it('is trusted on first use and kept; another CA later is refused unless its fingerprint is given', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'llmtap-unit-gw-')), 'gateways', 'gw_1');
    const [first, second] = [newCa(), newCa()];
    const adopted = adoptGatewayCa(dir, first, undefined);
    expect(adopted).toMatchObject({ firstUse: true, replaced: false, fingerprint: caFingerprint(first), certPath: join(dir, 'ca.pem') });
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(first);
    expect(readFileSync(join(dir, 'trust-bundle.pem'), 'utf8')).toContain(first.trim());
    expect(adoptGatewayCa(dir, first, undefined)).toMatchObject({ firstUse: false, replaced: false });

    const changed = adoptGatewayCa(dir, second, undefined);
    expect(changed).toEqual({ error: expect.stringContaining(`(was ${caFingerprint(first)}, now ${caFingerprint(second)})`) });
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(first);
    expect(adoptGatewayCa(dir, second, caFingerprint(first))).toEqual({ error: expect.stringContaining('not the --gateway-fingerprint given') });
    expect(adoptGatewayCa(dir, second, caFingerprint(second).toLowerCase())).toMatchObject({ firstUse: false, replaced: true });
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(second);

    // A kept file that is not a certificate any more counts as nothing kept.
    writeFileSync(join(dir, 'ca.pem'), 'garbage');
    expect(adoptGatewayCa(dir, first, undefined)).toMatchObject({ firstUse: true });
  });
});

describe("fetching the gateway's CA", () => {
  /** A server answering /ca.pem with `status` and `body`, for one fetch. */
  async function fetchFrom(status: number, body: string | Buffer): Promise<ReturnType<typeof fetchGatewayCa>> {
    const server = createServer((_req, res) => res.writeHead(status).end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      return await fetchGatewayCa({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, user: 'alice' }, 'Basic x');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }

  it('takes only a CA certificate; anything else says the server may not be an llmtap gateway', async () => {
    const ca = newCa();
    expect(await fetchFrom(200, ca)).toEqual({ pem: `${ca.trim()}\n` });
    expect(await fetchFrom(404, 'not found')).toEqual({ error: expect.stringMatching(/\/ca\.pem answered HTTP 404 \(is this an llmtap gateway\?\)$/) });
    expect(await fetchFrom(200, '<html>hello</html>')).toEqual({ error: expect.stringContaining('is not a CA certificate') });
    expect(await fetchFrom(200, Buffer.alloc(1024 * 1024, 'a'))).toEqual({ error: expect.stringContaining('is larger than a CA certificate') });
    expect(await fetchFrom(401, '')).toEqual({ error: expect.stringContaining('refused the login of alice (wrong password?)'), refused: true });
  });
});

describe('doctor and trust for a gateway', () => {
  const gateway = { host: 'gw.internal', port: 8080, user: 'alice' };
  const check = (value: string | undefined) => proxyVarsCheck({ HTTPS_PROXY: value }, gateway, [])[0]!;

  it('HTTPS_PROXY must name the gateway and log in as its user; the password is never shown', () => {
    expect(check('http://alice:s3cret@gw.internal:8080')).toEqual({ name: 'HTTPS_PROXY', status: 'ok', detail: 'http://alice:***@gw.internal:8080' });
    expect(check('http://gw.internal:8080')).toMatchObject({ status: 'fail', detail: 'http://gw.internal:8080 carries no login, not as alice (the gateway answers 407 without one)' });
    expect(check('http://bob:s3cret@gw.internal:8080')).toMatchObject({ status: 'fail', detail: 'http://bob:***@gw.internal:8080 logs in as bob, not as alice (the gateway answers 407 without one)' });
    expect(check('http://alice:s3cret@127.0.0.1:8080')).toMatchObject({ status: 'fail', detail: 'http://alice:***@127.0.0.1:8080 is not this proxy (gw.internal:8080)' });
    // A local proxy still takes any loopback name.
    expect(proxyVarsCheck({ HTTPS_PROXY: 'http://localhost:8080' }, { host: '127.0.0.1', port: 8080 }, [])[0]!.status).toBe('ok');
  });

  it("installs a gateway's CA under its own name, beside this machine's own", () => {
    const input = { caPemPath: '/home/a/.llmtap/gateways/gw_8080/ca.pem', caCommonName: 'llmtap CA', remove: false, name: 'llmtap-gateway-gw_8080' };
    expect(systemSteps('debian', input).map((s) => shellLine(s.argv))[0]).toBe('install -m 0644 /home/a/.llmtap/gateways/gw_8080/ca.pem /usr/local/share/ca-certificates/llmtap-gateway-gw_8080.crt');
    expect(systemSteps('fedora', { ...input, remove: true }).map((s) => shellLine(s.argv))[0]).toBe('rm -f /etc/pki/ca-trust/source/anchors/llmtap-gateway-gw_8080.pem');
    expect(nssSteps(['/home/a/.pki/nssdb'], input)[0]!.argv).toContain('llmtap-gateway-gw_8080');
    expect(nssSteps(['/home/a/.pki/nssdb'], { ...input, name: undefined })[0]!.argv).toContain('llmtap');
  });
});
