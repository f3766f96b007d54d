import { createPrivateKey, type KeyObject } from 'node:crypto';
import * as tls from 'node:tls';
import type forge from 'node-forge';
import { nodeForge } from './forge.js';
import { subjectKeyIdOf, type CertificateAuthority } from './ca.js';
import { generateEcKeyPair } from './ec-key.js';
import { parseLeafHost, type LeafHost } from './leaf-host.js';
import { randomSerialHex, signCertificatePem, subjectPublicKeyInfoAsn1, utf8Field } from './sign.js';

export interface LeafCertificateOptions {
  /** Most hosts kept in the cache; least recently used are dropped first. Default 1000. */
  maxEntries?: number;
  /** Lifetime after issue. Default 180; the total span including the 1-day backdate must stay under 200 days. */
  validityDays?: number;
  /** Clock in epoch ms, injectable for tests. */
  now?: () => number;
}

export interface LeafCacheStats {
  mints: number;
  hits: number;
  size: number;
}

interface CacheEntry {
  leafPem: string;
  notAfterMs: number;
  /** Built lazily: certificatePemFor callers never need one. */
  context?: tls.SecureContext;
}

const DAY_MS = 24 * 60 * 60 * 1000;
// Stricter client policies (Apple, the CA/B Forum's 2026 limit) reject
// certificates valid for 200 days or more, even from a private root.
const MAX_TOTAL_VALIDITY_DAYS = 200;
const CN_MAX_LENGTH = 64;

/**
 * node-forge only builds certificates around RSA keys. This stand-in fills
 * cert.publicKey; signCertificatePem swaps the real (EC) key in for it.
 */
let placeholderRsaPublicKey: forge.pki.rsa.PublicKey | undefined;
function placeholderPublicKey(): forge.pki.rsa.PublicKey {
  const { pki, jsbn } = nodeForge();
  return (placeholderRsaPublicKey ??= pki.setRsaPublicKey(new jsbn.BigInteger('1', 10), new jsbn.BigInteger('65537', 10)));
}

/**
 * Mints per-host server certificates signed by the llmtap CA.
 *
 * One ECDSA P-256 key is generated per process and shared by every leaf:
 * per-host keys buy nothing when the CA key, which can sign anything, lives
 * in the same process. It is EC rather than RSA because the server signs
 * with it in every intercepted handshake, and a P-256 signature costs a
 * small fraction of an RSA-2048 one. The CA stays RSA and signs the leaves
 * with sha256WithRSAEncryption; mixed chains are routine for TLS clients.
 * Minting is fully synchronous, so concurrent handshakes for one host cannot
 * race to mint twice.
 */
export class LeafCertificates {
  private readonly caKey: KeyObject;
  private readonly issuer: forge.pki.CertificateField[];
  private readonly caSubjectKeyId: string;
  private readonly leafKeyPem: string;
  private readonly leafPublicKeyInfo: forge.asn1.Asn1;
  private readonly leafSubjectKeyIdExt: forge.asn1.Asn1;
  private readonly maxEntries: number;
  private readonly validityMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, CacheEntry>();
  private mints = 0;
  private hits = 0;

  constructor(ca: Pick<CertificateAuthority, 'certPem' | 'keyPem'>, options: LeafCertificateOptions = {}) {
    const maxEntries = options.maxEntries ?? 1000;
    const validityDays = options.validityDays ?? 180;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
    // At least 2 days, or the "re-mint when under a day remains" rule would re-mint on every lookup.
    if (!(validityDays >= 2 && validityDays + 1 < MAX_TOTAL_VALIDITY_DAYS)) {
      throw new RangeError(`validityDays must be between 2 and ${MAX_TOTAL_VALIDITY_DAYS - 2}, got ${validityDays}`);
    }
    this.maxEntries = maxEntries;
    this.validityMs = validityDays * DAY_MS;
    this.now = options.now ?? Date.now;

    this.caKey = createPrivateKey(ca.keyPem);
    const caCert = nodeForge().pki.certificateFromPem(ca.certPem);
    this.issuer = caCert.subject.attributes;
    this.caSubjectKeyId = subjectKeyIdOf(caCert).toString('binary');

    const { privateKeyPem, publicKeySpkiDer } = generateEcKeyPair();
    this.leafKeyPem = privateKeyPem;
    // Every leaf shares the key, so its SubjectPublicKeyInfo and SKI are
    // built once instead of on every mint.
    const { asn1, keyIdentifier } = subjectPublicKeyInfoAsn1(publicKeySpkiDer);
    this.leafPublicKeyInfo = asn1;
    const { asn1: forgeAsn1 } = nodeForge();
    this.leafSubjectKeyIdExt = forgeAsn1.create(
      forgeAsn1.Class.UNIVERSAL,
      forgeAsn1.Type.OCTETSTRING,
      false,
      keyIdentifier.toString('binary'),
    );
  }

  /**
   * A TLS context presenting the host's leaf, suitable for SNICallback.
   *
   * The chain is the leaf alone. The only other certificate would be the CA,
   * a root that every client able to verify the leaf already holds, so
   * sending it only costs handshake bytes, and parsing it into each host's
   * context (a quarter of createSecureContext's cost) delays first contact.
   */
  secureContextFor(host: string): tls.SecureContext {
    const entry = this.lookup(host);
    entry.context ??= tls.createSecureContext({ key: this.leafKeyPem, cert: entry.leafPem });
    return entry.context;
  }

  /** The shared ECDSA P-256 leaf key as PKCS#8 PEM, for servers that must also present a default certificate (no SNI). */
  get keyPem(): string {
    return this.leafKeyPem;
  }

  /** The host's leaf certificate alone (no chain), as PEM. */
  certificatePemFor(host: string): string {
    return this.lookup(host).leafPem;
  }

  stats(): LeafCacheStats {
    return { mints: this.mints, hits: this.hits, size: this.cache.size };
  }

  private lookup(host: string): CacheEntry {
    const parsed = parseLeafHost(host);
    const cached = this.cache.get(parsed.name);
    if (cached) this.cache.delete(parsed.name);
    // Re-mint before expiry so a long-lived process never serves a stale leaf.
    if (cached && cached.notAfterMs - this.now() > DAY_MS) {
      this.hits++;
      this.cache.set(parsed.name, cached);
      return cached;
    }
    const fresh = this.mint(parsed);
    this.cache.set(parsed.name, fresh);
    // Map iteration order is insertion order, and hits re-insert, so the first key is the least recently used.
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
    return fresh;
  }

  private mint(host: LeafHost): CacheEntry {
    const nowMs = this.now();
    const cert = nodeForge().pki.createCertificate();
    cert.publicKey = placeholderPublicKey();
    cert.serialNumber = randomSerialHex();
    // Backdated a day so clients whose clocks lag still accept a fresh leaf.
    cert.validity.notBefore = new Date(nowMs - DAY_MS);
    cert.validity.notAfter = new Date(nowMs + this.validityMs);

    // Clients match on the SAN only. A name too long for CN (ub-common-name
    // is 64) gets an empty subject, which RFC 5280 allows when the SAN is critical.
    const hasCn = host.name.length <= CN_MAX_LENGTH;
    cert.setSubject(hasCn ? [utf8Field('commonName', host.name)] : []);
    cert.setIssuer(this.issuer);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      // keyEncipherment is for RSA key transport; an ECDSA key only signs.
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        critical: !hasCn,
        altNames: [
          host.kind === 'ip'
            ? { type: 7, value: host.bytes.toString('binary') }
            : { type: 2, value: host.name },
        ],
      },
      // Explicit value: forge would otherwise hash the placeholder key.
      { name: 'subjectKeyIdentifier', value: this.leafSubjectKeyIdExt },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.caSubjectKeyId },
    ]);
    const leafPem = signCertificatePem(cert, this.caKey, this.leafPublicKeyInfo);
    this.mints++;
    // UTCTime has whole seconds; the stored expiry must not be later than the real one.
    return { leafPem, notAfterMs: Math.floor((nowMs + this.validityMs) / 1000) * 1000 };
  }
}
