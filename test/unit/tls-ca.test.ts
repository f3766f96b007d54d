import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import forge from 'node-forge';
import { afterAll, describe, expect, it } from 'vitest';
import { caCertDer, loadOrCreateCa, writeTrustBundle } from '../../src/tls/ca.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'llmtap-ca-test-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

let dirCount = 0;
function freshDir(): string {
  return path.join(tmpRoot, `certs-${dirCount++}`, 'nested');
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

const DAY_MS = 24 * 60 * 60 * 1000;

describe('loadOrCreateCa', () => {
  const dir = freshDir();
  const first = loadOrCreateCa(dir);
  const { ca } = first;

  it('creates a private directory, a 0600 key and a 0644 certificate', () => {
    expect(first.created).toBe(true);
    expect(first.warnings).toEqual([]);
    expect(mode(dir)).toBe(0o700);
    expect(ca.keyPath).toBe(path.join(dir, 'llmtap-ca-key.pem'));
    expect(ca.certPath).toBe(path.join(dir, 'llmtap-ca.pem'));
    expect(mode(ca.keyPath)).toBe(0o600);
    expect(mode(ca.certPath)).toBe(0o644);
    expect(fs.readFileSync(ca.keyPath, 'utf8')).toBe(ca.keyPem);
    expect(ca.keyPem).toContain('-----BEGIN PRIVATE KEY-----');
    expect(fs.readFileSync(ca.certPath, 'utf8')).toBe(ca.certPem);
  });

  it('is a self-signed 10-year CA with a per-install name', () => {
    const x509 = new X509Certificate(ca.certPem);
    expect(x509.ca).toBe(true);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.checkIssued(x509)).toBe(true);
    expect(x509.subject).toMatch(/^CN=llmtap CA [0-9a-f]{8}\nO=llmtap$/);
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.fingerprint256).toBe(ca.fingerprint256);
    expect(x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);

    const notBefore = Date.parse(x509.validFrom);
    const notAfter = Date.parse(x509.validTo);
    expect(Math.abs(Date.now() - DAY_MS - notBefore)).toBeLessThan(60_000);
    const years = (notAfter - Date.now()) / (365.25 * DAY_MS);
    expect(years).toBeGreaterThan(9.99);
    expect(years).toBeLessThan(10.01);
  });

  it('has critical basicConstraints and keyUsage, a SKI, and a positive serial', () => {
    const cert = forge.pki.certificateFromPem(ca.certPem);
    expect(cert.getExtension('basicConstraints')).toMatchObject({ cA: true, critical: true });
    expect(cert.getExtension('keyUsage')).toMatchObject({
      critical: true,
      keyCertSign: true,
      cRLSign: true,
      digitalSignature: false,
    });
    const ski = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string } | undefined;
    expect(ski?.subjectKeyIdentifier).toMatch(/^[0-9a-f]{40}$/);
    expect(ca.subjectKeyId.toString('hex')).toBe(ski?.subjectKeyIdentifier);
    expect(cert.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(cert.siginfo.algorithmOid).toBe(forge.pki.oids['sha256WithRSAEncryption']);
  });

  it('returns the DER encoding', () => {
    expect(caCertDer(ca).equals(new X509Certificate(ca.certPem).raw)).toBe(true);
  });

  it('loads the same CA on the next call', () => {
    const again = loadOrCreateCa(dir);
    expect(again.created).toBe(false);
    expect(again.ca.fingerprint256).toBe(ca.fingerprint256);
    expect(again.ca.keyPem).toBe(ca.keyPem);
    expect(again.ca.subjectKeyId.equals(ca.subjectKeyId)).toBe(true);
  });

  it('creates a different CA in a different directory', () => {
    const other = loadOrCreateCa(freshDir()).ca;
    expect(other.fingerprint256).not.toBe(ca.fingerprint256);
    expect(new X509Certificate(other.certPem).subject).not.toBe(new X509Certificate(ca.certPem).subject);
  });
});

describe('loadOrCreateCa refusals and warnings', () => {
  it('refuses a key readable by group or other, naming the file and the fix', () => {
    const dir = freshDir();
    const { ca } = loadOrCreateCa(dir);
    fs.chmodSync(ca.keyPath, 0o644);
    expect(() => loadOrCreateCa(dir)).toThrow(/llmtap-ca-key\.pem.*0644.*chmod 600/s);
    fs.chmodSync(ca.keyPath, 0o600);
    expect(loadOrCreateCa(dir).ca.fingerprint256).toBe(ca.fingerprint256);
  });

  it('warns about a directory open to group or other', () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const result = loadOrCreateCa(dir);
    expect(result.created).toBe(true);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain('0755');
  });

  it('refuses when only one of the two files exists', () => {
    const dir = freshDir();
    const { ca } = loadOrCreateCa(dir);
    fs.rmSync(ca.certPath);
    expect(() => loadOrCreateCa(dir)).toThrow(/llmtap-ca-key\.pem exists but .*llmtap-ca\.pem does not/);

    const dir2 = freshDir();
    const { ca: ca2 } = loadOrCreateCa(dir2);
    fs.rmSync(ca2.keyPath);
    expect(() => loadOrCreateCa(dir2)).toThrow(/llmtap-ca\.pem exists but .*llmtap-ca-key\.pem does not/);
  });

  it('refuses a key that does not belong to the certificate', () => {
    const a = loadOrCreateCa(freshDir()).ca;
    const b = loadOrCreateCa(freshDir()).ca;
    fs.copyFileSync(b.keyPath, a.keyPath);
    expect(() => loadOrCreateCa(path.dirname(a.keyPath))).toThrow(/does not match/);
  });
});

describe('writeTrustBundle', () => {
  it('writes system roots followed by the llmtap CA', () => {
    const { ca } = loadOrCreateCa(freshDir());
    const out = path.join(tmpRoot, 'bundle.pem');
    writeTrustBundle(ca, out);
    const bundle = fs.readFileSync(out, 'utf8');
    expect(bundle).toContain(ca.certPem.trim());

    const pems = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    expect(pems.length).toBeGreaterThan(1);
    const fingerprints = new Set(pems.map((pem) => new X509Certificate(pem).fingerprint256));
    expect(fingerprints.has(ca.fingerprint256)).toBe(true);
    const systemRoot = tls.rootCertificates.some((root) =>
      fingerprints.has(new X509Certificate(root).fingerprint256),
    );
    expect(systemRoot).toBe(true);
    // The bundle is usable as-is as a trust store.
    expect(() => tls.createSecureContext({ ca: bundle })).not.toThrow();
  });
});
