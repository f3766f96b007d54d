import { generateKeyPairSync } from 'node:crypto';

export interface RsaKeyPairPem {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
}

/** RSA-2048 via OpenSSL: milliseconds, where node-forge's JS keygen takes seconds. */
export function generateRsaKeyPair(): RsaKeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
