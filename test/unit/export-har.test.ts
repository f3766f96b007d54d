import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { countRecords } from '../../src/archive/export.js';
import { harLines, type HarOptions } from '../../src/archive/har.js';
import { exchangeUrl, rowUsesTls } from '../../src/archive/row-scheme.js';
import { makeExchange, type Exchange, type WsMessageRecord } from '../../src/exchange.js';
import { openArchive } from '../../src/recorder/db.js';
import { exchangeToRow, wsMessageToRow } from '../../src/recorder/rows.js';
import { assertValidHar, harValidator } from '../helpers/har-validator.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const BINARY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0x00, 0x80]);

type Har = { log: { version: string; creator: { name: string; version: string }; entries: Array<Record<string, any>> } };

/** Exchanges through the real row mapping and archive, exported as one HAR document. */
function exportHar(exchanges: Exchange[], ws: Record<string, WsMessageRecord[]> = {}, options: HarOptions = {}): { text: string; har: Har } {
  const archive = openArchive(':memory:');
  archive.insertExchanges(exchanges.map((ex) => exchangeToRow(ex)));
  for (const [id, messages] of Object.entries(ws)) archive.insertWsMessages(messages.map((m) => wsMessageToRow(id, m)));
  const text = [...harLines(archive, options)].join('\n');
  archive.close();
  return { text, har: JSON.parse(text) as Har };
}

function body(bytes: Buffer | string, size?: number) {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return { bytes: b, size: size ?? b.length, truncated: false };
}

const times = (start: number, requestEnd?: number, upstreamHeaders?: number, end?: number) =>
  ({ start, requestEnd, upstreamHeaders, firstByte: upstreamHeaders, end });

function jsonExchange(): Exchange {
  const req = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}';
  return makeExchange({
    provider: 'openai', api: 'chat.completions', timings: times(T0, T0 + 2.5, T0 + 120.25, T0 + 130),
    tool: { name: 'curl', version: '8.5.0' }, agent: { sessionId: 's-1' } as Exchange['agent'],
    usage: { inputTokens: 11, outputTokens: 17 }, outcome: 'completed',
    request: { method: 'POST', path: '/v1/chat/completions?api-version=2024&x=a%20b', model: 'gpt-4o-mini',
      headers: ['Content-Type', 'application/json', 'Authorization', 'Bearer sk-secret0123456789abcdefghijkl'], body: body(req) },
    response: { status: 200, headers: ['Content-Type', 'application/json', 'X-Request-Id', 'r1'], body: body('{"id":"c1","choices":[]}') },
  });
}

function sseExchange(): Exchange {
  const sse = 'event: message_start\ndata: {"type":"message_start"}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
  return makeExchange({
    target: { host: 'api.anthropic.com', port: 443, tls: true }, provider: 'anthropic', api: 'messages', timings: times(T0 + 1000, T0 + 1001, T0 + 1050, T0 + 1400),
    request: { method: 'POST', path: '/v1/messages', headers: ['content-type', 'application/json'], body: body('{"stream":true}'), stream: true },
    response: { status: 200, headers: ['content-type', 'text/event-stream'], body: body(sse) },
  });
}

function binaryExchange(): Exchange {
  return makeExchange({
    timings: times(T0 + 2000, T0 + 2001, T0 + 2002, T0 + 2003),
    request: { method: 'POST', path: '/v1/audio/transcriptions', headers: ['content-type', 'application/octet-stream'], body: body(BINARY) },
    response: { status: 200, headers: ['content-type', 'audio/mpeg'], body: body(BINARY) },
  });
}

function digestExchange(): Exchange {
  return makeExchange({
    timings: times(T0 + 3000, T0 + 3001, T0 + 3002, T0 + 3003),
    request: { method: 'POST', path: '/v1/x', headers: ['content-type', 'application/json', 'content-encoding', 'x-unknown'], body: body('not really coded') },
    response: { status: 200, headers: ['content-type', 'application/json', 'content-encoding', 'x-unknown'], body: body('opaque bytes here') },
  });
}

function gzipExchange(): Exchange {
  const answer = JSON.stringify({ id: 'g1', text: 'compressible '.repeat(50) });
  const gz = gzipSync(answer);
  return makeExchange({
    timings: times(T0 + 4000, T0 + 4001, T0 + 4100, T0 + 4200),
    request: { method: 'GET', path: '/v1/models', headers: [] },
    response: { status: 200, headers: ['content-type', 'application/json', 'content-encoding', 'gzip'], body: body(gz) },
  });
}

function wsExchange(): { ex: Exchange; messages: WsMessageRecord[] } {
  const ex = makeExchange({
    timings: times(T0 + 5000, T0 + 5000, T0 + 5010, T0 + 6000),
    request: { method: 'GET', path: '/v1/responses', headers: ['upgrade', 'websocket', 'connection', 'Upgrade'] },
    response: { status: 101, headers: ['upgrade', 'websocket', 'connection', 'Upgrade'], body: body('') },
  });
  const messages: WsMessageRecord[] = [
    { seq: 0, direction: 'client', at: T0 + 5100, opcode: 1, size: 15, compressed: false, truncated: false, text: '{"type":"ping"}' },
    { seq: 1, direction: 'server', at: T0 + 5200.5, opcode: 2, size: BINARY.length, compressed: false, truncated: false, base64: BINARY.toString('base64') },
    { seq: 2, direction: 'client', at: T0 + 5250, opcode: 9, size: 1, compressed: false, truncated: false, base64: Buffer.from('p').toString('base64') },
    { seq: 3, direction: 'server', at: T0 + 5260, opcode: 10, size: 1, compressed: false, truncated: false, base64: Buffer.from('p').toString('base64') },
    { seq: 4, direction: 'client', at: T0 + 5300, opcode: 8, size: 2, compressed: false, truncated: false, base64: Buffer.from([0x03, 0xe8]).toString('base64') },
    { seq: 5, direction: 'server', at: T0 + 5310, opcode: 8, size: 6, compressed: false, truncated: false, base64: Buffer.from([0x03, 0xe8, ...Buffer.from('done')]).toString('base64') },
  ];
  return { ex, messages };
}

/** Upstream never answered: no request end, no headers, no end mark, no response. */
function unansweredExchange(): Exchange {
  return makeExchange({
    target: { host: 'localhost', port: 11434, tls: false }, timings: { start: T0 + 7000 }, outcome: 'upstream_error', errorCode: 'upstream_unreachable',
    request: { method: 'POST', path: '/api/chat', headers: ['content-type', 'application/json'], body: body('{"model":"llama3"}') },
  });
}

describe('HAR export', () => {
  it('every kind of row becomes a valid HAR 1.2 entry, in order', () => {
    const ws = wsExchange();
    const { har } = exportHar([jsonExchange(), sseExchange(), binaryExchange(), digestExchange(), gzipExchange(), ws.ex, unansweredExchange()], { [ws.ex.id]: ws.messages });
    assertValidHar(har);
    expect(har.log.version).toBe('1.2');
    expect(har.log.creator.name).toBe('llmtap');
    expect(har.log.entries.map((e) => e.request.url)).toEqual([
      'https://api.openai.com/v1/chat/completions?api-version=2024&x=a%20b',
      'https://api.anthropic.com/v1/messages',
      'https://api.openai.com/v1/audio/transcriptions',
      'https://api.openai.com/v1/x',
      'https://api.openai.com/v1/models',
      'wss://api.openai.com/v1/responses',
      'http://localhost:11434/api/chat',
    ]);
  });

  it('JSON exchange: headers as sent (redacted), query, postData, content, timings, _llmtap', () => {
    const { har } = exportHar([jsonExchange()]);
    const e = har.log.entries[0]!;
    expect(e.startedDateTime).toBe('2026-01-02T03:04:05.678Z');
    expect(e.time).toBe(130);
    expect(e.timings).toEqual({ blocked: -1, dns: -1, connect: -1, ssl: -1, send: 2.5, wait: 117.75, receive: 9.75 });
    expect(e.request.headers).toEqual([{ name: 'Content-Type', value: 'application/json' }, { name: 'Authorization', value: '[REDACTED]' }]);
    expect(e.request.queryString).toEqual([{ name: 'api-version', value: '2024' }, { name: 'x', value: 'a b' }]);
    expect(e.request.postData).toEqual({ mimeType: 'application/json', text: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' });
    expect(e.request.bodySize).toBe(67);
    expect(e.response).toMatchObject({ status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', redirectURL: '', headersSize: -1, bodySize: 24,
      content: { size: 24, mimeType: 'application/json', text: '{"id":"c1","choices":[]}' } });
    expect(e.response.content.encoding).toBeUndefined();
    expect(e._llmtap).toMatchObject({ tool: { name: 'curl', version: '8.5.0' }, provider: 'openai', api: 'chat.completions', model: 'gpt-4o-mini',
      usage: { input_tokens: 11, output_tokens: 17 }, outcome: 'completed', error_code: null, agent: { sessionId: 's-1' },
      request_body: { stored: 'as_sent', truncated: false }, response_body: { stored: 'as_sent', truncated: false } });
  });

  it('SSE answers are text; binary bodies base64 (postData flagged _encoding, content.encoding)', () => {
    const { har } = exportHar([sseExchange(), binaryExchange()]);
    const [sse, bin] = har.log.entries as [Record<string, any>, Record<string, any>];
    expect(sse.response.content.mimeType).toBe('text/event-stream');
    expect(sse.response.content.text).toContain('event: message_stop\n');
    expect(sse.response.content.encoding).toBeUndefined();
    expect(bin.request.postData).toEqual({ mimeType: 'application/octet-stream', text: BINARY.toString('base64'), _encoding: 'base64' });
    expect(bin.response.content).toEqual({ size: BINARY.length, mimeType: 'audio/mpeg', text: BINARY.toString('base64'), encoding: 'base64' });
  });

  it('digest bodies carry no text, only size and SHA-256; gzip answers are decoded text with the saving', () => {
    const { har } = exportHar([digestExchange(), gzipExchange()]);
    const [digest, gz] = har.log.entries as [Record<string, any>, Record<string, any>];
    expect(digest.request.postData.text).toBeUndefined();
    expect(digest.response.content.text).toBeUndefined();
    expect(digest.response.content.size).toBe('opaque bytes here'.length);
    expect(digest._llmtap.response_body).toMatchObject({ stored: 'digest', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(digest._llmtap.request_body).toMatchObject({ stored: 'digest', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.parse(gz.response.content.text as string).id).toBe('g1');
    expect(gz.response.content.size).toBe(Buffer.byteLength(gz.response.content.text as string));
    expect(gz.response.bodySize).toBeLessThan(gz.response.content.size as number);
    expect(gz.response.content.compression).toBe(gz.response.content.size - gz.response.bodySize);
    expect(gz._llmtap.response_body.stored).toBe('decoded');
    expect(gz.request.postData).toBeUndefined();
  });

  it('a request body sent gzip-coded is decoded text in postData, which says so beside the content-encoding header kept as sent', () => {
    const prompt = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'compressible '.repeat(40) }] });
    const ex = makeExchange({
      timings: times(T0 + 7000, T0 + 7001, T0 + 7100, T0 + 7200),
      request: { method: 'POST', path: '/v1/chat/completions', headers: ['content-type', 'application/json', 'content-encoding', 'gzip'], body: body(gzipSync(prompt)) },
      response: { status: 200, headers: ['content-type', 'application/json'], body: body('{}') },
    });
    const entry = exportHar([ex]).har.log.entries[0] as Record<string, any>;
    expect(entry.request.headers).toContainEqual({ name: 'content-encoding', value: 'gzip' });
    expect(entry.request.postData).toEqual({ mimeType: 'application/json', text: prompt, comment: 'decoded from its content-encoding (gzip): the text as the provider read it, not the bytes sent' });
    expect(entry.request.bodySize).toBeLessThan(prompt.length);
  });

  it('a WebSocket session carries _webSocketMessages as Chrome writes them (text and binary only; closes apart), with a wss:// URL and its resource type', () => {
    const { ex, messages } = wsExchange();
    const { har } = exportHar([ex], { [ex.id]: messages });
    const e = har.log.entries[0]!;
    expect(e.request.url).toMatch(/^wss:\/\//);
    expect(e._resourceType).toBe('websocket');
    expect(e.response.status).toBe(101);
    expect(e.response.statusText).toBe('Switching Protocols');
    expect(e._webSocketMessages).toEqual([
      { type: 'send', time: (T0 + 5100) / 1000, opcode: 1, data: '{"type":"ping"}' },
      { type: 'receive', time: (T0 + 5200.5) / 1000, opcode: 2, data: BINARY.toString('base64') },
    ]);
    expect(e._llmtap.webSocketClose).toEqual([
      { type: 'send', time: (T0 + 5300) / 1000, code: 1000, reason: '' },
      { type: 'receive', time: (T0 + 5310) / 1000, code: 1000, reason: 'done' },
    ]);
  });

  it('missing marks are -1, never negative; no answer is status 0; plain HTTP is http://', () => {
    const late = makeExchange({ timings: { start: T0, requestEnd: T0 + 10, upstreamHeaders: T0 + 5, end: T0 + 20 },
      response: { status: 502, headers: [], body: body('') } });
    const { har } = exportHar([unansweredExchange(), late]);
    assertValidHar(har);
    const [skewed, none] = har.log.entries as [Record<string, any>, Record<string, any>];
    expect(none.timings).toMatchObject({ send: -1, wait: -1, receive: -1 });
    expect(none.time).toBe(0);
    expect(none.response).toMatchObject({ status: 0, statusText: '', bodySize: -1, content: { size: 0, mimeType: 'x-unknown' } });
    expect(none._llmtap).toMatchObject({ outcome: 'upstream_error', error_code: 'upstream_unreachable' });
    expect(skewed.timings).toMatchObject({ send: 10, wait: 0, receive: 15 });
    expect(skewed.response.statusText).toBe('Bad Gateway');
  });

  it('URLs: the scheme the exchange used, default ports left out, IPv6 hosts bracketed', () => {
    expect([
      exchangeUrl({ host: '127.0.0.1', port: 8443, path: '/v1/chat/completions', tls: 1 }),
      exchangeUrl({ host: 'localhost', port: 443, path: '/', tls: 0 }),
      exchangeUrl({ host: 'api.openai.com', port: 443, path: '/v1/models', tls: 1 }),
      exchangeUrl({ host: 'example.test', port: 80, path: '/x', tls: 0 }),
      exchangeUrl({ host: 'example.test', port: 80, path: '/x', tls: 1 }),
    ]).toEqual(['https://127.0.0.1:8443/v1/chat/completions', 'http://localhost:443/', 'https://api.openai.com/v1/models', 'http://example.test/x', 'https://example.test:80/x']);
  });

  it('rows archived before the tls column (null): https only on 443', () => {
    expect([rowUsesTls({ port: 443, tls: null }), rowUsesTls({ port: 8443, tls: null }), rowUsesTls({ port: 80 })]).toEqual([true, false, false]);
    expect([
      exchangeUrl({ host: 'api.openai.com', port: 443, path: '/v1/models' }),
      exchangeUrl({ host: 'example.test', port: 80, path: '/x?key=[REDACTED]' }),
      exchangeUrl({ host: '::1', port: 8080, path: '/api/chat' }),
      exchangeUrl({ host: '10.0.0.1', port: 443, path: '/' }),
    ]).toEqual(['https://api.openai.com/v1/models', 'http://example.test/x?key=[REDACTED]', 'http://[::1]:8080/api/chat', 'https://10.0.0.1/']);
  });

  it('extra(row) is merged into _llmtap (session, thread, cost slots)', () => {
    const ex = jsonExchange();
    const { har } = exportHar([ex], {}, { extra: (row) => ({ session_id: `s-${row.id}`, thread_id: 't', cost_usd: 0.0012 }) });
    expect(har.log.entries[0]!._llmtap).toMatchObject({ session_id: `s-${ex.id}`, thread_id: 't', cost_usd: 0.0012, model: 'gpt-4o-mini' });
  });

  it('an empty archive is an empty, valid log; since/limit select entries; one entry per piece', () => {
    const { har: empty } = exportHar([]);
    assertValidHar(empty);
    expect(empty.log.entries).toEqual([]);
    const { text, har } = exportHar([jsonExchange(), sseExchange(), binaryExchange()], {}, { since: T0 + 500, limit: 1 });
    // A limit keeps the newest (the transcription, started last), not the oldest after --since.
    expect(har.log.entries.map((e) => e.request.url)).toEqual(['https://api.openai.com/v1/audio/transcriptions']);
    const { har: early } = exportHar([jsonExchange(), sseExchange(), binaryExchange()], {}, { until: T0 + 500 });
    expect(early.log.entries.map((e) => e.request.url)).toEqual(['https://api.openai.com/v1/chat/completions?api-version=2024&x=a%20b']);
    expect(text.split('\n')).toHaveLength(3);
    // What a progress line counts to: the rows the same options select.
    const archive = openArchive(':memory:');
    archive.insertExchanges([jsonExchange(), sseExchange(), binaryExchange()].map((ex) => exchangeToRow(ex)));
    expect([countRecords(archive, 'exchanges'), countRecords(archive, 'exchanges', { since: T0 + 500 }), countRecords(archive, 'exchanges', { since: T0 + 500, limit: 1 }), countRecords(archive, 'tunnels')]).toEqual([3, 2, 1, 0]);
    archive.close();
  });

  it('the validator rejects entries that are not HAR 1.2', () => {
    const validate = harValidator();
    const { har } = exportHar([jsonExchange()]);
    expect(validate(har)).toBe(true);
    const breakages: Array<(e: Record<string, any>) => void> = [
      (e) => delete e.response.status,
      (e) => (e.timings.send = 'fast'),
      (e) => (e.startedDateTime = 'yesterday'),
      (e) => (e.request.url = 'not a url'),
      (e) => (e.request.headers = [{ name: 'x' }]),
      (e) => (e.response.content.size = 1.5),
      (e) => delete e.cache,
    ];
    for (const breakIt of breakages) {
      const copy = structuredClone(har);
      breakIt(copy.log.entries[0]!);
      expect(validate(copy), breakIt.toString()).toBe(false);
    }
    expect(() => assertValidHar({ log: { version: '1.2', entries: [] } })).toThrow(/not valid HAR.*creator/);
  });
});
