import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ConfigError, UsersFileError } from '../config-error.js';
import { HashQueue } from './hash-queue.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;

/** A stored credential: a plain password from --auth, or an scrypt hash from --auth-file. */
export interface ProxyUser {
  user: string;
  password?: string;
  hash?: { N: number; r: number; p: number; salt: Buffer; key: Buffer };
}

const SCRYPT = { N: 16384, r: 8, p: 1 };

/**
 * Users a reload takes away or gives another credential (a new password, or the same
 * one hashed again): what they opened under the old login must not outlive it.
 */
export function changedUsers(before: readonly ProxyUser[], after: readonly ProxyUser[]): Set<string> {
  const key = (u: ProxyUser): string => u.hash ? `${u.hash.N}$${u.hash.r}$${u.hash.p}$${u.hash.salt.toString('base64')}$${u.hash.key.toString('base64')}` : `plain:${u.password ?? ''}`;
  const next = new Map(after.map((u) => [u.user, key(u)]));
  return new Set(before.filter((u) => next.get(u.user) !== key(u)).map((u) => u.user));
}

/** `user:password` from the command line. */
export function parseAuthSpec(spec: string): ProxyUser {
  const i = spec.indexOf(':');
  if (i <= 0 || i === spec.length - 1) throw new ConfigError('--auth: expected USER:PASSWORD');
  return { user: spec.slice(0, i), password: spec.slice(i + 1) };
}

/**
 * Why `user` cannot be a users-file login, or undefined. Beyond an empty name and ":", a
 * line whose name starts with "#" is read as a comment, one with a space at either end has
 * it trimmed with the line, and a control character is refused in every Basic login
 * (parseBasic): each would make a line that no password ever logs in with.
 */
export function userNameProblem(user: string): string | undefined {
  if (!user || user.includes(':')) return 'user names cannot be empty or contain ":"';
  if (user.startsWith('#')) return `user name "${user}": cannot start with "#" (a users-file line starting with it is a comment)`;
  if (user.trim() !== user) return `user name "${user}": cannot start or end with a space (the users file trims its lines)`;
  if (/[\x00-\x1f\x7f]/.test(user)) return 'user names cannot hold control characters (a proxy login refuses them)';
  return undefined;
}

/** One `user:scrypt$N$r$p$salt$key` line (base64 salt and key), as `llmtap passwd` prints. */
export async function hashPasswordLine(user: string, password: string): Promise<string> {
  const problem = userNameProblem(user);
  if (problem) throw new ConfigError(problem);
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
    throw new UsersFileError(file, `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([^:]+):scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new UsersFileError(file, `${file}:${index + 1}: expected user:scrypt$N$r$p$salt$key (make one with "llmtap passwd USER")`);
    const hash = { N: Number(m[2]), r: Number(m[3]), p: Number(m[4]), salt: Buffer.from(m[5]!, 'base64'), key: Buffer.from(m[6]!, 'base64') };
    // Out-of-range parameters would make scrypt throw on every login; a short key would make any password match.
    const sane = hash.N >= 2 && (hash.N & (hash.N - 1)) === 0 && hash.r >= 1 && hash.p >= 1 && hash.p <= 16 && 128 * hash.N * hash.r <= 32 * 1024 * 1024
      && hash.salt.length >= 8 && hash.key.length >= 16;
    if (!sane) throw new UsersFileError(file, `${file}:${index + 1}: scrypt parameters, salt or key out of range (make the line with "llmtap passwd USER")`);
    users.push({ user: m[1]!, hash });
  });
  return users;
}

/**
 * Checks `Proxy-Authorization: Basic …`. scrypt is deliberately slow, so a
 * verified header is remembered (by its SHA-256, never in clear) for later requests.
 *
 * Every first check of a credential costs exactly one scrypt, whoever the user:
 * plain `--auth` passwords are hashed at start like `--auth-file` entries, and an
 * unknown user is checked against a decoy hash, so timing tells nothing about which
 * names exist. Checks wait their turn in a fair, bounded queue (HashQueue), so a
 * flood of bad logins cannot lock out a valid user.
 */
export class ProxyAuth {
  private readonly users = new Map<string, Promise<ProxyUser>>();
  private readonly verified = new Map<string, string>();
  /** Recently refused headers: a client retrying the same wrong password costs no more scrypt. */
  private readonly refused = new Map<string, number>();
  private readonly queue = new HashQueue(HASH_QUEUE);

  /** `required`: logins are checked even with no user (a users file that holds none): every login is refused then. */
  constructor(users: readonly ProxyUser[], private readonly required = false) {
    for (const u of users) this.users.set(u.user, u.hash ? Promise.resolve(u) : hashedUser(u));
  }

  get enabled(): boolean {
    return this.users.size > 0 || this.required;
  }

  /** The user name when the header carries valid credentials, else undefined. `client` keys the queue's fairness. */
  async check(header: string | undefined, client = ''): Promise<string | undefined> {
    const result = await this.verify(header, client);
    return 'refused' in result ? undefined : result.user;
  }

  /** check(), saying why a login was refused (login-log.ts logs it for the operator). */
  async verify(header: string | undefined, client = ''): Promise<LoginResult> {
    if (header === undefined) return { refused: 'no_credentials', repeated: false };
    const credentials = parseBasic(header);
    if (!credentials) return { refused: 'malformed', repeated: false };
    const digest = createHash('sha256').update(header).digest('base64');
    const known = this.verified.get(digest);
    if (known) return { user: known };
    const entry = this.users.get(credentials.user);
    // Only a name that exists is reported: an unknown "user" is often a password typed in the wrong field.
    const refusal = (refused: 'unknown_user' | 'wrong_password' | 'busy', repeated: boolean): LoginResult =>
      ({ refused, repeated, ...(entry ? { name: credentials.user } : {}) });
    if ((this.refused.get(digest) ?? 0) > Date.now()) return refusal(entry ? 'wrong_password' : 'unknown_user', true);
    const ok = await this.queue.run(client, async () => verify(entry ? await entry : DECOY, credentials.password));
    if (ok === undefined) return refusal('busy', false); // not checked (queue full or too long a wait): refuse, remember nothing
    if (!ok || !entry) {
      if (this.refused.size > 10_000) this.refused.clear();
      this.refused.set(digest, Date.now() + REFUSAL_MEMORY_MS);
      return refusal(entry ? 'wrong_password' : 'unknown_user', false);
    }
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(digest, credentials.user);
    return { user: credentials.user };
  }
}

/**
 * A login checked: the user, or why it was refused — no `Proxy-Authorization` at all, not
 * canonical Basic, a name no user has, a wrong password, or not checked because the queue
 * was full. `repeated`: the same header was refused within the last minute (no scrypt ran).
 * `name` on a refusal only when a user of that name exists (a refusal never has `user`).
 */
export type LoginResult =
  | { user: string }
  | { refused: 'no_credentials' | 'malformed' | 'unknown_user' | 'wrong_password' | 'busy'; repeated: boolean; name?: string };

/**
 * Four scrypt checks at once (libuv's pool has four threads, shared with DNS); up to
 * 4 more wait per client and 256 overall, each for at most 5 s. Under a flood from one
 * client a valid user waits about one check (~60 ms) per busy slot.
 */
const HASH_QUEUE = { concurrency: 4, perClient: 4, total: 256, deadlineMs: 5000 };
const REFUSAL_MEMORY_MS = 60_000;
const DECOY: ProxyUser = { user: '', hash: { ...SCRYPT, salt: Buffer.alloc(16), key: Buffer.alloc(32, 1) } };

/**
 * Strict `Basic <base64>`: canonical base64 (re-encoding gives the same text, so
 * `<valid>=<junk>` and bad padding are refused), UTF-8 — or, when the bytes are not valid
 * UTF-8, Latin-1, which is how Python's requests (and so pip, and most Python SDKs before
 * httpx) encodes a proxy login: a password with "é" was refused as malformed from them
 * alone —, a non-empty user, no control characters (C1 ones too, in Latin-1).
 */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = header === undefined ? null : /^Basic +([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (!m) return undefined;
  const bytes = Buffer.from(m[1]!, 'base64');
  if (bytes.toString('base64') !== m[1]) return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    decoded = bytes.toString('latin1');
    if (/[\x80-\x9f]/.test(decoded)) return undefined;
  }
  if (/[\x00-\x1f\x7f]/.test(decoded)) return undefined;
  const i = decoded.indexOf(':');
  if (i <= 0) return undefined;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** A plain --auth password becomes an scrypt hash at start, so checking it costs what any other check costs. */
async function hashedUser(user: ProxyUser): Promise<ProxyUser> {
  const salt = randomBytes(16);
  const key = await scryptAsync(user.password ?? '', salt, 32, SCRYPT);
  return { user: user.user, hash: { ...SCRYPT, salt, key } };
}

async function verify(user: ProxyUser, password: string): Promise<boolean> {
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
