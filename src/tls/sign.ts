import { randomBytes, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

// The typings omit getTBSCertificate even though node-forge exports it.
type PkiWithTbs = typeof forge.pki & {
  getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1;
};

/**
 * A random, positive, minimally encoded 16-byte serial as hex, the form
 * node-forge expects. A leading byte of 0x01..0x7f keeps the DER INTEGER
 * positive without needing a 0x00 pad byte.
 */
export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) || 0x01;
  return bytes.toString('hex');
}

/**
 * Signs a node-forge certificate with sha256WithRSAEncryption using Node's
 * native crypto and returns it as PEM. node-forge's own RSA is pure JS and
 * far too slow to run per intercepted host; we only use it to build ASN.1.
 */
export function signCertificatePem(cert: forge.pki.Certificate, privateKey: KeyObject | string): string {
  const sha256WithRsa = forge.pki.oids['sha256WithRSAEncryption']!;
  cert.siginfo.algorithmOid = sha256WithRsa;
  cert.signatureOid = sha256WithRsa;
  const tbs = (forge.pki as PkiWithTbs).getTBSCertificate(cert);
  // Pin the exact TBS we signed: certificateToAsn1 reuses a cached
  // tbsCertificate, so the emitted bytes cannot drift from the signed ones.
  cert.tbsCertificate = tbs;
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  cert.signature = sign('sha256', tbsDer, privateKey).toString('binary');
  return forge.pki.certificateToPem(cert);
}

/**
 * A subject/issuer attribute encoded as UTF8String (RFC 5280's default).
 * node-forge otherwise picks PrintableString, which cannot hold "_" and so
 * would produce invalid DER for hosts like "my_host.internal".
 */
export function utf8Field(name: string, value: string): forge.pki.CertificateField {
  // The typings declare valueTagClass as an asn1.Class, but node-forge reads it as an asn1.Type.
  return { name, value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class };
}
