import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

// The temporary files publishCa (ca.ts) writes beside the CA: `<file>.<pid>.<hex>.tmp`.

/** Older than this, a temporary file's writer is gone whatever its pid says (a publish takes milliseconds once its files are written). */
export const LEFTOVER_STALE_MS = 60_000;

const TEMPORARY = /^(.+)\.(\d+)\.[0-9a-f]+\.tmp$/;

interface Temporary {
  file: string;
  /** The file it was to become (CA_CERT_FILE, CA_KEY_FILE). */
  of: string;
  /** Whether its writer is gone: its pid not alive, or the file older than LEFTOVER_STALE_MS. */
  abandoned: boolean;
}

/** The temporary files in `dir` that were to become one of `names`. */
function temporaries(dir: string, names: readonly string[], now = Date.now()): Temporary[] {
  const out: Temporary[] = [];
  for (const name of fs.readdirSync(dir)) {
    const match = TEMPORARY.exec(name);
    if (!match || !names.includes(match[1]!)) continue;
    const file = path.join(dir, name);
    let mtimeMs: number;
    try {
      mtimeMs = fs.statSync(file).mtimeMs;
    } catch {
      continue; // renamed or removed meanwhile
    }
    out.push({ file, of: match[1]!, abandoned: now - mtimeMs > LEFTOVER_STALE_MS || !isAlive(Number(match[2])) });
  }
  return out;
}

function isAlive(pid: number): boolean {
  // A file named with this process's own pid is a former process's (a container restarted
  // under the same pid): this one has published nothing yet.
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/**
 * Whether a live llmtap is publishing the certificate of `certPath` (its temporary file
 * is there, its writer alive): a key alone is then a publish under way, worth waiting for.
 */
export function certBeingPublished(certPath: string): boolean {
  return temporaries(path.dirname(certPath), [path.basename(certPath)]).some((t) => !t.abandoned);
}

/**
 * Finishes a publish whose writer was killed between putting its key in place and renaming
 * its certificate in beside it: the abandoned temporary certificate that matches the key at
 * `keyPath` (written in full and synced before the key was put in place) is renamed in.
 * Several starts may do this at once: the rename is atomic, and a start whose file was
 * renamed by another finds the certificate there. A certificate matching no key is never
 * put in place. Whether the certificate is there now.
 */
export function finishAbandonedPublish(certPath: string, keyPath: string): boolean {
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(fs.readFileSync(keyPath, 'utf8'));
  } catch {
    return false; // no key to match a certificate to: refused as incomplete
  }
  for (const t of temporaries(path.dirname(certPath), [path.basename(certPath)])) {
    if (!t.abandoned) continue;
    try {
      if (!new X509Certificate(fs.readFileSync(t.file)).checkPrivateKey(key)) continue;
      fs.renameSync(t.file, certPath);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') continue; // unreadable or not a certificate: not this one
      break; // another start renamed it in
    }
  }
  return fs.existsSync(certPath);
}

/** Removes the temporary files of `names` in `dir` whose writers are gone (a killed publish's key copy among them). */
export function removeAbandoned(dir: string, names: readonly string[]): void {
  for (const t of temporaries(dir, names)) if (t.abandoned) fs.rmSync(t.file, { force: true });
}
