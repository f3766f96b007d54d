import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ConfigError } from '../config-error.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;

/** A stored credential: a plain password from --auth, or an scrypt hash from --auth-file. */
export interface ProxyUser {
  user: string;
  password?: string;
  hash?: { N: number; r: number; p: number; salt: Buffer; key: Buffer };
}

const SCRYPT = { N: 16384, r: 8, p: 1 };

/** `user:password` from the command line. */
export function parseAuthSpec(spec: string): ProxyUser {
  const i = spec.indexOf(':');
  if (i <= 0 || i === spec.length - 1) throw new ConfigError('--auth: expected USER:PASSWORD');
  return { user: spec.slice(0, i), password: spec.slice(i + 1) };
}

/** One `user:scrypt$N$r$p$salt$key` line (base64 salt and key), as `llmtap passwd` prints. */
export async function hashPasswordLine(user: string, password: string): Promise<string> {
  if (!user || user.includes(':')) throw new ConfigError('user names cannot be empty or contain ":"');
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32, SCRYPT);
  return `${user}:scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Reads an auth file; errors name the file and line. Blank lines and # comments are skipped. */
export function readAuthFile(file: string): ProxyUser[] {
  const users: ProxyUser[] = [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([^:]+):scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new ConfigError(`${file}:${index + 1}: expected user:scrypt$N$r$p$salt$key (make one with "llmtap passwd USER")`);
    const hash = { N: Number(m[2]), r: Number(m[3]), p: Number(m[4]), salt: Buffer.from(m[5]!, 'base64'), key: Buffer.from(m[6]!, 'base64') };
    // Out-of-range parameters would make scrypt throw on every login; a short key would make any password match.
    const sane = hash.N >= 2 && (hash.N & (hash.N - 1)) === 0 && hash.r >= 1 && hash.p >= 1 && hash.p <= 16 && 128 * hash.N * hash.r <= 32 * 1024 * 1024
      && hash.salt.length >= 8 && hash.key.length >= 16;
    if (!sane) throw new ConfigError(`${file}:${index + 1}: scrypt parameters, salt or key out of range (make the line with "llmtap passwd USER")`);
    users.push({ user: m[1]!, hash });
  });
  return users;
}

/**
 * Checks `Proxy-Authorization: Basic …`. scrypt is deliberately slow, so a
 * verified header is remembered (by its SHA-256, never in clear) for later requests.
 */
export class ProxyAuth {
  private readonly users = new Map<string, ProxyUser>();
  private readonly verified = new Map<string, string>();
  /** Recently refused headers: a client retrying the same wrong password costs no more scrypt. */
  private readonly refused = new Map<string, number>();
  /** scrypt runs on libuv's small thread pool (shared with DNS): cap how many run at once. */
  private hashing = 0;

  constructor(users: readonly ProxyUser[]) {
    for (const u of users) this.users.set(u.user, u);
  }

  get enabled(): boolean {
    return this.users.size > 0;
  }

  /** The user name when the header carries valid credentials, else undefined. */
  async check(header: string | undefined): Promise<string | undefined> {
    if (!header) return undefined;
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!m) return undefined;
    const digest = createHash('sha256').update(header).digest('base64');
    const known = this.verified.get(digest);
    if (known) return known;
    if ((this.refused.get(digest) ?? 0) > Date.now()) return undefined;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i <= 0) return undefined;
    if (this.hashing >= MAX_CONCURRENT_HASHES) return undefined;
    // An unknown user costs the same scrypt as a known one, so timing does not tell which names exist.
    const user = this.users.get(decoded.slice(0, i)) ?? DECOY;
    this.hashing++;
    const ok = await verify(user, decoded.slice(i + 1)).finally(() => this.hashing--);
    if (!ok || user === DECOY) {
      if (this.refused.size > 10_000) this.refused.clear();
      this.refused.set(digest, Date.now() + REFUSAL_MEMORY_MS);
      return undefined;
    }
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(digest, user.user);
    return user.user;
  }
}

const MAX_CONCURRENT_HASHES = 4;
const REFUSAL_MEMORY_MS = 60_000;
const DECOY: ProxyUser = { user: '', hash: { ...SCRYPT, salt: Buffer.alloc(16), key: Buffer.alloc(32, 1) } };

async function verify(user: ProxyUser, password: string): Promise<boolean> {
  if (user.password !== undefined) {
    const a = createHash('sha256').update(user.password).digest();
    const b = createHash('sha256').update(password).digest();
    return timingSafeEqual(a, b);
  }
  if (!user.hash) return false;
  const { N, r, p, salt, key } = user.hash;
  if (key.length === 0) return false;
  try {
    const got = await scryptAsync(password, salt, key.length, { N, r, p });
    return timingSafeEqual(got, key);
  } catch {
    return false; // bad parameters (a hand-made entry): refuse, never crash the connection handler
  }
}
