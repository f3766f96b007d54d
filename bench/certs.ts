import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/** Names the fake provider answers for; one certificate covers them all, so it never mints. */
export const FAKE_DNS_NAMES = ['api.openai.com', 'api.anthropic.com', 'bench.test', '*.bench.test', '*.tunnel.test', 'localhost'];

export interface FakeCerts {
  caFile: string;
  caPem: string;
  keyPem: string;
  certPem: string;
}

function rsaPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** node-forge builds the ASN.1; Node's crypto does the RSA signature (forge's JS RSA is slow). */
function signPem(cert: forge.pki.Certificate, keyPem: string): string {
  const oid = forge.pki.oids['sha256WithRSAEncryption']!;
  cert.siginfo.algorithmOid = oid;
  cert.signatureOid = oid;
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  cert.tbsCertificate = tbs;
  const der = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  cert.signature = sign('sha256', der, createPrivateKey(keyPem)).toString('binary');
  return forge.pki.certificateToPem(cert);
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) || 1;
  return b.toString('hex');
}

/** A throwaway CA and one leaf for every FAKE_DNS_NAMES entry plus 127.0.0.1, written to `dir`. */
export function makeFakeCerts(dir: string): FakeCerts {
  const now = Date.now();
  const day = 86_400_000;
  const caKeys = rsaPair();
  const ca = forge.pki.createCertificate();
  ca.publicKey = forge.pki.publicKeyFromPem(caKeys.publicKeyPem);
  ca.serialNumber = serial();
  ca.validity.notBefore = new Date(now - day);
  ca.validity.notAfter = new Date(now + 30 * day);
  const caName = [{ name: 'commonName', value: 'llmtap bench fake provider CA' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const caPem = signPem(ca, caKeys.privateKeyPem);

  const leafKeys = rsaPair();
  const leaf = forge.pki.createCertificate();
  leaf.publicKey = forge.pki.publicKeyFromPem(leafKeys.publicKeyPem);
  leaf.serialNumber = serial();
  leaf.validity.notBefore = new Date(now - day);
  leaf.validity.notAfter = new Date(now + 30 * day);
  leaf.setSubject([{ name: 'commonName', value: 'api.openai.com' }]);
  leaf.setIssuer(caName);
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...FAKE_DNS_NAMES.map((value) => ({ type: 2, value })), { type: 7, ip: '127.0.0.1' }] },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  const certPem = signPem(leaf, caKeys.privateKeyPem);

  const caFile = join(dir, 'fake-ca.pem');
  writeFileSync(caFile, caPem);
  writeFileSync(join(dir, 'fake-leaf.pem'), certPem);
  writeFileSync(join(dir, 'fake-leaf-key.pem'), leafKeys.privateKeyPem, { mode: 0o600 });
  return { caFile, caPem, keyPem: leafKeys.privateKeyPem, certPem };
}
