import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { writeTrustBundle } from '../tls/ca.js';
import { gatewayAuthority, type Gateway } from './gateway-url.js';

const FETCH_TIMEOUT_MS = 10_000;
/** A CA certificate is a few KB; anything far larger is not one. */
const MAX_CA_BYTES = 256 * 1024;

/** `refused`: the gateway answered, and refused the user and password given (wrong password, or no such user). */
export type CaFetch = { pem: string } | { error: string; unreachable?: boolean; refused?: boolean };

/**
 * The gateway's CA from its `/ca.pem`, logged in with `authorization` (a gateway keeps its
 * pages behind its users). Asked directly, never through a proxy variable of this shell:
 * the answer must come from the gateway itself. Checked to be a CA certificate; each
 * failure one line saying what to do.
 */
export function fetchGatewayCa(gateway: Gateway, authorization: string | undefined, timeoutMs = FETCH_TIMEOUT_MS): Promise<CaFetch> {
  const where = gatewayAuthority(gateway);
  const notOurs = (why: string): CaFetch => ({ error: `http://${where}/ca.pem ${why} (is this an llmtap gateway?)` });
  return new Promise((resolve) => {
    const req = request({ host: gateway.host, port: gateway.port, path: '/ca.pem', agent: false, timeout: timeoutMs, headers: authorization ? { authorization } : {} }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        chunks.push(chunk);
        if (size > MAX_CA_BYTES) {
          resolve(notOurs('is larger than a CA certificate'));
          req.destroy();
        }
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status === 401 || status === 407) {
          return resolve({ error: gateway.user === undefined
            ? `the gateway at ${where} has proxy users: name yours, --gateway http://USER@${where}`
            : `the gateway at ${where} refused the login of ${gateway.user} (wrong password?)`, ...(gateway.user === undefined ? {} : { refused: true }) });
        }
        if (status !== 200) return resolve(notOurs(`answered HTTP ${status}`));
        const pem = Buffer.concat(chunks).toString('utf8');
        resolve(isCaCertificate(pem) ? { pem: `${pem.trim()}\n` } : notOurs('is not a CA certificate'));
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' })));
    // A promise settles once: an error after an answer above (the destroy of an oversized one) changes nothing.
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'no such host' : err.message;
      resolve({ error: `cannot reach the gateway at ${where}: ${why}`, unreachable: true });
    });
    req.end();
  });
}

function isCaCertificate(pem: string): boolean {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return false;
  try {
    return new X509Certificate(pem).ca;
  } catch {
    return false;
  }
}

/** `AB:CD:…`, SHA-256 over the DER, as browsers and `openssl x509 -fingerprint -sha256` print it. */
export function caFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** A fingerprint as a user may paste it (colons or not, any case, `SHA256:`/`sha256=` prefix) → 64 lower-case hex digits, or undefined. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/^sha-?256[:=]\s*/i, '').replace(/[:\s]/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

export interface AdoptedCa {
  certPath: string;
  /** The system's roots plus this CA, for the tools that replace their roots with a file. */
  bundlePath: string;
  fingerprint: string;
  /** Nothing was kept for this gateway before: trusted on first use (the fingerprint is worth comparing). */
  firstUse: boolean;
  /** A CA kept before was replaced by one `pin` confirmed. */
  replaced: boolean;
}

/**
 * Keeps the gateway's CA under `dir`, trusting it the way ssh trusts a host key: the first
 * one fetched is kept (or the one `pin` names), and a different one later is refused unless
 * `pin` names the new one. The CA comes over plain HTTP, so a CA that changes without the
 * developer confirming it is exactly what someone in the middle would send.
 */
export function adoptGatewayCa(dir: string, pem: string, pin: string | undefined): AdoptedCa | { error: string } {
  const fingerprint = caFingerprint(pem);
  const mine = fingerprint.replace(/:/g, '').toLowerCase();
  if (pin !== undefined && normalizeFingerprint(pin) !== mine) {
    return { error: `the gateway's CA has fingerprint ${fingerprint}, not the --gateway-fingerprint given: do not use it until the gateway's team says which is right` };
  }
  const certPath = join(dir, 'ca.pem');
  const bundlePath = join(dir, 'trust-bundle.pem');
  const kept = readOrUndefined(certPath);
  const keptFingerprint = kept ? fingerprintOrUndefined(kept) : undefined;
  if (keptFingerprint && keptFingerprint !== fingerprint && pin === undefined) {
    return { error: `the gateway's CA changed since it was first trusted (was ${keptFingerprint}, now ${fingerprint}); if its team rotated it, confirm the new fingerprint with them and run again with --gateway-fingerprint ${fingerprint}` };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (keptFingerprint !== fingerprint) writeAtomically(certPath, pem);
  writeTrustBundle({ certPem: pem }, bundlePath);
  return { certPath, bundlePath, fingerprint, firstUse: keptFingerprint === undefined, replaced: keptFingerprint !== undefined && keptFingerprint !== fingerprint };
}

/** The CA kept for a gateway before, to work with while the gateway cannot be reached (its bundle rewritten). */
export function keptGatewayCa(dir: string): AdoptedCa | undefined {
  const kept = readKeptCa(dir);
  if (!kept) return undefined;
  const bundlePath = join(dir, 'trust-bundle.pem');
  writeTrustBundle({ certPem: kept.pem }, bundlePath);
  return { certPath: kept.certPath, bundlePath, fingerprint: kept.fingerprint, firstUse: false, replaced: false };
}

/** The CA kept for a gateway, read only (`trust` runs as root and writes nothing in the developer's home). */
export function readKeptCa(dir: string): { certPath: string; pem: string; fingerprint: string } | undefined {
  const certPath = join(dir, 'ca.pem');
  const pem = readOrUndefined(certPath);
  const fingerprint = pem ? fingerprintOrUndefined(pem) : undefined;
  return pem && fingerprint ? { certPath, pem, fingerprint } : undefined;
}

function fingerprintOrUndefined(pem: string): string | undefined {
  try {
    return caFingerprint(pem);
  } catch {
    return undefined;
  }
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Write-then-rename: a tool starting meanwhile never reads half a certificate. */
function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
