import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config-error.js';
import { parseRateLimit, RateLimiter } from '../../src/policy/rate-limit.js';

describe('parseRateLimit', () => {
  it.each([
    ['60/1m', 60, 60_000],
    ['60/m', 60, 60_000],
    ['5/s', 5, 1000],
    ['5/10s', 5, 10_000],
    ['1000/1h', 1000, 3_600_000],
    ['1/24h', 1, 86_400_000],
    [' 3/1m ', 3, 60_000],
  ])('%j → %d per %d ms', (spec, limit, windowMs) => {
    expect(parseRateLimit(spec)).toEqual({ limit, windowMs });
  });

  it.each(['', '60', '60/', '/1m', '0/1m', '60/0m', '-1/1m', '1.5/s', '60/1d', '60/1 m', '60 / 1m', 'sixty/1m', '60/1M', '60/1m/extra'])('refuses %j naming the flag', (spec) => {
    expect(() => parseRateLimit(spec)).toThrow(ConfigError);
    expect(() => parseRateLimit(spec)).toThrow(/^--rate-limit .*expected N\/DURATION/);
  });
});

describe('RateLimiter', () => {
  function limiter(limit: number, windowMs: number, maxKeys?: number) {
    const clock = { t: 1_000_000 };
    return { clock, rl: new RateLimiter({ limit, windowMs }, () => clock.t, maxKeys) };
  }

  it('a full bucket allows a burst of `limit`, then refuses with Retry-After', () => {
    const { rl } = limiter(3, 60_000);
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    // 3 per minute = one token every 20 s
    expect(rl.take('a')).toEqual({ ok: false, retryAfterSeconds: 20 });
  });

  it('refills evenly over the window (injected clock)', () => {
    const { rl, clock } = limiter(3, 60_000);
    for (let i = 0; i < 3; i++) rl.take('a');
    clock.t += 10_000; // half a token
    expect(rl.take('a')).toEqual({ ok: false, retryAfterSeconds: 10 });
    clock.t += 9_999;
    expect(rl.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 }); // never 0
    clock.t += 1;
    expect(rl.take('a')).toEqual({ ok: true });
    expect(rl.take('a').ok).toBe(false);
    clock.t += 10 * 60_000; // long idle: back to a full bucket, never more than `limit`
    expect([rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')].map((d) => d.ok)).toEqual([true, true, true, false]);
  });

  it('refused takes do not consume tokens', () => {
    const { rl, clock } = limiter(1, 1000);
    expect(rl.take('a').ok).toBe(true);
    for (let i = 0; i < 50; i++) expect(rl.take('a').ok).toBe(false);
    clock.t += 1000;
    expect(rl.take('a').ok).toBe(true);
  });

  it('retryAfter rounds up to whole seconds', () => {
    const { rl } = limiter(1, 3_600_000);
    rl.take('a');
    expect(rl.take('a')).toEqual({ ok: false, retryAfterSeconds: 3600 });
    const fast = limiter(10, 1000).rl;
    for (let i = 0; i < 10; i++) fast.take('a');
    expect(fast.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('keys are independent', () => {
    const { rl } = limiter(1, 60_000);
    expect(rl.take('alice api.openai.com').ok).toBe(true);
    expect(rl.take('alice api.openai.com').ok).toBe(false);
    expect(rl.take('alice api.anthropic.com').ok).toBe(true);
    expect(rl.take('bob api.openai.com').ok).toBe(true);
  });

  it('the number of buckets is bounded; the least recently used is forgotten first', () => {
    const { rl } = limiter(1, 60_000, 2);
    rl.take('a');
    rl.take('b');
    rl.take('a'); // refused, but touches a: b is now the oldest
    rl.take('c'); // evicts b
    expect(rl.take('a').ok).toBe(false); // still remembered
    expect(rl.take('b').ok).toBe(true); // forgotten: starts full again (and evicts c)
  });

  it('a key used twice in a row keeps its place; used after another it moves to the end again', () => {
    const { rl } = limiter(1, 60_000, 2);
    rl.take('a');
    rl.take('b');
    rl.take('b'); // already the newest
    rl.take('a'); // a is the newest again: b is the oldest
    rl.take('a');
    rl.take('c'); // evicts b
    expect(rl.take('a').ok).toBe(false);
    expect(rl.take('b').ok).toBe(true);
  });
});
