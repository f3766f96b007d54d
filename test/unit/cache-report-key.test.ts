import { describe, expect, it } from 'vitest';
import { cacheReport } from '../../src/cache/cache-report.js';
import { lookupCache, storeAnswer } from '../../src/cache/cache-stage.js';
import { ResponseCaches } from '../../src/cache/response-caches.js';
import { makeExchange, type Exchange } from '../../src/exchange.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { captureWhole } from '../../src/proxy/capture.js';
import type { ExchangeRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/**
 * cache-report must group what the response cache itself would answer: each pair of
 * requests below goes through the real cache stage (hit or not), is recorded as the
 * archive would, and the report must group the pair exactly when the cache hit.
 */
const POLICY = loadPolicyText('rules:\n  - {id: c, cache: {ttl: 1h}}\n', 'p.yaml');
const CAPTURE = 200;
const T0 = Date.UTC(2026, 11, 1, 12);

interface Req {
  host?: string;
  provider?: 'openai' | 'anthropic';
  body: unknown;
  headers?: string[];
  address?: string;
  user?: string;
}

let clock = 0;
function exchangeOf(r: Req): { ex: Exchange; body: Buffer } {
  const body = Buffer.from(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
  const anthropic = r.provider === 'anthropic';
  const ex = makeExchange({
    provider: r.provider ?? 'openai',
    api: anthropic ? 'messages' : 'chat.completions',
    client: { address: r.address ?? '127.0.0.1', user: r.user },
    target: { host: r.host ?? (anthropic ? 'api.anthropic.com' : 'api.openai.com'), port: 443, tls: true },
    request: { path: anthropic ? '/v1/messages' : '/v1/chat/completions', headers: ['content-type', 'application/json', ...(r.headers ?? [])], model: 'm' },
    timings: { start: T0 + clock++ * 1000 },
  });
  ex.request.body = captureWhole(body, CAPTURE);
  return { ex, body };
}

/** Sends both requests through the cache stage; returns whether the second was a hit and the archive rows. */
function throughCache(a: Req, b: Req): { hit: boolean; rows: ExchangeRow[] } {
  const caches = new ResponseCaches();
  const rows: ExchangeRow[] = [];
  let hit = false;
  for (const r of [a, b]) {
    const { ex, body } = exchangeOf(r);
    const ticket = lookupCache(POLICY, caches, ex, body);
    if (ticket?.hit) hit = true;
    const answer = Buffer.from('{"choices":[]}');
    ex.response = { status: 200, headers: ['content-type', 'application/json'], body: captureWhole(answer, CAPTURE) };
    ex.outcome = 'completed';
    ex.timings.end = ex.timings.start + 10;
    storeAnswer(ticket, ex, caches, undefined);
    rows.push({ ...exchangeToRow(ex), input_tokens: 10, output_tokens: 5, cost_usd: 0.001, cost_source: ticket?.hit ? 'cache' : 'api' });
  }
  return { hit, rows };
}

const ask = { model: 'gpt-4o-mini', temperature: 0, messages: [{ role: 'user', content: 'what is 2+2?' }] };
const long = (tail: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `${'x'.repeat(CAPTURE)}${tail}` }] });
const auth = (key: string) => ['authorization', `Bearer ${key}`];
/** A prompt holding a key-shaped string: the archive stores it as [REDACTED], the cache keyed the real bytes. */
const pasted = (key: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `why does ${key} fail?` }] });
const KEY_A = 'sk-proj-pastedAAAAAAAAAAAAAAAAAAAAAAAA';
const KEY_B = 'sk-proj-pastedBBBBBBBBBBBBBBBBBBBBBBBB';

const PAIRS: Record<string, [Req, Req]> = {
  'key order and volatile fields, another client address': [
    { body: ask },
    { body: { messages: ask.messages, temperature: 0, model: ask.model, user: 'u-1', stream_options: { include_usage: true } }, address: '10.0.0.7' },
  ],
  'Anthropic metadata.user_id': [
    { provider: 'anthropic', body: { model: 'claude', max_tokens: 8, messages: ask.messages, metadata: { user_id: 'session-a' } } },
    { provider: 'anthropic', body: { model: 'claude', max_tokens: 8, messages: ask.messages, metadata: { user_id: 'session-b' } } },
  ],
  'the same credential': [{ body: ask, headers: auth('sk-test-same-0123456789abcdef') }, { body: ask, headers: auth('sk-test-same-0123456789abcdef') }],
  'two credentials': [{ body: ask, headers: auth('sk-test-first-0123456789abcdef') }, { body: ask, headers: auth('sk-test-other-0123456789abcdef') }],
  'two proxy users': [{ body: ask, user: 'alice' }, { body: ask, user: 'bob' }],
  'another model': [{ body: ask }, { body: { ...ask, model: 'gpt-4o' } }],
  'bodies alike only up to the capture limit': [{ body: long('one') }, { body: long('two') }],
  'two keys pasted into the prompt': [{ body: pasted(KEY_A) }, { body: pasted(KEY_B) }],
  'the same key pasted into the prompt': [{ body: pasted(KEY_A) }, { body: pasted(KEY_A) }],
};

/** Pairs whose archived body was redacted: without a recorded key, compared with nothing. */
const REDACTED_PAIRS = new Set(['two keys pasted into the prompt', 'the same key pasted into the prompt']);

const grouped = (rows: ExchangeRow[]): boolean => cacheReport(rows).totals.repeats === 1;

describe('cache-report groups requests by the response cache\'s own key', () => {
  for (const [name, [a, b]] of Object.entries(PAIRS)) {
    it(`${name}: grouped exactly when the cache hits (key recorded by a cache rule)`, () => {
      const { hit, rows } = throughCache(a, b);
      expect(grouped(rows)).toBe(hit);
    });
  }

  it('the cache hits where expected (the pairs test both ways)', () => {
    const hits = Object.fromEntries(Object.entries(PAIRS).map(([name, [a, b]]) => [name, throughCache(a, b).hit]));
    expect(hits).toEqual({
      'key order and volatile fields, another client address': true, 'Anthropic metadata.user_id': true, 'the same credential': true,
      'two credentials': false, 'two proxy users': false, 'another model': false, 'bodies alike only up to the capture limit': false,
      'two keys pasted into the prompt': false, 'the same key pasted into the prompt': true,
    });
  });

  it('without a cache rule in the archive the key is computed the cache\'s way; only a credential\'s value is unseen', () => {
    for (const [name, [a, b]] of Object.entries(PAIRS)) {
      const { hit, rows } = throughCache(a, b);
      const bare = rows.map((r) => ({ ...r, policy: null }));
      // The archive keeps no credential value: two keys look alike, and the shape says so.
      // A body the archive redacted is not the one the cache keyed: compared with nothing.
      const expected = name === 'two credentials' ? true : REDACTED_PAIRS.has(name) ? false : hit;
      expect([name, grouped(bare)]).toEqual([name, expected]);
    }
    const report = cacheReport(throughCache(...PAIRS['the same credential']!).rows.map((r) => ({ ...r, policy: null })));
    expect(report.shapes[0]).toMatchObject({ credentialUnseen: true, who: '-' });
    const plain = cacheReport(throughCache(...PAIRS['key order and volatile fields, another client address']!).rows.map((r) => ({ ...r, policy: null })));
    expect(plain.shapes[0]).toMatchObject({ credentialUnseen: false, requests: 2 });
  });

  it('a computed key is the cache\'s own: its first 16 digits are what the cache decision recorded', () => {
    const { rows } = throughCache(...PAIRS['key order and volatile fields, another client address']!);
    const recorded = (JSON.parse(rows[0]!.policy!) as { decisions: { key: string }[] }).decisions[0]!.key;
    expect(cacheReport(rows.map((r) => ({ ...r, policy: null }))).shapes[0]!.key).toBe(recorded);
  });

  it('a body the archive holds only a prefix of is compared with nothing and counted apart', () => {
    const { rows } = throughCache({ body: long('same') }, { body: long('same') });
    const report = cacheReport(rows.map((r) => ({ ...r, policy: null })));
    expect([report.totals.repeats, report.unkeyed]).toEqual([0, 2]);
    // With the key a cache rule recorded, the pair is known to be one request.
    expect(cacheReport(rows).totals.repeats).toBe(1);
  });
});

describe('an answer the provider ended with its error', () => {
  it('is no answer a cache keeps: the request after it is no repeat (cache-report, policy test)', () => {
    const { rows } = throughCache(...PAIRS['key order and volatile fields, another client address']!);
    // Both went upstream; the first answer's stream was then cut by an Anthropic-style error event after its 200.
    const upstream = rows.map((r) => ({ ...r, policy: null, cost_source: 'api' }));
    expect(cacheReport(upstream).totals.repeats).toBe(1);
    const failedFirst = [{ ...upstream[0]!, stop_reason: 'overloaded_error' }, upstream[1]!];
    expect(cacheReport(failedFirst).totals.repeats).toBe(0);
    // A completed answer's own stop reason leaves it cacheable.
    expect(cacheReport([{ ...upstream[0]!, stop_reason: 'end_turn' }, upstream[1]!]).totals.repeats).toBe(1);
  });
});

describe('a body the archive redacted', () => {
  it('is compared with nothing and counted apart: two different keys in it would look alike', () => {
    for (const name of REDACTED_PAIRS) {
      const { rows } = throughCache(...PAIRS[name]!);
      expect(rows.every((r) => Buffer.from(r.request_body!).toString().includes('[REDACTED]'))).toBe(true);
      const report = cacheReport(rows.map((r) => ({ ...r, policy: null })));
      expect([name, report.totals.repeats, report.redacted, report.unkeyed]).toEqual([name, 0, 2, 0]);
      // A key a cache rule recorded is the live one: grouped exactly when the cache hit.
      expect(cacheReport(rows).redacted).toBe(0);
    }
  });
});

describe('a request body the cache cannot read', () => {
  it('is not cached: two different bodies in a coding llmtap cannot undo never share an answer', () => {
    const caches = new ResponseCaches();
    const tickets = ['{"messages":[{"role":"user","content":"one"}]}', '{"messages":[{"role":"user","content":"two"}]}'].map((text) => {
      const { ex } = exchangeOf({ body: text, headers: ['content-encoding', 'x-unknown'] });
      // The policy stage hands the cache no decoded body for a coding it could not undo.
      const ticket = lookupCache(POLICY, caches, ex, undefined);
      ex.response = { status: 200, headers: ['content-type', 'application/json'], body: captureWhole(Buffer.from(`{"answer":"${text.length}"}`), CAPTURE) };
      ex.outcome = 'completed';
      storeAnswer(ticket, ex, caches, undefined);
      return ticket;
    });
    expect(tickets).toEqual([undefined, undefined]);
    // An empty body (a GET) is still cacheable.
    const { ex } = exchangeOf({ body: '' });
    expect(lookupCache(POLICY, caches, ex, undefined)?.store).toHaveLength(1);
  });
});
