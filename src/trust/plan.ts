import { posix, win32 } from 'node:path';

/**
 * Where a platform keeps the roots its TLS stacks trust, and the commands that add
 * or remove the llmtap CA there. Pure: facts in, commands out, so every platform is
 * unit-tested on any machine and `llmtap trust --dry-run` prints exactly what runs.
 */
export type TrustStore = 'debian' | 'fedora' | 'macos' | 'windows';

export interface PlatformFacts {
  os: NodeJS.Platform;
  /** Whether a path exists on this machine. */
  exists: (path: string) => boolean;
}

/** The name the local CA goes by in every store: its anchor file's base name, its NSS nickname. */
export const NSS_NICKNAME = 'llmtap';
export const DEBIAN_ANCHOR = debianAnchor(NSS_NICKNAME);
export const FEDORA_ANCHOR = fedoraAnchor(NSS_NICKNAME);

/** Where a CA named `name` goes in a Debian-family store (update-ca-certificates reads only `.crt`). */
export function debianAnchor(name: string): string {
  return `/usr/local/share/ca-certificates/${name}.crt`;
}

export function fedoraAnchor(name: string): string {
  return `/etc/pki/ca-trust/source/anchors/${name}.pem`;
}
export const MACOS_KEYCHAIN = '/Library/Keychains/System.keychain';

/** The system store of this machine, or undefined for a Linux without a known one. */
export function detectTrustStore(facts: PlatformFacts): TrustStore | undefined {
  if (facts.os === 'darwin') return 'macos';
  if (facts.os === 'win32') return 'windows';
  if (facts.os !== 'linux' && facts.os !== 'freebsd') return undefined;
  // Tools, not distribution names: derivatives (Mint, Rocky, Alma…) carry the same ones.
  if (facts.exists('/usr/sbin/update-ca-certificates') || facts.exists('/usr/local/share/ca-certificates')) return 'debian';
  if (facts.exists('/usr/bin/update-ca-trust') || facts.exists('/etc/pki/ca-trust/source/anchors')) return 'fedora';
  return undefined;
}

export interface TrustStep {
  argv: string[];
  /** Writes a store only root/Administrator may write. */
  privileged: boolean;
}

export interface TrustInputs {
  caPemPath: string;
  /** The CA's subject common name, how macOS and Windows find it again to remove it. */
  caCommonName: string;
  remove: boolean;
  /**
   * The anchor file's base name and the NSS nickname: `llmtap` for the CA of the proxy on
   * this machine, another for a gateway's, so trusting one never replaces the other.
   */
  name?: string;
}

export function systemSteps(store: TrustStore, input: TrustInputs): TrustStep[] {
  const root = (argv: string[]): TrustStep => ({ argv, privileged: true });
  const name = input.name ?? NSS_NICKNAME;
  switch (store) {
    case 'debian':
      return input.remove
        ? [root(['rm', '-f', debianAnchor(name)]), root(['update-ca-certificates'])]
        : [root(['install', '-m', '0644', input.caPemPath, debianAnchor(name)]), root(['update-ca-certificates'])];
    case 'fedora':
      return input.remove
        ? [root(['rm', '-f', fedoraAnchor(name)]), root(['update-ca-trust', 'extract'])]
        : [root(['install', '-m', '0644', input.caPemPath, fedoraAnchor(name)]), root(['update-ca-trust', 'extract'])];
    case 'macos':
      return input.remove
        ? [root(['security', 'delete-certificate', '-c', input.caCommonName, MACOS_KEYCHAIN])]
        : [root(['security', 'add-trusted-cert', '-d', '-r', 'trustRoot', '-k', MACOS_KEYCHAIN, input.caPemPath])];
    case 'windows':
      return input.remove
        ? [root(['certutil', '-delstore', 'root', input.caCommonName])]
        : [root(['certutil', '-addstore', 'root', win32.normalize(input.caPemPath)])];
  }
}


/** certutil (libnss3-tools) on each NSS database: Chromium's ~/.pki/nssdb, each Firefox profile. */
export function nssSteps(dbDirs: string[], input: TrustInputs): TrustStep[] {
  const name = input.name ?? NSS_NICKNAME;
  return dbDirs.map((dir) => ({
    argv: input.remove
      ? ['certutil', '-D', '-n', name, '-d', `sql:${dir}`]
      : ['certutil', '-A', '-n', name, '-t', 'C,,', '-i', input.caPemPath, '-d', `sql:${dir}`],
    privileged: false,
  }));
}

/** NSS databases under a home directory: Chromium's, and Firefox profiles (plain and snap). */
export function nssDatabases(home: string, list: (dir: string) => string[], exists: (path: string) => boolean): string[] {
  const found: string[] = [];
  const chromium = posix.join(home, '.pki/nssdb');
  if (exists(posix.join(chromium, 'cert9.db'))) found.push(chromium);
  for (const base of ['.mozilla/firefox', 'snap/firefox/common/.mozilla/firefox']) {
    const dir = posix.join(home, base);
    for (const profile of list(dir).sort()) {
      const full = posix.join(dir, profile);
      if (exists(posix.join(full, 'cert9.db'))) found.push(full);
    }
  }
  return found;
}

/** One line a shell can run again: what --dry-run prints, and what the root message quotes. */
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
