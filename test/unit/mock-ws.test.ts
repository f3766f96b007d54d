import { describe, expect, it } from 'vitest';
import { makeExchange, type WsMessageRecord } from '../../src/exchange.js';
import { WsMockIndex, type WsAnswer } from '../../src/mock/ws-index.js';
import { handshakeHeaders } from '../../src/mock/ws-replay.js';
import { wsErrorEvent, wsMessageCanonical, wsRecordingFromRow } from '../../src/mock/ws-recording.js';
import { exchangeToRow, wsMessageToRow } from '../../src/recorder/rows.js';
import { closeReplyPayload, encodeFrame, websocketAccept } from '../../src/websocket/frame-writer.js';
import { parseHead } from '../../src/websocket/frames.js';

type Msg = [direction: 'client' | 'server', at: number, payload: unknown, opcode?: number];

/** A recorded session as the archive holds it: the 101 row and its message rows (redacted on the way in). */
function session(at: number, messages: Msg[], path = '/v1/responses?model=gpt-5-codex', api: 'responses' | 'realtime' = 'responses') {
  const ex = makeExchange({
    provider: 'openai', api, target: { host: 'api.openai.com', port: 443, tls: true }, outcome: 'client_aborted',
    timings: { start: at, requestEnd: at, upstreamHeaders: at + 10, end: at + 1000 },
    request: { method: 'GET', path, headers: ['authorization', 'Bearer sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX0123', 'sec-websocket-key', 'x'] },
    response: { status: 101, headers: ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'recorded=', 'Sec-WebSocket-Extensions', 'permessage-deflate', 'x-request-id', 'req_ws_1'], body: { bytes: Buffer.alloc(0), size: 0, truncated: false } },
  });
  const row = exchangeToRow(ex);
  const rows = messages.map(([direction, t, payload, opcode = 1], seq) => {
    const record: WsMessageRecord = { seq, direction, at: at + t, opcode, size: 0, compressed: false, truncated: false };
    if (opcode === 1) record.text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    else record.base64 = Buffer.from(payload as Buffer).toString('base64');
    return wsMessageToRow(row.id, record);
  });
  const r = wsRecordingFromRow(row, rows);
  if (typeof r === 'string') throw new Error(r);
  return { row, rows, recording: r };
}

const create = (content: string, extra: object = {}) => ({ type: 'response.create', model: 'gpt-5-codex', input: [{ role: 'user', content }], ...extra });
const live = (message: unknown) => wsMessageCanonical('openai', 1, JSON.stringify(message));
const texts = (answer: WsAnswer) => ('hit' in answer ? answer.hit.map((m) => m.payload.toString()) : answer);

const A: Msg[] = [
  ['server', 20, { type: 'session.created' }],
  ['client', 100, create('hi', { event_id: 'evt_a' })],
  ['server', 150, { type: 'response.created' }],
  ['server', 9, Buffer.from('ping'), 9],
  ['server', 400, { type: 'response.completed' }],
  ['client', 500, Buffer.from([1, 2, 3]), 2],
  ['server', 520, Buffer.from([3, 2, 1]), 2],
  ['client', 600, Buffer.from([0x03, 0xe8]), 8],
  ['server', 601, Buffer.from([0x03, 0xe8]), 8],
];

describe('mock: recorded WebSocket sessions (pure matching)', () => {
  it('splits a session into opening messages and turns, with the recorded delays; pings and the close answer are the protocol\'s', () => {
    const { recording } = session(1000, A);
    expect(recording.opening.map((m) => [m.payload.toString(), m.delayMs])).toEqual([['{"type":"session.created"}', 10]]);
    expect(recording.turns.map((t) => t.canonical.split('\n')[0])).toEqual(['text', 'binary']);
    expect(recording.turns[0]!.replies.map((m) => [m.opcode, m.payload.toString(), m.delayMs])).toEqual([[1, '{"type":"response.created"}', 50], [1, '{"type":"response.completed"}', 250]]);
    expect(recording.turns[1]!.replies.map((m) => [m.opcode, [...m.payload]])).toEqual([[2, [3, 2, 1]]]);
    // The 101's own headers (accept, extensions) are made by the mock; recorded ones replay, marked.
    const names = recording.headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names).toEqual(['x-request-id', 'x-llmtap-mock']);
  });

  it('answers a client message whatever its key order, event_id or metadata, and names the nearest difference otherwise', () => {
    const index = new WsMockIndex([session(1000, A).recording]);
    const conv = index.open('openai', 'api.openai.com', '/v1/responses?model=gpt-5-codex')!;
    expect(conv.opening.map((m) => m.payload.toString())).toEqual(['{"type":"session.created"}']);
    const reordered = { input: [{ content: 'hi', role: 'user' }], metadata: { run: 'other' }, event_id: 'evt_live', model: 'gpt-5-codex', type: 'response.create' };
    expect(texts(conv.answer(live(reordered)))).toEqual(['{"type":"response.created"}', '{"type":"response.completed"}']);
    const miss = conv.answer(live(create('hi', { max_output_tokens: 5 })));
    expect('miss' in miss && miss.miss.nearest?.difference).toBe('max_output_tokens: not recorded, got 5');
    const binary = conv.answer(wsMessageCanonical('openai', 2, Buffer.from([1, 2, 3])));
    expect('hit' in binary && [...binary.hit[0]!.payload]).toEqual([3, 2, 1]);
    expect(index.unusedTurns()).toBe(0);
  });

  it('opens sessions of one upgrade in recorded order, answers from the opened one first, then repeats the last', () => {
    const second: Msg[] = [['server', 5, { type: 'session.created', n: 2 }], ['client', 10, create('hi')], ['server', 20, { type: 'second answer' }]];
    const index = new WsMockIndex([session(5000, second).recording, session(1000, A).recording]);
    const one = index.open('openai', 'api.openai.com', '/v1/responses?model=gpt-5-codex')!;
    const two = index.open('openai', 'api.openai.com', '/v1/responses?model=gpt-5-codex')!;
    expect(two.opening[0]!.payload.toString()).toContain('"n":2');
    // The second connection asks first: it gets its own session's answer, not the earlier session's.
    expect(texts(two.answer(live(create('hi'))))).toEqual(['{"type":"second answer"}']);
    expect(texts(one.answer(live(create('hi'))))).toEqual(['{"type":"response.created"}', '{"type":"response.completed"}']);
    const again = one.answer(live(create('hi')));
    expect('hit' in again && again.repeat).toBe(true);
  });

  it('matches the upgrade on its canonical path: query order and credential parameters do not count, the model does', () => {
    const index = new WsMockIndex([session(1000, A, '/v1/realtime?model=gpt-realtime&intent=x', 'realtime').recording]);
    expect(index.open('openai', 'api.openai.com', '/v1/realtime?intent=x&api_key=sk-live&model=gpt-realtime')).toBeDefined();
    expect(index.open('openai', 'api.openai.com', '/v1/realtime?model=gpt-realtime-mini&intent=x')).toBeUndefined();
    expect(index.open('openai', 'api.openai.com', '/v1/responses')).toBeUndefined();
  });

  it('keys a message holding a key-shaped string as the archive stored it (redacted)', () => {
    const { recording } = session(1000, [['client', 10, create('my key sk-proj-SECRETSECRETSECRETSECRET99')], ['server', 20, { type: 'ok' }]]);
    expect(recording.turns[0]!.canonical).not.toContain('SECRET');
    const stored = wsMessageToRow('x', { seq: 0, direction: 'client', at: 0, opcode: 1, size: 0, compressed: false, truncated: false, text: JSON.stringify(create('my key sk-proj-OTHEROTHEROTHEROTHEROTHER1')) });
    const conv = new WsMockIndex([recording]).open('openai', 'api.openai.com', '/v1/responses?model=gpt-5-codex')!;
    expect('hit' in conv.answer(wsMessageCanonical('openai', 1, stored.text!))).toBe(true);
  });

  it('leaves out a session with a message stored cut or unreadable', () => {
    const { row, rows } = session(1000, A);
    expect(wsRecordingFromRow(row, rows.map((r, i) => (i === 2 ? { ...r, truncated: 1 as const } : r)))).toBe('body_incomplete');
    expect(wsRecordingFromRow(row, rows.map((r, i) => (i === 1 ? { ...r, error: 'inflate failed' } : r)))).toBe('body_incomplete');
  });

  it('an unmatched message gets the provider\'s error event shape', () => {
    expect(JSON.parse(wsErrorEvent('responses', 'no answer', undefined, 1))).toEqual({ type: 'error', status: 404, error: { type: 'invalid_request_error', code: 'no_recording', message: 'no answer (no_recording)', param: null } });
    expect(JSON.parse(wsErrorEvent('realtime', 'no answer', 'evt_9', 2))).toMatchObject({ type: 'error', event_id: 'event_llmtap_mock_2', error: { code: 'no_recording', event_id: 'evt_9' } });
  });
});

describe('mock: the WebSocket handshake and frames it writes', () => {
  it('computes Sec-WebSocket-Accept (RFC 6455 §1.3 example) and keeps a recorded subprotocol only when offered', () => {
    expect(websocketAccept('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    const recorded = ['Sec-WebSocket-Protocol', 'realtime', 'x-request-id', 'r1'];
    const offered = handshakeHeaders(['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol', 'realtime, openai-beta.realtime-v1'], recorded);
    expect(offered).toEqual(['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'Sec-WebSocket-Protocol', 'realtime', 'x-request-id', 'r1']);
    expect(handshakeHeaders(['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], recorded)).not.toContain('Sec-WebSocket-Protocol');
  });

  it('writes final unmasked frames of every length class, and echoes a close code with its reason', () => {
    for (const n of [0, 125, 126, 65_535, 65_536]) {
      const frame = encodeFrame(2, Buffer.alloc(n, 7));
      const head = parseHead(frame);
      if (typeof head !== 'object') throw new Error(String(head));
      expect(head.header).toMatchObject({ fin: true, opcode: 2, masked: false, length: n });
      expect(frame.length).toBe(head.headBytes + n);
    }
    expect([...closeReplyPayload(Buffer.from([0x03, 0xe8, 0x64]))]).toEqual([0x03, 0xe8, 0x64]);
    expect(closeReplyPayload(Buffer.alloc(0)).length).toBe(0);
  });
});
