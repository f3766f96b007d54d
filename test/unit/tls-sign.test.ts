import { X509Certificate, createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { randomSerialHex, signCertificatePem, subjectPublicKeyInfoAsn1, utf8Field } from '../../src/tls/sign.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function rsaPair(modulusLength: number): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

function selfSigned(publicKeyPem: string, name = 'sign test'): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + DAY_MS);
  cert.setSubject([utf8Field('commonName', name)]);
  cert.setIssuer([utf8Field('commonName', name)]);
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'subjectKeyIdentifier' }]);
  return cert;
}

describe('signCertificatePem', () => {
  // 512-, 1024- and 2048-bit signatures put the signature BIT STRING's DER
  // length in its short, one-byte and two-byte long forms.
  it.each([512, 1024, 2048])('emits exactly what node-forge would assemble (%i-bit CA key)', (bits) => {
    const { publicKeyPem, privateKeyPem } = rsaPair(bits);
    const cert = selfSigned(publicKeyPem);
    const pem = signCertificatePem(cert, privateKeyPem);
    // signCertificatePem leaves the signed TBS and the signature on the forge object.
    expect(pem).toBe(forge.pki.certificateToPem(cert));
    const x509 = new X509Certificate(pem);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.subject).toBe('CN=sign test');
  });

  it('certifies a non-RSA key given its SubjectPublicKeyInfo', () => {
    const ca = rsaPair(2048);
    const caX509 = new X509Certificate(signCertificatePem(selfSigned(ca.publicKeyPem, 'sign test CA'), ca.privateKeyPem));
    const placeholder = rsaPair(512).publicKeyPem;
    for (const key of [
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey,
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey,
      generateKeyPairSync('ed25519').publicKey,
    ]) {
      const spki = key.export({ type: 'spki', format: 'der' });
      const cert = selfSigned(placeholder, 'EC or EdDSA key');
      cert.setIssuer([utf8Field('commonName', 'sign test CA')]);
      const pem = signCertificatePem(cert, ca.privateKeyPem, subjectPublicKeyInfoAsn1(spki).asn1);
      const x509 = new X509Certificate(pem);
      expect(x509.publicKey.export({ type: 'spki', format: 'der' }).equals(spki)).toBe(true);
      expect(x509.checkIssued(caX509)).toBe(true);
      expect(x509.verify(caX509.publicKey)).toBe(true);
    }
  });
});

describe('subjectPublicKeyInfoAsn1', () => {
  it('derives the RFC 5280 method 1 key identifier, as forge does for RSA', () => {
    const { publicKeyPem } = rsaPair(1024);
    const spki = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
    const expected = forge.pki.getPublicKeyFingerprint(forge.pki.publicKeyFromPem(publicKeyPem), {
      type: 'RSAPublicKey',
      encoding: 'hex',
    });
    expect(subjectPublicKeyInfoAsn1(spki).keyIdentifier.toString('hex')).toBe(expected);
  });

  it('keeps key bits that happen to look like ASN.1 intact', () => {
    // BIT STRING contents 30 03 02 01 05 parse as SEQUENCE { INTEGER 5 }.
    const keyBits = Buffer.from('3003020105', 'hex');
    const algorithm = Buffer.from('301306072a8648ce3d020106082a8648ce3d030107', 'hex');
    const bitString = Buffer.concat([Buffer.of(0x03, keyBits.length + 1, 0), keyBits]);
    const spki = Buffer.concat([Buffer.of(0x30, algorithm.length + bitString.length), algorithm, bitString]);
    const { asn1, keyIdentifier } = subjectPublicKeyInfoAsn1(spki);
    expect(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary').equals(spki)).toBe(true);
    expect(keyIdentifier.equals(createHash('sha1').update(keyBits).digest())).toBe(true);
  });

  it('rejects DER that is not a SubjectPublicKeyInfo', () => {
    expect(() => subjectPublicKeyInfoAsn1(Buffer.from('020105', 'hex'))).toThrow();
    expect(() => subjectPublicKeyInfoAsn1(Buffer.from('3003020105', 'hex'))).toThrow(/BIT STRING/);
  });
});
