import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalRequest, credentialScope, stableJson, VOLATILE_FIELDS, volatileFor, withoutVolatile } from '../../src/cache/canonical-key.js';
import { bodyMatches, compileCacheRule } from '../../src/cache/cache-rule.js';
import { parseTtl, ResponseCache, type CacheEntry } from '../../src/cache/response-cache.js';

const req = (json: unknown, extra: Partial<Parameters<typeof canonicalRequest>[0]> = {}): string =>
  canonicalRequest({ provider: 'openai', method: 'POST', host: 'api.openai.com', path: '/v1/chat/completions', json, ...extra });

describe('canonical request key', () => {
  it('ignores JSON key order at every depth but keeps array order', () => {
    expect(req({ model: 'm', messages: [{ role: 'user', content: 'a' }], temperature: 0 })).toBe(req({ temperature: 0, messages: [{ content: 'a', role: 'user' }], model: 'm' }));
    expect(req({ messages: [{ content: 'a' }, { content: 'b' }] })).not.toBe(req({ messages: [{ content: 'b' }, { content: 'a' }] }));
    expect(stableJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('writes exactly the text it wrote when the volatile fields were copied out first (stored keys stay valid)', () => {
    // The old form, kept here as the reference: stableJson over a copy without the volatile paths.
    const reference = (provider: string, json: unknown): string =>
      `POST api.example.com/v1/x\n${stableJson(withoutVolatile(json, volatileFor(provider)))}`;
    const volatileKey = fc.constantFrom('user', 'metadata', 'user_id', 'stream_options', 'request_id', 'requestId', 'store', 'model', 'other');
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.array(tie('value'), { maxLength: 3 }), tie('object')),
      object: fc.dictionary(volatileKey, tie('value'), { maxKeys: 5 }),
    })).object;
    fc.assert(fc.property(fc.constantFrom(...Object.keys(VOLATILE_FIELDS), 'gemini', undefined), json, (provider, body) => {
      const actual = canonicalRequest({ provider, method: 'POST', host: 'api.example.com', path: '/v1/x', json: body });
      expect(actual).toBe(reference(provider ?? '', body));
    }), { numRuns: 2000 });
    expect(canonicalRequest({ provider: 'anthropic', method: 'POST', host: 'api.example.com', path: '/v1/x', json: { metadata: { user_id: 'a', keep: 1 }, user: 'u' } }))
      .toBe('POST api.example.com/v1/x\n{"metadata":{"keep":1},"user":"u"}');
  });

  it('drops the volatile fields of each provider, and only those', () => {
    expect(req({ model: 'm', user: 'u1', stream_options: { include_usage: true }, metadata: { x: 1 } })).toBe(req({ model: 'm', user: 'u2' }));
    expect(req({ model: 'm', stream: true })).not.toBe(req({ model: 'm', stream: false }));
    const anthropic = (json: unknown): string => canonicalRequest({ provider: 'anthropic', method: 'POST', host: 'api.anthropic.com', path: '/v1/messages', json });
    expect(anthropic({ model: 'c', metadata: { user_id: 'a', other: 1 } })).toBe(anthropic({ model: 'c', metadata: { user_id: 'b', other: 1 } }));
    expect(anthropic({ model: 'c', metadata: { other: 1 } })).not.toBe(anthropic({ model: 'c', metadata: { other: 2 } }));
    // Anthropic's `user` is not a volatile field of its API: it stays in the key.
    expect(anthropic({ model: 'c', user: 'a' })).not.toBe(anthropic({ model: 'c', user: 'b' }));
    const input = { metadata: { user_id: 'x' } };
    withoutVolatile(input, ['metadata.user_id']);
    expect(input).toEqual({ metadata: { user_id: 'x' } }); // never changes what is forwarded
  });

  it('path and query count, credential query parameters do not; non-JSON bodies are hashed', () => {
    const g = (path: string): string => canonicalRequest({ provider: 'gemini', method: 'POST', host: 'generativelanguage.googleapis.com', path, json: { a: 1 } });
    expect(g('/v1beta/models/x:streamGenerateContent?alt=sse&key=AIzaA')).toBe(g('/v1beta/models/x:streamGenerateContent?key=AIzaB&alt=sse'));
    expect(g('/v1beta/models/x:streamGenerateContent?alt=sse')).not.toBe(g('/v1beta/models/x:generateContent?alt=sse'));
    expect(req(undefined, { raw: Buffer.from('abc') })).not.toBe(req(undefined, { raw: Buffer.from('abd') }));
    expect(req(undefined, { raw: Buffer.from('abc') })).not.toContain('abc');
  });

  it('is scoped per proxy user and credential; the key never contains either', () => {
    const canonical = req({ model: 'm' });
    const h = (key: string): string[] => ['Authorization', `Bearer ${key}`, 'x-request-id', String(Math.random())];
    const a = cacheKey(credentialScope(h('sk-aaa'), '/v1/x', undefined), canonical);
    expect(cacheKey(credentialScope(h('sk-aaa'), '/v1/x', undefined), canonical)).toBe(a); // request ids do not matter
    expect(cacheKey(credentialScope(h('sk-bbb'), '/v1/x', undefined), canonical)).not.toBe(a);
    expect(cacheKey(credentialScope(h('sk-aaa'), '/v1/x', 'alice'), canonical)).not.toBe(cacheKey(credentialScope(h('sk-aaa'), '/v1/x', 'bob'), canonical));
    expect(credentialScope(['x-goog-api-key', 'k1'], '/p', undefined)).not.toBe(credentialScope(['x-goog-api-key', 'k2'], '/p', undefined));
    expect(credentialScope([], '/p?key=k1', undefined)).not.toBe(credentialScope([], '/p?key=k2', undefined));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('cache rule', () => {
  const rule = (when?: { temperature?: number | number[] }) => compileCacheRule({ id: 'r', mode: 'enforce', match: () => true }, { ttl: '10m', when }, ['rules', 0, 'cache']);
  it('parses the ttl and applies `when.temperature` wherever the API puts it', () => {
    expect(rule().bounds.ttlMs).toBe(600_000);
    expect([parseTtl('90s'), parseTtl('2h'), parseTtl('1d'), parseTtl('10'), parseTtl('0s')]).toEqual([90_000, 7_200_000, 86_400_000, undefined, undefined]);
    const r = rule({ temperature: 0 });
    expect([bodyMatches(r, { temperature: 0 }), bodyMatches(r, { temperature: 0.7 }), bodyMatches(r, {}), bodyMatches(r, { generationConfig: { temperature: 0 } })]).toEqual([true, false, false, true]);
    expect(bodyMatches(rule(), {})).toBe(true);
  });
});

describe('ResponseCache bounds', () => {
  let t = 1000;
  const entry = (key: string, bytes: number, ttl = 60_000): CacheEntry => ({ key, rule: 'r', status: 200, contentType: 'application/json', body: Buffer.alloc(bytes), storedAt: t, expiresAt: t + ttl, exchangeId: key });

  it('expires entries at their TTL', () => {
    t = 1000;
    const c = new ResponseCache({ ttlMs: 60_000, maxEntries: 10, maxBytes: 1000 }, () => t);
    c.set(entry('a', 10));
    t += 59_999;
    expect(c.get('a')?.key).toBe('a');
    t += 1;
    expect(c.get('a')).toBeUndefined();
    expect([c.size, c.bytes]).toEqual([0, 0]);
  });

  it('sweeps expired entries out on an insert at most once a second within the bounds, and always when the bounds are reached', () => {
    t = 1000;
    const c = new ResponseCache({ ttlMs: 60_000, maxEntries: 3, maxBytes: 1000 }, () => t);
    c.set(entry('old', 10, 100));
    t += 500;
    expect(c.set(entry('b', 10)).evicted).toEqual([]);
    t += 100; // 'old' has expired: never served, swept on the next due insert
    expect(c.get('old')).toBeUndefined();
    c.set(entry('old2', 10, 100));
    t += 200;
    expect(c.set(entry('c', 10)).evicted).toEqual([]); // within bounds, swept less than a second ago
    t += 300;
    expect(c.set(entry('d', 10)).evicted).toEqual(['old2']); // a second since the last sweep
    t += 200;
    expect(c.set(entry('e', 10, 50)).evicted).toEqual(['b']); // four entries: the least recently used goes
    t += 100; // 'e' expired; c, d, e, f is over maxEntries: the sweep runs first, so no live entry goes
    expect(c.set(entry('f', 10)).evicted).toEqual(['e']);
    expect([c.size, c.has('c'), c.has('d'), c.has('f')]).toEqual([3, true, true, true]);
  });

  it('evicts least recently used past maxEntries and maxBytes, and refuses an entry bigger than maxBytes', () => {
    t = 1000;
    const c = new ResponseCache({ ttlMs: 60_000, maxEntries: 3, maxBytes: 100 }, () => t);
    c.set(entry('a', 10));
    c.set(entry('b', 10));
    c.set(entry('c', 10));
    c.get('a'); // a is now the most recently used
    expect(c.set(entry('d', 10)).evicted).toEqual(['b']);
    expect(c.set(entry('e', 75)).evicted).toEqual(['c']); // a, d, e: 3 entries, 95 bytes
    expect(c.set(entry('f', 20)).evicted).toEqual(['a', 'd']); // over 100 bytes: oldest-used go until it fits
    expect([c.has('e'), c.has('f'), c.bytes]).toEqual([true, true, 95]);
    expect(c.set(entry('huge', 101))).toEqual({ stored: false, evicted: [] });
    c.bounds = { ...c.bounds, maxEntries: 1 };
    expect(c.enforce()).toEqual(['e']);
  });
});
