import { describe, expect, it } from 'vitest';
import { archiveCheck, bundleHolds, caFilesCheck, caKindCheck, noProxyMatches, skewCheck } from '../../src/doctor/checks.js';
import { constraintBases } from '../../src/tls/name-constraints.js';

const PEM = '-----BEGIN CERTIFICATE-----\nQUJD\nREVG\n-----END CERTIFICATE-----\n';

describe('doctor checks', () => {
  it('a bundle holds a certificate whatever its line wrapping', () => {
    expect(bundleHolds(`other\n-----BEGIN CERTIFICATE-----\nQUJDREVG\n-----END CERTIFICATE-----\n`, PEM)).toBe(true);
    expect(bundleHolds('-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----', PEM)).toBe(false);
  });

  it('a key readable by others fails with the chmod fix; a missing file names it', () => {
    expect(caFilesCheck({ certPem: PEM, keyMode: 0o644, certPath: '/c', keyPath: '/k', now: 0 })).toMatchObject({ status: 'fail', fix: 'chmod 600 /k' });
    expect(caFilesCheck({ certPath: '/c', keyPath: '/k', now: 0 })).toMatchObject({ status: 'fail', detail: 'missing /c' });
  });

  it('a name-constrained CA warns about intercepted hosts outside it, with the regenerate command', () => {
    const bases = constraintBases(['api.openai.com']);
    expect(caKindCheck(bases, ['api.openai.com']).status).toBe('ok');
    expect(caKindCheck(bases, ['api.openai.com', 'llm.internal:8000'])).toMatchObject({ status: 'warn', detail: expect.stringContaining('llm.internal:8000'), fix: expect.stringContaining('--intercept llm.internal:8000') });
    expect(caKindCheck(undefined, ['x']).detail).toMatch(/^unconstrained/);
  });

  it("NO_PROXY entries match the way curl, Python and Go read them", () => {
    expect(noProxyMatches('*', 'api.openai.com')).toBe(true);
    expect(noProxyMatches('.openai.com', 'api.openai.com')).toBe(true);
    expect(noProxyMatches('openai.com', 'api.openai.com')).toBe(true);
    expect(noProxyMatches('localhost', 'localhost:11434')).toBe(true);
    expect(noProxyMatches('penai.com', 'api.openai.com')).toBe(false);
  });

  it('clock skew over an hour fails (leaves are backdated a day, but not more)', () => {
    expect(skewCheck(0, 3_601_000).status).toBe('fail');
    expect(skewCheck(0, 5_000).status).toBe('ok');
  });
});

describe('archiveCheck', () => {
  it('fails while the archive fails, warns about losses once it recovered, else ok', () => {
    expect(archiveCheck(undefined).status).toBe('skip');
    expect(archiveCheck({ recorded: 5, lost: 0, healthy: true })).toMatchObject({ status: 'ok', detail: 'recording (5 records written since start, none lost)' });
    expect(archiveCheck({ recorded: 5, lost: 2, healthy: true })).toMatchObject({ status: 'warn', detail: 'recording again, but 2 records were lost since start' });
    expect(archiveCheck({ recorded: 1, lost: 1, healthy: true })).toMatchObject({ status: 'warn', detail: 'recording again, but 1 record was lost since start' });
    expect(archiveCheck({ recorded: 0, lost: 3, healthy: false })).toMatchObject({ status: 'fail', detail: 'failing: traffic is forwarded but not recorded (3 records lost since start)' });
     // Under --fail-closed nothing is forwarded while it fails: doctor says so, not the opposite.
    expect(archiveCheck({ recorded: 0, lost: 0, healthy: false, failClosed: true })).toMatchObject({ status: 'fail', detail: 'failing: intercepted requests are refused (503 archive_unavailable, --fail-closed) (0 records lost since start)' });
  });
});
