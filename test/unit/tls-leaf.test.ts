import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import forge from 'node-forge';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateCa } from '../../src/tls/ca.js';
import { LeafCertificates } from '../../src/tls/leaf.js';
import { randomSerialHex, signCertificatePem } from '../../src/tls/sign.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'llmtap-leaf-test-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
const { ca } = loadOrCreateCa(path.join(tmpRoot, 'certs'));
const caX509 = new X509Certificate(ca.certPem);
const leafs = new LeafCertificates(ca);

/**
 * A throwaway CA with a 512-bit key. Signing dominates minting cost, and the
 * cache tests mint thousands of leaves whose signatures nobody checks.
 */
function weakTestCa(): { certPem: string; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 512,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + 3650 * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: 'weak test CA' }]);
  cert.setIssuer([{ name: 'commonName', value: 'weak test CA' }]);
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'subjectKeyIdentifier' }]);
  return { certPem: signCertificatePem(cert, privateKey), keyPem: privateKey };
}

function leafFor(host: string): X509Certificate {
  return new X509Certificate(leafs.certificatePemFor(host));
}

function authorityKeyId(pem: string): string {
  const ext = forge.pki.certificateFromPem(pem).getExtension('authorityKeyIdentifier') as { value: string } | undefined;
  if (!ext) throw new Error('no authorityKeyIdentifier');
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING, ... }
  const seq = forge.asn1.fromDer(ext.value);
  const keyId = (seq.value as forge.asn1.Asn1[]).find((child) => child.type === 0);
  return Buffer.from(keyId?.value as string, 'binary').toString('hex');
}

describe('leaf certificate contents', () => {
  it('uses a DNS SAN and CN for a host name', () => {
    const leaf = leafFor('api.openai.com');
    expect(leaf.subjectAltName).toBe('DNS:api.openai.com');
    expect(leaf.subject).toBe('CN=api.openai.com');
    expect(leaf.issuer).toBe(caX509.subject);
    expect(leaf.checkHost('api.openai.com')).toBe('api.openai.com');
    expect(leaf.checkHost('evil.example.com')).toBeUndefined();
  });

  it('uses IP SANs for IPv4 and IPv6 addresses', () => {
    const v4 = leafFor('1.2.3.4');
    expect(v4.subjectAltName).toBe('IP Address:1.2.3.4');
    expect(v4.checkIP('1.2.3.4')).toBe('1.2.3.4');

    const v6 = leafFor('::1');
    expect(v6.subjectAltName).toBe('IP Address:0:0:0:0:0:0:0:1');
    expect(v6.checkIP('::1')).toBe('::1');
    expect(leafs.certificatePemFor('[::1]')).toBe(leafs.certificatePemFor('::1'));
    expect(leafFor('2001:db8::ff00:42:8329').checkIP('2001:db8:0:0:0:ff00:42:8329')).toBe('2001:db8:0:0:0:ff00:42:8329');
  });

  it('has serverAuth EKU, leaf key usage and no CA rights', () => {
    const pem = leafs.certificatePemFor('api.anthropic.com');
    expect(new X509Certificate(pem).keyUsage).toEqual([SERVER_AUTH]);
    expect(new X509Certificate(pem).ca).toBe(false);
    const cert = forge.pki.certificateFromPem(pem);
    expect(cert.getExtension('keyUsage')).toMatchObject({
      critical: true,
      digitalSignature: true,
      keyEncipherment: true,
      keyCertSign: false,
    });
    expect(cert.getExtension('basicConstraints')).toMatchObject({ cA: false });
    expect(cert.getExtension('subjectKeyIdentifier')).toBeTruthy();
    expect(cert.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
  });

  it('points its AKI at the CA SKI', () => {
    expect(authorityKeyId(leafs.certificatePemFor('api.openai.com'))).toBe(ca.subjectKeyId.toString('hex'));
  });

  it('is valid for under 200 days, starting a day back', () => {
    const leaf = leafFor('validity.example.com');
    const notBefore = Date.parse(leaf.validFrom);
    const notAfter = Date.parse(leaf.validTo);
    expect(Math.abs(Date.now() - DAY_MS - notBefore)).toBeLessThan(60_000);
    expect(Math.abs(Date.now() + 180 * DAY_MS - notAfter)).toBeLessThan(60_000);
    expect((notAfter - notBefore) / DAY_MS).toBeLessThan(200);
  });

  it('is signed by the CA', () => {
    const leaf = leafFor('api.openai.com');
    expect(leaf.verify(caX509.publicKey)).toBe(true);
    expect(leaf.checkIssued(caX509)).toBe(true);
    expect(leaf.verify(leaf.publicKey)).toBe(false);
  });

  it('shares one public key across all leaves', () => {
    const keys = new Set(
      ['a.example.com', 'b.example.com', '10.0.0.1', '::2'].map((h) =>
        leafFor(h).publicKey.export({ type: 'spki', format: 'der' }).toString('hex'),
      ),
    );
    expect(keys.size).toBe(1);
    expect(leafFor('a.example.com').publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('treats names case-insensitively and ignores a trailing dot', () => {
    const pem = leafs.certificatePemFor('api.example.org');
    expect(leafs.certificatePemFor('API.Example.ORG.')).toBe(pem);
  });

  it('omits the CN for a name longer than 64 characters and marks the SAN critical', () => {
    const host = `${'a'.repeat(60)}.example.com`;
    const pem = leafs.certificatePemFor(host);
    const leaf = new X509Certificate(pem);
    expect(leaf.subject ?? '').toBe('');
    expect(leaf.checkHost(host)).toBe(host);
    expect(leaf.verify(caX509.publicKey)).toBe(true);
    expect(forge.pki.certificateFromPem(pem).getExtension('subjectAltName')).toMatchObject({ critical: true });
  });

  it('rejects names that cannot go in a certificate', () => {
    for (const bad of ['', '.', 'a..b', 'bad host', '*.example.com', 'ex\u00e4mple.com', `${'x'.repeat(64)}.com`]) {
      expect(() => leafs.certificatePemFor(bad), bad).toThrow(TypeError);
    }
  });

  it('rejects validity periods of 200 days or more', () => {
    expect(() => new LeafCertificates(ca, { validityDays: 199 })).toThrow(RangeError);
    expect(() => new LeafCertificates(ca, { maxEntries: 0 })).toThrow(RangeError);
  });
});

describe('leaf cache', () => {
  it('mints a repeated host once', () => {
    const before = leafs.stats();
    for (let i = 0; i < 50; i++) leafs.secureContextFor('repeat.example.com');
    leafs.certificatePemFor('repeat.example.com');
    const after = leafs.stats();
    expect(after.mints - before.mints).toBe(1);
    expect(after.hits - before.hits).toBe(50);
  });

  it('stays bounded over 10,000 hosts and keeps recently used ones', () => {
    const small = new LeafCertificates(weakTestCa(), { maxEntries: 100 });
    small.certificatePemFor('hot.example.com');
    for (let i = 0; i < 10_000; i++) {
      small.certificatePemFor(`host-${i}.example.com`);
      if (i % 50 === 0) small.certificatePemFor('hot.example.com');
      expect(small.stats().size).toBeLessThanOrEqual(100);
    }
    const { mints, size } = small.stats();
    expect(size).toBe(100);
    expect(mints).toBe(10_001);
    small.certificatePemFor('hot.example.com');
    expect(small.stats().mints).toBe(10_001);
    small.certificatePemFor('host-0.example.com');
    expect(small.stats().mints).toBe(10_002);
  });

  it('re-mints when less than a day of validity remains', () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const timed = new LeafCertificates(ca, { validityDays: 30, now: () => now });
    const first = timed.certificatePemFor('expiry.example.com');
    expect(Date.parse(new X509Certificate(first).validTo)).toBe(now + 30 * DAY_MS);

    now += 28 * DAY_MS;
    expect(timed.certificatePemFor('expiry.example.com')).toBe(first);
    now += DAY_MS + 1000;
    const second = timed.certificatePemFor('expiry.example.com');
    expect(second).not.toBe(first);
    expect(Date.parse(new X509Certificate(second).validFrom)).toBe(now - DAY_MS);
    expect(timed.stats()).toEqual({ mints: 2, hits: 1, size: 1 });
  });
});

describe('TLS handshakes with minted leaves', () => {
  function listen(server: net.Server): Promise<number> {
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  }

  function connect(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect(options, () => resolve(socket));
      socket.once('error', reject);
    });
  }

  it('verifies against the CA for an SNI name, minting once for concurrent handshakes', async () => {
    const server = tls.createServer({ SNICallback: (name, cb) => cb(null, leafs.secureContextFor(name)) }, (s) =>
      s.end(),
    );
    const port = await listen(server);
    try {
      const before = leafs.stats().mints;
      const sockets = await Promise.all(
        Array.from({ length: 10 }, () => connect({ port, host: '127.0.0.1', servername: 'concurrent.openai.com', ca: ca.certPem })),
      );
      expect(sockets.every((s) => s.authorized)).toBe(true);
      expect(leafs.stats().mints - before).toBe(1);
      sockets.forEach((s) => s.destroy());

      const socket = await connect({ port, host: '127.0.0.1', servername: 'api.openai.com', ca: ca.certPem });
      expect(socket.authorized).toBe(true);
      expect(socket.getPeerCertificate().subject.CN).toBe('api.openai.com');
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it('verifies against the CA for an IP address without SNI', async () => {
    // tls.createServer ignores a prebuilt secureContext option, so wrap raw
    // sockets the way the proxy does after CONNECT.
    const server = net.createServer((raw) => {
      const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: leafs.secureContextFor('127.0.0.1') });
      socket.on('error', () => socket.destroy());
      socket.on('secure', () => socket.end());
    });
    const port = await listen(server);
    try {
      const socket = await connect({ port, host: '127.0.0.1', ca: ca.certPem });
      expect(socket.authorized).toBe(true);
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it('fails verification without the CA', async () => {
    const server = tls.createServer({ SNICallback: (name, cb) => cb(null, leafs.secureContextFor(name)) });
    server.on('tlsClientError', () => undefined);
    const port = await listen(server);
    try {
      await expect(connect({ port, host: '127.0.0.1', servername: 'api.openai.com' })).rejects.toThrow(
        /self[- ]signed|unable to (get|verify)/i,
      );
    } finally {
      server.close();
    }
  });
});
