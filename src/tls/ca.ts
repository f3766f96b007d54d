import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type forge from 'node-forge';
import { nodeForge } from './forge.js';
import { generateRsaKeyPair } from './rsa-key.js';
import { randomSerialHex, signCertificatePem, utf8Field } from './sign.js';
import { certBeingPublished, finishAbandonedPublish, removeAbandoned } from './ca-leftovers.js';

export interface CertificateAuthority {
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
  certPath: string;
  keyPath: string;
  /** Colon-separated uppercase hex SHA-256 of the DER, as X509Certificate#fingerprint256. */
  fingerprint256: string;
  subjectKeyId: Buffer;
}

export interface LoadedCa {
  ca: CertificateAuthority;
  created: boolean;
  warnings: string[];
}

export const CA_CERT_FILE = 'llmtap-ca.pem';
export const CA_KEY_FILE = 'llmtap-ca-key.pem';

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_YEARS = 10;
const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * Loads the CA from certsDir, creating it on first use. Refuses a private key
 * readable by group/other: whoever can read it can impersonate any HTTPS site
 * to every client that trusts this CA.
 */
export function loadOrCreateCa(certsDir: string): LoadedCa {
  const warnings: string[] = [];
  ensurePrivateDir(certsDir, warnings);

  const certPath = path.join(certsDir, CA_CERT_FILE);
  const keyPath = path.join(certsDir, CA_KEY_FILE);
  const haveCert = fs.existsSync(certPath);
  const haveKey = fs.existsSync(keyPath);

  if (haveCert && haveKey) {
    return { ca: loadCa(certPath, keyPath), created: false, warnings };
  }
  // A key just published without its certificate yet: another llmtap is finishing its CA.
  if (haveKey && !haveCert && certBeingPublished(certPath) && waitForCert(certPath)) {
    return { ca: loadCa(certPath, keyPath), created: false, warnings };
  }
  // Or one that was killed doing so (ca-leftovers.ts): its publish is finished here.
  if (haveKey && !haveCert && finishAbandonedPublish(certPath, keyPath)) {
    removeAbandoned(certsDir, [CA_CERT_FILE, CA_KEY_FILE]);
    return { ca: loadCa(certPath, keyPath), created: false, warnings };
  }
  if (haveCert !== haveKey) {
    const [present, missing] = haveCert ? [certPath, keyPath] : [keyPath, certPath];
    throw incompleteCa(present, missing);
  }
  const ca = createCa(certPath, keyPath);
  if (ca) return { ca, created: true, warnings };
  // Another llmtap published its CA first (two commands started at once on a fresh home): use that one.
  if (!waitForCert(certPath)) throw incompleteCa(keyPath, certPath);
  return { ca: loadCa(certPath, keyPath), created: false, warnings };
}

function incompleteCa(present: string, missing: string): Error {
  return new Error(
    `llmtap CA is incomplete: ${present} exists but ${missing} does not. ` +
      `Restore the missing file, or delete ${present} to generate a new CA (clients must then trust the new one).`,
  );
}

export function caCertDer(ca: Pick<CertificateAuthority, 'certPem'>): Buffer {
  return new X509Certificate(ca.certPem).raw;
}

/**
 * Writes system roots plus the llmtap CA as one PEM file. Tools that take a
 * single bundle (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) replace
 * rather than extend their roots, so the public roots must come along or
 * every non-intercepted host would fail verification.
 */
export function writeTrustBundle(ca: Pick<CertificateAuthority, 'certPem'>, outPath: string): void {
  const roots = fs.existsSync(SYSTEM_BUNDLE)
    ? fs.readFileSync(SYSTEM_BUNDLE, 'utf8')
    : tls.rootCertificates.join('\n');
  const subject = new X509Certificate(ca.certPem).subject.replace(/\n/g, ', ');
  const bundle = `${roots.trimEnd()}\n\n# ${subject}\n${ca.certPem.trim()}\n`;
  // Write-then-rename so a client starting meanwhile never reads half a bundle.
  const tmp = `${outPath}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, bundle, { mode: 0o644 });
    fs.renameSync(tmp, outPath);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** The CA's subjectKeyIdentifier, computed the RFC 5280 way if the extension is absent. */
export function subjectKeyIdOf(cert: forge.pki.Certificate): Buffer {
  const ext = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  if (ext?.subjectKeyIdentifier) return Buffer.from(ext.subjectKeyIdentifier, 'hex');
  const digest = nodeForge().pki.getPublicKeyFingerprint(cert.publicKey, { type: 'RSAPublicKey', encoding: 'hex' });
  return Buffer.from(digest, 'hex');
}

function ensurePrivateDir(dir: string, warnings: string[]): void {
  if (fs.existsSync(dir)) {
    const mode = fs.statSync(dir).mode & 0o777;
    if (mode & 0o077) {
      warnings.push(`certificate directory ${dir} has mode ${octal(mode)}; consider chmod 700 ${dir}`);
    }
    return;
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

function loadCa(certPath: string, keyPath: string): CertificateAuthority {
  const keyMode = fs.statSync(keyPath).mode & 0o777;
  if (keyMode & 0o077) {
    throw new Error(
      `refusing to use CA private key ${keyPath}: its mode ${octal(keyMode)} lets other users read it. ` +
        `Run: chmod 600 ${keyPath}`,
    );
  }
  const certPem = fs.readFileSync(certPath, 'utf8');
  const keyPem = fs.readFileSync(keyPath, 'utf8');

  const x509 = new X509Certificate(certPem);
  if (!x509.ca) throw new Error(`${certPath} is not a CA certificate (basicConstraints cA is not set)`);
  // Leaves are signed as sha256WithRSAEncryption, so a swapped-in EC CA cannot work.
  if (x509.publicKey.asymmetricKeyType !== 'rsa') throw new Error(`${certPath} must hold an RSA key`);
  if (!x509.checkPrivateKey(createPrivateKey(keyPem))) {
    throw new Error(`${keyPath} does not match the certificate in ${certPath}`);
  }
  return {
    certPem,
    keyPem,
    certPath,
    keyPath,
    fingerprint256: x509.fingerprint256,
    subjectKeyId: subjectKeyIdOf(nodeForge().pki.certificateFromPem(certPem)),
  };
}

/**
 * Replaces the CA with a new one (new key, new name): every client must trust the
 * new certificate, and leaves of the old one stop working. `extensions` adds to the
 * CA's own (say a NameConstraints extension).
 */
export function regenerateCa(certsDir: string, extensions: object[] = []): CertificateAuthority {
  ensurePrivateDir(certsDir, []);
  const certPath = path.join(certsDir, CA_CERT_FILE);
  const keyPath = path.join(certsDir, CA_KEY_FILE);
  fs.rmSync(certPath, { force: true });
  fs.rmSync(keyPath, { force: true });
  const ca = createCa(certPath, keyPath, extensions);
  // Not another llmtap's CA in its place: it would lack the extensions asked for.
  if (!ca) throw new Error(`${keyPath} appeared while llmtap was creating its CA (another llmtap starting?); try again`);
  return ca;
}

/** A new CA in certPath/keyPath; undefined when another llmtap published one first (its files are left as they are). */
function createCa(certPath: string, keyPath: string, extensions: object[] = []): CertificateAuthority | undefined {
  const { privateKeyPem, publicKeyPem } = generateRsaKeyPair();
  const cert = nodeForge().pki.createCertificate();
  cert.publicKey = nodeForge().pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = randomSerialHex();

  const now = Date.now();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  // Backdated so clients with a slightly slow clock still accept it.
  cert.validity.notBefore = new Date(now - DAY_MS);
  cert.validity.notAfter = notAfter;

  // A random suffix makes each install's CA distinguishable in trust stores,
  // and stops two installs' CAs from shadowing each other by name.
  const name: forge.pki.CertificateField[] = [
    utf8Field('commonName', `llmtap CA ${randomBytes(4).toString('hex')}`),
    utf8Field('organizationName', 'llmtap'),
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    ...extensions,
  ]);
  const certPem = signCertificatePem(cert, privateKeyPem);

  if (!publishCa(certPath, keyPath, privateKeyPem, certPem)) return undefined;

  const x509 = new X509Certificate(certPem);
  return {
    certPem,
    keyPem: privateKeyPem,
    certPath,
    keyPath,
    fingerprint256: x509.fingerprint256,
    subjectKeyId: subjectKeyIdOf(cert),
  };
}

/**
 * Publishes a new key and certificate so that a reader never sees half a file nor two
 * CAs in one home: both are written in full to temporary files, then the key is put in
 * place (claimKey) — an exclusive create, so of llmtaps racing on a fresh home exactly one wins
 * and nobody overwrites a key whose certificate may already be trusted — and only the
 * winner renames its certificate in beside it. False when another llmtap won.
 */
function publishCa(certPath: string, keyPath: string, keyPem: string, certPem: string): boolean {
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const [tmpKey, tmpCert] = [`${keyPath}.${tag}`, `${certPath}.${tag}`];
  try {
    writeNewFile(tmpKey, keyPem, 0o600);
    writeNewFile(tmpCert, certPem, 0o644);
    try {
      claimKey(tmpKey, keyPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    fs.renameSync(tmpCert, certPath);
    return true;
  } finally {
    fs.rmSync(tmpKey, { force: true });
    fs.rmSync(tmpCert, { force: true });
  }
}

/**
 * Puts the written key in place unless a key is there already (EEXIST). A hard link where
 * the file system has them; else an exclusive copy, as safe here: the key is read only once
 * its certificate is there, and that is renamed in after the copy is complete.
 */
function claimKey(tmpKey: string, keyPath: string): void {
  try {
    fs.linkSync(tmpKey, keyPath);
  } catch (err) {
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    fs.copyFileSync(tmpKey, keyPath, fs.constants.COPYFILE_EXCL);
  }
}

/** How long a reader waits for the certificate of a key being published (the winner has nothing slow left to do). */
const CERT_WAIT_MS = 5_000;

/** Whether the certificate appeared within CERT_WAIT_MS (polled: CA loading is synchronous, and this runs once per start at most). */
function waitForCert(certPath: string): boolean {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (const deadline = Date.now() + CERT_WAIT_MS; !fs.existsSync(certPath); Atomics.wait(pause, 0, 0, 20)) {
    if (Date.now() > deadline) return false;
  }
  return true;
}

function writeNewFile(file: string, contents: string, mode: number): void {
  const fd = fs.openSync(file, 'wx', mode);
  try {
    fs.writeFileSync(fd, contents);
    // The umask may have narrowed the mode; the certificate must stay world-readable.
    fs.fchmodSync(fd, mode);
    // On disk before it is published: a crash must not leave a published file empty.
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function octal(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}
