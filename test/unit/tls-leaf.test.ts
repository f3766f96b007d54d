import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
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

const DUMMY_RSA_KEY = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3', 10), new forge.jsbn.BigInteger('65537', 10));

/**
 * The leaf as a node-forge certificate, for reading its extensions. forge
 * cannot read EC keys, so the subjectPublicKeyInfo is swapped for a dummy
 * RSA key first; everything else is parsed as issued.
 */
function forgeView(pem: string): forge.pki.Certificate {
  const asn1 = forge.asn1.fromDer(new X509Certificate(pem).raw.toString('binary'));
  const tbs = (asn1.value as forge.asn1.Asn1[])[0]!;
  (tbs.value as forge.asn1.Asn1[])[6] = forge.pki.publicKeyToAsn1(DUMMY_RSA_KEY);
  return forge.pki.certificateFromAsn1(asn1);
}

function leafFor(host: string): X509Certificate {
  return new X509Certificate(leafs.certificatePemFor(host));
}

function authorityKeyId(pem: string): string {
  const ext = forgeView(pem).getExtension('authorityKeyIdentifier') as { value: string } | undefined;
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
    const cert = forgeView(pem);
    // An ECDSA key only signs: keyEncipherment (RSA key transport) must be absent.
    expect(cert.getExtension('keyUsage')).toMatchObject({
      critical: true,
      digitalSignature: true,
      keyEncipherment: false,
      keyAgreement: false,
      keyCertSign: false,
      cRLSign: false,
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

  it('shares one ECDSA P-256 public key across all leaves, matching keyPem', () => {
    const keys = new Set(
      ['a.example.com', 'b.example.com', '10.0.0.1', '::2'].map((h) =>
        leafFor(h).publicKey.export({ type: 'spki', format: 'der' }).toString('hex'),
      ),
    );
    expect(keys.size).toBe(1);
    const leaf = leafFor('a.example.com');
    expect(leaf.publicKey.asymmetricKeyType).toBe('ec');
    expect(leaf.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(leafs.keyPem).toContain('-----BEGIN PRIVATE KEY-----');
    expect(leaf.checkPrivateKey(createPrivateKey(leafs.keyPem))).toBe(true);
  });

  it('has a SKI computed from the EC public key (RFC 5280 method 1)', () => {
    const leaf = leafFor('ski.example.com');
    const jwk = leaf.publicKey.export({ format: 'jwk' });
    // The subjectPublicKey BIT STRING holds the uncompressed point 04 || x || y.
    const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    const ski = forgeView(leafs.certificatePemFor('ski.example.com')).getExtension(
      'subjectKeyIdentifier',
    ) as { subjectKeyIdentifier: string } | undefined;
    expect(ski?.subjectKeyIdentifier).toBe(createHash('sha1').update(point).digest('hex'));
  });

  it('is signed sha256WithRSAEncryption and its DER survives an independent re-encode', () => {
    const pem = leafs.certificatePemFor('der.example.com');
    const x509 = new X509Certificate(pem);
    // certificateFromPem cannot read EC keys, so re-encode with forge's generic ASN.1 only.
    const asn1 = forge.asn1.fromDer(x509.raw.toString('binary'));
    expect(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary').equals(x509.raw)).toBe(true);
    const sigAlg = (asn1.value as forge.asn1.Asn1[])[1]!;
    const oid = forge.asn1.derToOid((sigAlg.value as forge.asn1.Asn1[])[0]!.value as string);
    expect(oid).toBe(forge.pki.oids['sha256WithRSAEncryption']);
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\r\n([A-Za-z0-9+/=]{64}\r\n)*[A-Za-z0-9+/=]{1,64}\r\n-----END CERTIFICATE-----\r\n$/);
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
    expect(forgeView(pem).getExtension('subjectAltName')).toMatchObject({ critical: true });
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
      expect(socket.getPeerX509Certificate()?.publicKey.asymmetricKeyType).toBe('ec');
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it('completes a TLS 1.2 handshake with an ECDHE-ECDSA suite', async () => {
    const server = tls.createServer({ SNICallback: (name, cb) => cb(null, leafs.secureContextFor(name)) }, (s) =>
      s.end(),
    );
    const port = await listen(server);
    try {
      const socket = await connect({
        port,
        host: '127.0.0.1',
        servername: 'tls12.openai.com',
        ca: ca.certPem,
        maxVersion: 'TLSv1.2',
      });
      expect(socket.authorized).toBe(true);
      expect(socket.getProtocol()).toBe('TLSv1.2');
      expect(socket.getCipher().name).toMatch(/^ECDHE-ECDSA-/);
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

describe('command-line clients against a minted leaf', () => {
  const caFile = path.join(tmpRoot, 'ca.pem');
  fs.writeFileSync(caFile, ca.certPem);
  // Neither tool may fall back on a trust store chosen by the environment.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(CURL_CA_BUNDLE|SSL_CERT_FILE|SSL_CERT_DIR)$/.test(name)),
  );

  function run(
    file: string,
    args: string[],
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile(file, args, { env, timeout: 15_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
      child.stdin?.end();
    });
  }

  function available(file: string, versionArgs: string[]): boolean {
    try {
      execFileSync(file, versionArgs, { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  async function withHttpsServer(fn: (port: number) => Promise<void>): Promise<void> {
    const server = https.createServer(
      {
        SNICallback: (name, cb) => cb(null, leafs.secureContextFor(name)),
        // Presented to clients that send no SNI, i.e. those connecting to an IP address.
        key: leafs.keyPem,
        cert: leafs.certificatePemFor('127.0.0.1'),
      },
      (_req, res) => res.end('hello over ecdsa\n'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await fn((server.address() as net.AddressInfo).port);
    } finally {
      server.close();
    }
  }

  it.skipIf(!available('curl', ['--version']))('curl --cacert trusts the leaf over TLS 1.3 and 1.2, for names and IPs', async () => {
    await withHttpsServer(async (port) => {
      const resolve = ['--resolve', `api.openai.com:${port}:127.0.0.1`];
      const base = ['--silent', '--show-error', '--max-time', '10', '--cacert', caFile];
      for (const versions of [['--tlsv1.3'], ['--tlsv1.2', '--tls-max', '1.2']]) {
        const byName = await run('curl', [...base, ...versions, ...resolve, `https://api.openai.com:${port}/`]);
        expect(byName, versions.join(' ')).toMatchObject({ code: 0, stdout: 'hello over ecdsa\n' });
      }
      const byIp = await run('curl', [...base, `https://127.0.0.1:${port}/`]);
      expect(byIp).toMatchObject({ code: 0, stdout: 'hello over ecdsa\n' });

      // Trusting only the public roots, curl refuses (60: peer certificate cannot be authenticated).
      const publicRoots = path.join(tmpRoot, 'public-roots.pem');
      fs.writeFileSync(publicRoots, tls.rootCertificates.join('\n'));
      const untrusted = await run('curl', [...base.slice(0, -2), '--cacert', publicRoots, ...resolve, `https://api.openai.com:${port}/`]);
      expect(untrusted.code).toBe(60);
    });
  });

  it.skipIf(!available('openssl', ['version']))('sends the leaf alone, signing the handshake with ECDSA', async () => {
    await withHttpsServer(async (port) => {
      const { stdout } = await run('openssl', [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-servername',
        'api.anthropic.com',
        '-CAfile',
        caFile,
        '-showcerts',
      ]);
      expect(stdout.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(1);
      expect(stdout).toContain('Verify return code: 0 (ok)');
      expect(stdout).toMatch(/Peer signature type: ECDSA/);
    });
  });
});
