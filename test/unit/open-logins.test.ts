import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LoginResult, ProxyAuth } from '../../src/proxy/auth.js';
import { OpenLogins, type HeldConnection } from '../../src/proxy/open-logins.js';
import { silentLogger } from '../../src/log.js';

/** A stand-in for the users a reload brings: answers each header as `answers` says, and counts the checks. */
function users(answers: Record<string, LoginResult | LoginResult[]>): ProxyAuth & { checked: string[] } {
  const checked: string[] = [];
  return {
    enabled: true, checked,
    verify: async (header: string) => {
      checked.push(header);
      const a = answers[header] ?? { refused: 'unknown_user', repeated: false };
      return Array.isArray(a) ? a.shift()! : a;
    },
  } as unknown as ProxyAuth & { checked: string[] };
}

function setup(before: ProxyAuth) {
  let auth = before;
  const warnings: Array<Record<string, unknown>> = [];
  const logger = silentLogger();
  logger.warn = ((fields: Record<string, unknown>, msg: string) => void warnings.push({ ...fields, msg })) as typeof logger.warn;
  const counted: string[] = [];
  const logins = new OpenLogins({ auth: () => auth, logger, redactor: () => ({ text: (s: string) => s }), count: (c) => void counted.push(c) });
  const closed: string[] = [];
  const conn = (user: string, kind: HeldConnection['kind'] = 'tunnel', checkedBy = before): HeldConnection => ({
    kind, clientUser: user, clientAddress: '10.0.0.7', host: 'example.com:443', login: { header: `h-${user}`, checkedBy },
    close: () => void closed.push(`${kind}:${user}`),
  });
  return { logins, conn, closed, warnings, counted, reload: (next: ProxyAuth) => void (auth = next) };
}

const flush = () => new Promise((r) => setImmediate(r));

afterEach(() => vi.useRealTimers());

describe('tunnels and WebSocket sessions held under a gateway login', () => {
  it('a reload closes those of the users it changed whose login no longer holds, checks no one else, logs and counts each', async () => {
    const t = setup(users({}));
    t.logins.hold(t.conn('alice'));
    t.logins.hold(t.conn('alice', 'websocket'));
    t.logins.hold(t.conn('bob'));
    t.logins.hold(t.conn('carol', 'websocket'));
    // Bob is gone; carol's line was written again (same password, new salt): still holds.
    const next = users({ 'h-carol': { user: 'carol' } });
    t.reload(next);
    await t.logins.afterReload(new Set(['bob', 'carol']));
    expect(t.closed).toEqual(['tunnel:bob']);
    expect(next.checked.sort()).toEqual(['h-bob', 'h-carol']);
    // The refused login is logged as a request's would be (login-log.ts), then the close.
    expect(t.warnings).toEqual([
      { msg: 'proxy login refused', reason: 'unknown_user', client: '10.0.0.7', via: 'connection' },
      { msg: 'connection closed: its login no longer holds', user: 'bob', host: 'example.com:443', kind: 'tunnel', client: '10.0.0.7' },
    ]);
    expect(JSON.stringify(t.warnings)).not.toContain('h-bob');
    expect(t.counted).toEqual(['proxy_auth_required']);
    expect(t.logins.size).toBe(3);
  });

  it('a connection that ended is let go and never closed again', async () => {
    const t = setup(users({}));
    const release = t.logins.hold(t.conn('bob'));
    release();
    t.reload(users({}));
    await t.logins.afterReload(new Set(['bob']));
    expect(t.closed).toEqual([]);
    expect(t.logins.size).toBe(0);
  });

  it('a check the login queue could not run is tried again, and closes once the login is seen refused', async () => {
    vi.useFakeTimers();
    const t = setup(users({}));
    t.logins.hold(t.conn('bob'));
    const next = users({ 'h-bob': [{ refused: 'busy', repeated: false }, { refused: 'wrong_password', repeated: false, name: 'bob' }] });
    t.reload(next);
    await t.logins.afterReload(new Set(['bob']));
    expect(t.closed).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(next.checked).toEqual(['h-bob', 'h-bob']);
    expect(t.closed).toEqual(['tunnel:bob']);
  });

  it('one let in under the users before a reload, and held after it, is checked as it is held', async () => {
    const old = users({});
    const t = setup(old);
    t.reload(users({}));
    t.logins.hold(t.conn('bob', 'websocket', old));
    await flush();
    expect(t.closed).toEqual(['websocket:bob']);
  });

  it('costs nothing when a reload changed no user', async () => {
    const t = setup(users({}));
    t.logins.hold(t.conn('bob'));
    const next = users({});
    t.reload(next);
    await t.logins.afterReload(new Set());
    expect(next.checked).toEqual([]);
    expect(t.closed).toEqual([]);
  });
});
