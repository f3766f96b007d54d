import { describe, expect, it } from 'vitest';
import { DEBIAN_ANCHOR, detectTrustStore, FEDORA_ANCHOR, nssDatabases, nssSteps, shellLine, systemSteps } from '../../src/trust/plan.js';

const has = (...paths: string[]) => (p: string) => paths.includes(p);
const input = { caPemPath: '/home/u/.llmtap/certs/llmtap-ca.pem', caCommonName: 'llmtap CA 1a2b3c4d', remove: false };

describe('trust store detection', () => {
  it('names the store by the tools present, not the distribution', () => {
    expect(detectTrustStore({ os: 'linux', exists: has('/usr/sbin/update-ca-certificates') })).toBe('debian');
    expect(detectTrustStore({ os: 'linux', exists: has('/etc/pki/ca-trust/source/anchors') })).toBe('fedora');
    expect(detectTrustStore({ os: 'linux', exists: has() })).toBeUndefined();
    expect(detectTrustStore({ os: 'darwin', exists: has() })).toBe('macos');
    expect(detectTrustStore({ os: 'win32', exists: has() })).toBe('windows');
  });
});

describe('trust commands', () => {
  it('Debian/Ubuntu: the anchor file, then update-ca-certificates; --remove deletes it and rebuilds', () => {
    expect(systemSteps('debian', input).map((s) => shellLine(s.argv))).toEqual([`install -m 0644 ${input.caPemPath} ${DEBIAN_ANCHOR}`, 'update-ca-certificates']);
    expect(systemSteps('debian', { ...input, remove: true }).map((s) => s.argv[0])).toEqual(['rm', 'update-ca-certificates']);
    expect(systemSteps('debian', input).every((s) => s.privileged)).toBe(true);
  });

  it('Fedora/RHEL, macOS and Windows use their own tools', () => {
    expect(systemSteps('fedora', input).map((s) => shellLine(s.argv))).toEqual([`install -m 0644 ${input.caPemPath} ${FEDORA_ANCHOR}`, 'update-ca-trust extract']);
    expect(shellLine(systemSteps('macos', input)[0]!.argv)).toBe(`security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${input.caPemPath}`);
    expect(shellLine(systemSteps('macos', { ...input, remove: true })[0]!.argv)).toBe("security delete-certificate -c 'llmtap CA 1a2b3c4d' /Library/Keychains/System.keychain");
    expect(systemSteps('windows', input)[0]!.argv.slice(0, 3)).toEqual(['certutil', '-addstore', 'root']);
    expect(systemSteps('windows', { ...input, remove: true })[0]!.argv).toEqual(['certutil', '-delstore', 'root', 'llmtap CA 1a2b3c4d']);
  });

  it('NSS: certutil per database, as the user, trusted for TLS servers only (C,,)', () => {
    const steps = nssSteps(['/home/u/.pki/nssdb'], input);
    expect(steps).toEqual([{ argv: ['certutil', '-A', '-n', 'llmtap', '-t', 'C,,', '-i', input.caPemPath, '-d', 'sql:/home/u/.pki/nssdb'], privileged: false }]);
    expect(nssSteps(['/d'], { ...input, remove: true })[0]!.argv).toEqual(['certutil', '-D', '-n', 'llmtap', '-d', 'sql:/d']);
  });

  it('finds Chromium and Firefox (plain and snap) databases that exist', () => {
    const files = ['/h/.pki/nssdb/cert9.db', '/h/.mozilla/firefox/b.default/cert9.db', '/h/snap/firefox/common/.mozilla/firefox/x.snap/cert9.db'];
    const list = (dir: string) => ({ '/h/.mozilla/firefox': ['b.default', 'a.empty', 'profiles.ini'], '/h/snap/firefox/common/.mozilla/firefox': ['x.snap'] })[dir] ?? [];
    expect(nssDatabases('/h', list, has(...files))).toEqual(['/h/.pki/nssdb', '/h/.mozilla/firefox/b.default', '/h/snap/firefox/common/.mozilla/firefox/x.snap']);
  });
});
