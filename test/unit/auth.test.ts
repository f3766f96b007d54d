import * as crypto from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config-error.js';
import { hashPasswordLine, parseAuthSpec, parseBasic, ProxyAuth, readAuthFile } from '../../src/proxy/auth.js';
import { HashQueue } from '../../src/proxy/hash-queue.js';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const dir = mkdtempSync(join(tmpdir(), 'llmtap-auth-'));
let fileNo = 0;
function authFile(text: string): string {
  const file = join(dir, `users-${++fileNo}`);
  writeFileSync(file, text);
  return file;
}
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseAuthSpec', () => {
  it('splits at the first colon; the password may contain colons', () => {
    expect(parseAuthSpec('alice:s3cret')).toEqual({ user: 'alice', password: 's3cret' });
    expect(parseAuthSpec('bob:a:b:c')).toEqual({ user: 'bob', password: 'a:b:c' });
  });
  it.each(['alice', ':pw', 'alice:', '', ':'])('refuses %j', (spec) => {
    expect(configErrorOf(() => parseAuthSpec(spec)).message).toMatch(/^--auth: expected USER:PASSWORD/);
  });
});

describe('auth file', () => {
  it('hashPasswordLine → readAuthFile round trip; the password is never in the line', async () => {
    const line = await hashPasswordLine('alice', 'correct horse');
    expect(line).toMatch(/^alice:scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(line).not.toContain('correct horse');
    expect(await hashPasswordLine('alice', 'correct horse')).not.toBe(line); // salted
    const file = authFile(`# team proxy users\n\n${line}\r\n  ${await hashPasswordLine('bob', 'pw:with:colons')}  \n`);
    const users = readAuthFile(file);
    expect(users.map((u) => u.user)).toEqual(['alice', 'bob']);
    expect(users[0]!.password).toBeUndefined();
    expect(users[0]!.hash).toMatchObject({ N: 16384, r: 8, p: 1 });
    const auth = new ProxyAuth(users);
    expect(await auth.check(basic('alice', 'correct horse'))).toBe('alice');
    expect(await auth.check(basic('bob', 'pw:with:colons'))).toBe('bob');
    expect(await auth.check(basic('alice', 'wrong'))).toBeUndefined();
    expect(await auth.check(basic('bob', 'correct horse'))).toBeUndefined();
  });

  it('refuses bad user names when hashing', async () => {
    await expect(hashPasswordLine('', 'x')).rejects.toBeInstanceOf(ConfigError);
    await expect(hashPasswordLine('a:b', 'x')).rejects.toBeInstanceOf(ConfigError);
  });

  it('errors name the file and the line', async () => {
    const good = await hashPasswordLine('alice', 'pw');
    const file = authFile(`# comment\n${good}\n\nbob:plaintext\n`);
    const err = configErrorOf(() => readAuthFile(file));
    expect(err.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: expected user:scrypt`));
    expect(err.message).not.toContain('plaintext');
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('refuses parameters scrypt would choke on, and keys too short to mean anything', () => {
    const salt = Buffer.alloc(16, 1).toString('base64');
    const key = Buffer.alloc(32, 2).toString('base64');
    for (const [n, line] of [
      `u:scrypt$1000$8$1$${salt}$${key}`, // N not a power of two
      `u:scrypt$1048576$8$1$${salt}$${key}`, // 1 GiB of memory
      `u:scrypt$16384$0$1$${salt}$${key}`,
      `u:scrypt$16384$8$1$${salt}$=`, // empty key would match any password
      `u:scrypt$16384$8$1$AA==$${key}`, // 1-byte salt
    ].entries()) {
      expect(configErrorOf(() => readAuthFile(authFile(`${line}\n`))).message, String(n)).toMatch(/:1: scrypt parameters/);
    }
  });

  it('a missing file is a ConfigError naming it', () => {
    expect(configErrorOf(() => readAuthFile(join(dir, 'nope'))).message).toMatch(/nope: cannot read \(ENOENT\)/);
  });
});

describe('ProxyAuth.check', () => {
  const auth = new ProxyAuth([{ user: 'u', password: 'p' }, { user: 'ü', password: 'pässword' }]);

  it('is enabled only with users', () => {
    expect(auth.enabled).toBe(true);
    expect(new ProxyAuth([]).enabled).toBe(false);
  });

  it('accepts valid Basic credentials (scheme case-insensitive, UTF-8)', async () => {
    expect(await auth.check(basic('u', 'p'))).toBe('u');
    expect(await auth.check(basic('u', 'p').replace('Basic', 'basic'))).toBe('u');
    expect(await auth.check(`BASIC  ${Buffer.from('u:p').toString('base64')}`)).toBe('u');
    expect(await auth.check(basic('ü', 'pässword'))).toBe('ü');
  });

  it.each([
    ['no header', undefined],
    ['empty', ''],
    ['wrong password', basic('u', 'x')],
    ['password prefix', basic('u', '')],
    ['unknown user', basic('nobody', 'p')],
    ['other scheme', `Bearer ${Buffer.from('u:p').toString('base64')}`],
    ['no colon', `Basic ${Buffer.from('up').toString('base64')}`],
    ['empty user', `Basic ${Buffer.from(':p').toString('base64')}`],
    ['not base64', 'Basic !!!not-base64!!!'],
    ['scheme only', 'Basic'],
    ['trailing junk', `${basic('u', 'p')} extra`],
    ['CRLF inside', `${basic('u', 'p')}\r\nX-Injected: 1`],
    ['huge garbage', `Basic ${'A'.repeat(20_000)}`],
  ])('refuses %s', async (_name, header) => {
    expect(await auth.check(header)).toBeUndefined();
  });

  it('remembers a verified header (scrypt runs once per credential), never a refused one', async () => {
    const line = await hashPasswordLine('carol', 'pw');
    const users = readAuthFile(authFile(`${line}\n`));
    const hashed = new ProxyAuth(users);
    const header = basic('carol', 'pw');
    const t0 = performance.now();
    expect(await hashed.check(header)).toBe('carol');
    const first = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < 20; i++) expect(await hashed.check(header)).toBe('carol');
    const cachedTwenty = performance.now() - t1;
    expect(cachedTwenty).toBeLessThan(first); // 20 cached checks cost less than one scrypt
    expect(await hashed.check(basic('carol', 'wrong'))).toBeUndefined();
    expect(await hashed.check(basic('carol', 'wrong'))).toBeUndefined();
    // The cache key is a digest of the header: a new instance (a reload) starts empty and re-verifies.
    expect(await new ProxyAuth([]).check(header)).toBeUndefined();
  });

  it('a hand-made entry with bad scrypt parameters is refused, never thrown', async () => {
    const auth2 = new ProxyAuth([{ user: 'x', hash: { N: 3, r: 8, p: 1, salt: crypto.randomBytes(16), key: crypto.randomBytes(32) } }]);
    expect(await auth2.check(basic('x', 'anything'))).toBeUndefined();
    const empty = new ProxyAuth([{ user: 'y', hash: { N: 16384, r: 8, p: 1, salt: crypto.randomBytes(16), key: Buffer.alloc(0) } }]);
    expect(await empty.check(basic('y', 'anything'))).toBeUndefined();
  });
});

describe('strict Basic parsing', () => {
  it.each([
    ['valid base64 followed by junk after the padding', `${basic('u', 'p')}=junk`],
    ['a second padding block', `${basic('u', 'p')}==`],
    ['non-canonical base64 (stray bits in the last character)', 'Basic dTpx'.replace('q', 'r') + 'Z'],
    ['whitespace inside the token', 'Basic dTp wYXNz'],
    ['a CR in the decoded credentials', `Basic ${Buffer.from('u:p\r\nx').toString('base64')}`],
    ['a NUL in the decoded credentials', `Basic ${Buffer.from('u\0:p').toString('base64')}`],
    ['no colon', `Basic ${Buffer.from('up').toString('base64')}`],
    ['an empty user', `Basic ${Buffer.from(':p').toString('base64')}`],
    ['neither UTF-8 nor Latin-1 text (a C1 control)', `Basic ${Buffer.from([0x75, 0x3a, 0xff, 0x85]).toString('base64')}`],
    ['another scheme', 'Bearer dTpw'],
  ])('%s → refused', (_what, header) => {
    expect(parseBasic(header)).toBeUndefined();
  });

  it('canonical credentials parse (password with colons, any case of the scheme)', () => {
    expect(parseBasic(basic('alice', 'a:b:c'))).toEqual({ user: 'alice', password: 'a:b:c' });
    expect(parseBasic(`basic  ${Buffer.from('bob:pw').toString('base64')}`)).toEqual({ user: 'bob', password: 'pw' });
  });

  it('a login in Latin-1 (how Python requests sends a proxy password with "é") checks as the same password', async () => {
    const auth = new ProxyAuth([parseAuthSpec('zoé:pässwörd')]);
    const latin1 = `Basic ${Buffer.from('zoé:pässwörd', 'latin1').toString('base64')}`;
    expect(parseBasic(latin1)).toEqual({ user: 'zoé', password: 'pässwörd' });
    expect(await auth.check(latin1)).toBe('zoé');
    expect(await auth.check(basic('zoé', 'pässwörd'))).toBe('zoé');
    expect(await auth.check(`Basic ${Buffer.from('zoé:passwörd', 'latin1').toString('base64')}`)).toBeUndefined();
  });

  it('a --auth user with a malformed header for a right password is refused', async () => {
    const auth = new ProxyAuth([parseAuthSpec('u:p')]);
    expect(await auth.check(`${basic('u', 'p')}=junk`)).toBeUndefined();
    expect(await auth.check(basic('u', 'p'))).toBe('u');
  });
});

describe('HashQueue (fair, bounded admission for scrypt checks)', () => {
  const never = () => new Promise<never>(() => {});
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('a client flooding the queue does not keep another client out: slots go round-robin', async () => {
    const queue = new HashQueue({ concurrency: 1, perClient: 3, total: 100, deadlineMs: 5000 });
    const order: string[] = [];
    const job = (name: string) => async () => {
      order.push(name);
      await sleep(5);
      return name;
    };
    const flood = [1, 2, 3, 4, 5].map((i) => queue.run('attacker', job(`a${i}`)));
    const user = queue.run('user', job('user'));
    expect(await Promise.all(flood)).toEqual(['a1', 'a2', 'a3', 'a4', undefined]); // a1 runs, 3 wait, the 5th is over the per-client bound
    expect(await user).toBe('user');
    // a1 was running; the attacker, first in line, gets one turn (a2), then the user: not a3 or a4.
    expect(order.indexOf('user')).toBe(2);
  });

  it('refuses at once when the queue is full, and after the deadline', async () => {
    const queue = new HashQueue({ concurrency: 1, perClient: 10, total: 1, deadlineMs: 50 });
    void queue.run('a', never);
    const waiting = queue.run('b', async () => 'b');
    expect(await queue.run('c', async () => 'c')).toBeUndefined(); // total bound
    expect(await waiting).toBeUndefined(); // deadline: the slot never freed
    expect(queue.stats).toEqual({ running: 1, waiting: 0 });
  });
});

describe('equal cost for known and unknown users', () => {
  it('--auth: a wrong password for a known user and any password for an unknown one both cost one scrypt', async () => {
    const auth = new ProxyAuth([parseAuthSpec('alice:right')]);
    await auth.check(basic('alice', 'right'), 'warm-up'); // the start-up hash is done
    const time = async (header: string) => {
      const t = performance.now();
      await auth.check(header, 'timing');
      return performance.now() - t;
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(await time(basic('alice', `wrong-${i}`)));
      unknown.push(await time(basic(`nobody-${i}`, `wrong-${i}`)));
    }
    // Before: 1.8 ms vs 64 ms (a 35x gap). Now both are one scrypt: within a factor of 2 either way.
    expect(median(known) / median(unknown)).toBeGreaterThan(0.5);
    expect(median(known) / median(unknown)).toBeLessThan(2);
    expect(median(known)).toBeGreaterThan(5); // a real scrypt ran for the known user too
  });
});
