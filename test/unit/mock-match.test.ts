import { describe, expect, it } from 'vitest';
import { makeExchange, type Exchange } from '../../src/exchange.js';
import { firstDifference } from '../../src/mock/first-difference.js';
import { MockIndex } from '../../src/mock/mock-index.js';
import { mockSummary } from '../../src/cli/mock.js';
import type { MockUpstream } from '../../src/mock/mock-upstream.js';
import { mockCanonical, recordingFromRow, type Recording } from '../../src/mock/recording.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { storedBody } from '../../src/recorder/stored-body.js';
import { builtInRedactor } from '../../src/redact/redactor.js';

const HOST = 'api.anthropic.com';

function recorded(body: unknown, answer: string, at: number, extra: Partial<Exchange> = {}, headers: string[] = ['x-api-key', 'sk-ant-api03-recorded-0123456789abcdef']): Recording {
  const text = JSON.stringify(body);
  const ex = makeExchange({
    provider: 'anthropic', api: 'messages', target: { host: HOST, port: 443, tls: true },
    timings: { start: at, requestEnd: at + 2, upstreamHeaders: at + 50, firstByte: at + 70, end: at + 90 },
    request: { method: 'POST', path: '/v1/messages', headers, body: { bytes: Buffer.from(text), size: text.length, truncated: false } },
    response: { status: 200, headers: ['content-type', 'application/json', 'request-id', 'req_1', 'content-length', '99', 'date', 'x'], body: { bytes: Buffer.from(answer), size: answer.length, truncated: false } },
    outcome: 'completed',
    ...extra,
  });
  const r = recordingFromRow(exchangeToRow(ex));
  if (typeof r === 'string') throw new Error(r);
  return r;
}

const live = (body: unknown, path = '/v1/messages') => mockCanonical({ provider: 'anthropic', method: 'POST', host: HOST, path, body: Buffer.from(JSON.stringify(body)) });

const turn1 = { model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }], metadata: { user_id: 'session-a' } };

describe('mock matching (canonical request, no credential scope)', () => {
  it('matches whatever the key order, metadata.user_id, cache_control placement and credential', () => {
    const index = new MockIndex([recorded(turn1, '{"a":1}', 1000)]);
    const reordered = { messages: [{ content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }], role: 'user' }], max_tokens: 256, model: 'claude-sonnet-4-5', metadata: { user_id: 'session-b' } };
    // String content and a one-text-block array are different requests to the cache and to the mock.
    expect('miss' in index.take(live(reordered))).toBe(true);
    const sameShape = { max_tokens: 256, model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }], metadata: { user_id: 'other' } };
    const found = index.take(live(sameShape));
    expect('hit' in found && found.hit.body.toString()).toBe('{"a":1}');
  });

  it('ignores cache_control blocks at any depth', () => {
    const withCc = { ...turn1, system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral', ttl: '1h' } }] };
    const index = new MockIndex([recorded(withCc, '{}', 1000)]);
    expect('hit' in index.take(live({ ...turn1, system: [{ type: 'text', text: 'be brief' }] }))).toBe(true);
  });

  it('serves several recordings of one request in recorded order, then repeats the last', () => {
    const index = new MockIndex([recorded(turn1, 'second', 2000), recorded(turn1, 'first', 1000)]);
    const bodies = [1, 2, 3].map(() => {
      const m = index.take(live(turn1));
      return 'hit' in m ? [m.hit.body.toString(), m.repeat] : 'miss';
    });
    expect(bodies).toEqual([['first', false], ['second', false], ['second', true]]);
    expect(index.unused()).toEqual([]);
  });

  it('a miss names the key and the first difference from the nearest recording', () => {
    const index = new MockIndex([recorded(turn1, '{}', 1000), recorded({ ...turn1, messages: [{ role: 'user', content: 'something else entirely' }] }, '{}', 2000)]);
    const m = index.take(live({ ...turn1, max_tokens: 512 }));
    expect('miss' in m).toBe(true);
    if (!('miss' in m)) return;
    expect(m.miss.key).toMatch(/^[0-9a-f]{64}$/);
    expect(m.miss.nearest?.difference).toBe('max_tokens: recorded 256, got 512');
    const other = index.take(live(turn1, '/v1/complete'));
    expect('miss' in other && other.miss.nearest).toBeUndefined();
  });

  it('a prompt holding a key matches its recording once keyed as the archive stores it (redacted)', () => {
    const secret = { ...turn1, messages: [{ role: 'user', content: 'my key is sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123' }] };
    const index = new MockIndex([recorded(secret, '{}', 1000)]);
    const raw = Buffer.from(JSON.stringify(secret));
    expect('miss' in index.take(live(secret))).toBe(true);
    // What MockUpstream does with a live request body before keying it.
    const stored = storedBody({ bytes: raw, size: raw.length, truncated: false }, ['content-type', 'application/json'], builtInRedactor);
    const keyed = mockCanonical({ provider: 'anthropic', method: 'POST', host: HOST, path: '/v1/messages', body: stored.bytes });
    expect('hit' in index.take(keyed)).toBe(true);
  });

  it('replays status and headers without framing, coding or date; marks the recording id', () => {
    const r = recorded(turn1, '{}', 1000);
    expect(r.headers).toEqual(['content-type', 'application/json', 'request-id', 'req_1', 'x-llmtap-mock', r.exchangeId]);
    expect(r.timing).toEqual({ headersMs: 48, firstByteMs: 20 });
  });

  it('leaves out what the provider never answered: llmtap errors, aborted or cut answers, WebSockets', () => {
    const row = (extra: Partial<Exchange>) => {
      const ex = makeExchange({ provider: 'anthropic', target: { host: HOST, port: 443, tls: true }, request: { method: 'POST', path: '/v1/messages' }, response: { status: 200, headers: [], body: { bytes: Buffer.from('x'), size: 1, truncated: false } }, outcome: 'completed', ...extra });
      return recordingFromRow(exchangeToRow(ex));
    };
    expect(row({ outcome: 'blocked', errorCode: 'blocked' })).toBe('not_completed');
    expect(row({ errorCode: 'no_recording' })).toBe('llmtap_error');
    expect(row({ outcome: 'client_aborted' })).toBe('not_completed');
    expect(row({ response: { status: 200, headers: [], body: { bytes: Buffer.from('x'), size: 9, truncated: true } } })).toBe('body_incomplete');
    expect(row({ response: { status: 101, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false } } })).toBe('websocket');
    expect(typeof row({ response: { status: 429, headers: [], body: { bytes: Buffer.from('{}'), size: 2, truncated: false } } })).toBe('object');
  });
});

describe('firstDifference', () => {
  it('names the request line, a missing field, or an array length', () => {
    expect(firstDifference('POST a/v1/x\n{}', 'POST a/v1/y\n{}')).toBe('request line: recorded POST a/v1/x, got POST a/v1/y');
    expect(firstDifference('POST a/p\n{"a":1}', 'POST a/p\n{"a":1,"b":2}')).toBe('b: not recorded, got 2');
    expect(firstDifference('POST a/p\n{"m":[1]}', 'POST a/p\n{"m":[1,2]}')).toBe('m: recorded 1 items, got 2');
    expect(firstDifference('POST a/p\n{"m":[{"c":"x"}]}', 'POST a/p\n{"m":[{"c":"y"}]}')).toBe('m[0].c: recorded "x", got "y"');
  });

  it('says so when the recording holds a redaction placeholder the request does not (a policy redacted it)', () => {
    expect(firstDifference('POST a/p\n{"c":"mail [REDACTED:email:1]"}', 'POST a/p\n{"c":"mail bob@example.com"}'))
      .toBe('c: recorded "mail [REDACTED:email:1]", got "mail bob@example.com" (redacted by a policy when recorded: run the mock with the same --policy)');
    expect(firstDifference('POST a/p\n{"c":"[REDACTED:email:1] a"}', 'POST a/p\n{"c":"[REDACTED:email:1] b"}')).toBe('c: recorded "[REDACTED:email:1] a", got "[REDACTED:email:1] b"');
  });
});

describe('the mock\'s summary when it stops', () => {
  it('counts in words that agree with the number (1 recording, 2 recordings)', () => {
    const summary = (unused: number) => mockSummary({
      served: 1, misses: [], index: { unused: () => Array.from({ length: unused }) }, ws: { sessions: 0, answered: 0, misses: [] }, wsIndex: { size: 0, unusedTurns: () => 0 },
    } as unknown as MockUpstream);
    expect(summary(1)).toBe('llmtap mock: 1 answered from recordings, 0 with no recording, 1 recording never asked for\n');
    expect(summary(2)).toContain(', 2 recordings never asked for');
  });
});
