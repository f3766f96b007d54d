import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import type forge from 'node-forge';
import { nodeForge } from './forge.js';

// The typings omit getTBSCertificate even though node-forge exports it.
type PkiWithTbs = typeof forge.pki & {
  getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1;
};

/** Index of subjectPublicKeyInfo in TBSCertificate: after version [0], serial, signature, issuer, validity, subject. */
const TBS_SPKI_INDEX = 6;

/** AlgorithmIdentifier { sha256WithRSAEncryption (1.2.840.113549.1.1.11), NULL }. */
const SHA256_WITH_RSA_ALGORITHM_DER = Buffer.from('300d06092a864886f70d01010b0500', 'hex');

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
 * far too slow to run per intercepted host; we only use it to build the
 * TBSCertificate's ASN.1.
 *
 * node-forge can only represent RSA public keys. To certify any other key
 * (the ECDSA leaf key), set cert.publicKey to any RSA key as a placeholder
 * and pass the real key's SubjectPublicKeyInfo (see subjectPublicKeyInfoAsn1),
 * which replaces the placeholder's before signing. Extensions derived from
 * the public key (subjectKeyIdentifier) must then be given explicit values.
 */
export function signCertificatePem(
  cert: forge.pki.Certificate,
  privateKey: KeyObject | string,
  subjectPublicKeyInfo?: forge.asn1.Asn1,
): string {
  const { pki, asn1 } = nodeForge();
  const sha256WithRsa = pki.oids['sha256WithRSAEncryption']!;
  cert.siginfo.algorithmOid = sha256WithRsa;
  cert.signatureOid = sha256WithRsa;
  const tbs = (pki as PkiWithTbs).getTBSCertificate(cert);
  if (subjectPublicKeyInfo) {
    const fields = tbs.value as forge.asn1.Asn1[];
    if (fields.length <= TBS_SPKI_INDEX) throw new Error('unexpected TBSCertificate layout');
    fields[TBS_SPKI_INDEX] = subjectPublicKeyInfo;
  }
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, privateKey);
  // Keep the forge object consistent with what was issued, so anything that
  // later serialises it (certificateToAsn1 prefers a cached tbsCertificate)
  // gets these exact bytes.
  cert.tbsCertificate = tbs;
  cert.signature = signature.toString('binary');
  return derToPem('CERTIFICATE', certificateDer(tbsDer, signature));
}

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING },
 * assembled from the already-encoded TBS instead of having node-forge
 * re-encode the whole ASN.1 tree a second time. Same bytes as
 * forge.pki.certificateToAsn1 for sha256WithRSAEncryption.
 */
function certificateDer(tbsDer: Buffer, signature: Buffer): Buffer {
  // BIT STRING contents start with the number of unused bits: 0.
  const signatureValue = derTlv(0x03, Buffer.concat([Buffer.of(0), signature]));
  return derTlv(0x30, Buffer.concat([tbsDer, SHA256_WITH_RSA_ALGORITHM_DER, signatureValue]));
}

function derTlv(tag: number, contents: Buffer): Buffer {
  return Buffer.concat([Buffer.of(tag), derLength(contents.length), contents]);
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.of(0x80 | bytes.length, ...bytes);
}

/** PEM with 64-character lines and CRLF line ends, as node-forge writes it. */
function derToPem(label: string, der: Buffer): string {
  const base64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\r\n${lines.join('\r\n')}\r\n-----END ${label}-----\r\n`;
}

/**
 * A SubjectPublicKeyInfo DER (as KeyObject#export({ type: 'spki', format: 'der' })
 * gives) as a node-forge ASN.1 node for signCertificatePem, plus the RFC 5280
 * method 1 key identifier: SHA-1 of the subjectPublicKey BIT STRING's
 * contents, less its unused-bits byte.
 */
export function subjectPublicKeyInfoAsn1(spkiDer: Buffer): { asn1: forge.asn1.Asn1; keyIdentifier: Buffer } {
  // Without decodeBitStrings: false, forge tries to parse the key bits as
  // nested ASN.1 and, for some keys, would succeed and mangle them.
  const forgeAsn1 = nodeForge().asn1;
  const fromDer = forgeAsn1.fromDer as unknown as (
    bytes: string,
    options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean },
  ) => forge.asn1.Asn1;
  const asn1 = fromDer(spkiDer.toString('binary'), { strict: true, parseAllBytes: true, decodeBitStrings: false });
  if (Buffer.from(forgeAsn1.toDer(asn1).getBytes(), 'binary').compare(spkiDer) !== 0) {
    throw new Error('SubjectPublicKeyInfo does not re-encode to the same DER');
  }
  const bits = (asn1.value as forge.asn1.Asn1[])[1];
  if (!bits || bits.type !== forgeAsn1.Type.BITSTRING || typeof bits.value !== 'string' || bits.value[0] !== '\0') {
    throw new Error('SubjectPublicKeyInfo has no whole-byte subjectPublicKey BIT STRING');
  }
  const keyIdentifier = createHash('sha1').update(Buffer.from(bits.value.slice(1), 'binary')).digest();
  return { asn1, keyIdentifier };
}

/**
 * A subject/issuer attribute encoded as UTF8String (RFC 5280's default).
 * node-forge otherwise picks PrintableString, which cannot hold "_" and so
 * would produce invalid DER for hosts like "my_host.internal".
 */
export function utf8Field(name: string, value: string): forge.pki.CertificateField {
  // The typings declare valueTagClass as an asn1.Class, but node-forge reads it as an asn1.Type.
  return { name, value, valueTagClass: nodeForge().asn1.Type.UTF8 as unknown as forge.asn1.Class };
}
