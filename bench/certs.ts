import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { generateRsaKeyPair } from '../src/tls/rsa-key.js';
import { randomSerialHex, signCertificatePem } from '../src/tls/sign.js';

/** Names the fake provider answers for; one certificate covers them all, so it never mints. */
export const FAKE_DNS_NAMES = ['api.openai.com', 'api.anthropic.com', 'bench.test', '*.bench.test', '*.tunnel.test', 'localhost'];

export interface FakeCerts {
  caFile: string;
  caPem: string;
  keyPem: string;
  certPem: string;
}

const DAY_MS = 86_400_000;

/** A certificate for `publicKeyPem`, valid from yesterday for 30 days, names and extensions still to set. */
function newCertificate(publicKeyPem: string): forge.pki.Certificate {
  const now = Date.now();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(now - DAY_MS);
  cert.validity.notAfter = new Date(now + 30 * DAY_MS);
  return cert;
}

/** A throwaway CA and one leaf for every FAKE_DNS_NAMES entry plus 127.0.0.1, written to `dir`. */
export function makeFakeCerts(dir: string): FakeCerts {
  const caKeys = generateRsaKeyPair();
  const ca = newCertificate(caKeys.publicKeyPem);
  const caName = [{ name: 'commonName', value: 'llmtap bench fake provider CA' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const caPem = signCertificatePem(ca, caKeys.privateKeyPem);

  const leafKeys = generateRsaKeyPair();
  const leaf = newCertificate(leafKeys.publicKeyPem);
  leaf.setSubject([{ name: 'commonName', value: 'api.openai.com' }]);
  leaf.setIssuer(caName);
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...FAKE_DNS_NAMES.map((value) => ({ type: 2, value })), { type: 7, ip: '127.0.0.1' }] },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  const certPem = signCertificatePem(leaf, caKeys.privateKeyPem);

  const caFile = join(dir, 'fake-ca.pem');
  writeFileSync(caFile, caPem);
  writeFileSync(join(dir, 'fake-leaf.pem'), certPem);
  writeFileSync(join(dir, 'fake-leaf-key.pem'), leafKeys.privateKeyPem, { mode: 0o600 });
  return { caFile, caPem, keyPem: leafKeys.privateKeyPem, certPem };
}
