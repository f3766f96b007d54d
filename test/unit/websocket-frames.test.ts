import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../src/websocket/frames.js';
import { closePayload, encodeFrame } from '../../src/websocket/frame-writer.js';
import { MessageAssembler, OPCODES, type WsMessage } from '../../src/websocket/messages.js';
import { parseDeflateParams } from '../../src/websocket/deflate.js';
import { reduceWebSocketMessages } from '../../src/websocket/reduce.js';
import { wsFrame } from '../helpers/ws-frames.js';

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** Reads a byte stream given in pieces; returns the messages as (opcode, payload) pairs. */
function read(pieces: Buffer[], cap = 1 << 20): { messages: WsMessage[]; error?: string } {
  const messages: WsMessage[] = [];
  const assembler = new MessageAssembler('client', { cap, now: () => 0, onMessage: (m) => messages.push(m), onReady: () => {} });
  const reader = new FrameReader(assembler);
  for (const piece of pieces) reader.push(piece);
  return { messages, error: reader.error };
}

const summary = (ms: WsMessage[]) => ms.map((m) => ({ opcode: m.opcode, data: m.data.toString('hex'), size: m.size, truncated: m.truncated }));

/** A client stream as `ws` frames it: text, a binary message in three fragments with a ping between, 126-byte and empty payloads, close. */
function clientStream(): { bytes: Buffer; expected: ReturnType<typeof summary> } {
  const text = Buffer.from('{"type":"response.create","input":"héllo 🌍"}');
  const parts = [Buffer.from([0, 1, 2]), Buffer.alloc(130, 7), Buffer.from([255])];
  const ping = Buffer.from('p');
  const mid = Buffer.alloc(126, 0x41);
  const close = Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]);
  const bytes = Buffer.concat([
    wsFrame(1, text, { mask: MASK }),
    wsFrame(2, parts[0]!, { fin: false, mask: MASK }),
    wsFrame(0, parts[1]!, { fin: false, mask: MASK }),
    wsFrame(9, ping, { mask: MASK }),
    wsFrame(0, parts[2]!, { mask: MASK }),
    wsFrame(1, mid, { mask: MASK }),
    wsFrame(2, Buffer.alloc(0), { mask: MASK }),
    wsFrame(8, close, { mask: MASK }),
  ]);
  const binary = Buffer.concat(parts);
  const m = (opcode: number, data: Buffer) => ({ opcode, data: data.toString('hex'), size: data.length, truncated: false });
  // The ping completes before the fragmented binary message it interrupts.
  return { bytes, expected: [m(1, text), m(9, ping), m(2, binary), m(1, mid), m(2, Buffer.alloc(0)), m(8, close)] };
}

describe('WebSocket frame reader', () => {
  it('reads frames made by ws, split at every byte boundary, into the same messages', () => {
    const { bytes, expected } = clientStream();
    for (let i = 0; i <= bytes.length; i++) {
      const { messages, error } = read([bytes.subarray(0, i), bytes.subarray(i)]);
      expect(error).toBeUndefined();
      expect(summary(messages)).toEqual(expected);
    }
  });

  it('reads any chunking of the stream the same, byte by byte included, and never alters the bytes it is given', () => {
    const { bytes, expected } = clientStream();
    const original = Buffer.from(bytes);
    expect(summary(read([...bytes].map((b) => Buffer.from([b]))).messages)).toEqual(expected);
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 20 }), (cuts) => {
      const points = [0, ...[...new Set(cuts)].sort((a, b) => a - b), bytes.length];
      const pieces = points.slice(1).map((end, i) => bytes.subarray(points[i]!, end));
      expect(summary(read(pieces).messages)).toEqual(expected);
    }));
    expect(bytes.equals(original)).toBe(true);
  });

  it('reads 16- and 64-bit payload lengths, unmasked (server) frames, and keeps only the cap', () => {
    const big = Buffer.alloc(70_000);
    for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
    const bytes = Buffer.concat([wsFrame(2, big.subarray(0, 65_535)), wsFrame(2, big, { mask: MASK })]);
    const { messages } = read([bytes.subarray(0, 3), bytes.subarray(3, 65_540), bytes.subarray(65_540)], 1000);
    expect(messages.map((m) => [m.size, m.data.length, m.truncated])).toEqual([[65_535, 1000, true], [70_000, 1000, true]]);
    expect(messages[1]!.data.equals(big.subarray(0, 1000))).toBe(true);
  });

  it('stops reading (and says why) at a frame no peer may send', () => {
    expect(read([Buffer.from([0x83, 0x00])]).error).toBe('reserved opcode 3');
    expect(read([Buffer.from([0x09, 0x00])]).error).toMatch(/control frame/);
  });
});

describe('frame boundaries (where llmtap may put a close of its own)', () => {
  it('is at a boundary only when every byte read belonged to a whole frame', () => {
    const { bytes } = clientStream();
    const assembler = new MessageAssembler('client', { cap: 1 << 20, now: () => 0, onMessage: () => {}, onReady: () => {} });
    const reader = new FrameReader(assembler);
    expect(reader.atBoundary).toBe(true);
    const first = wsFrame(1, Buffer.from('{"a":1}'), { mask: MASK });
    reader.push(first.subarray(0, 1)); // half a head
    expect(reader.atBoundary).toBe(false);
    reader.push(first.subarray(1, first.length - 1)); // head read, payload short by one byte
    expect(reader.atBoundary).toBe(false);
    reader.push(first.subarray(first.length - 1));
    expect(reader.atBoundary).toBe(true);
    reader.push(bytes);
    expect(reader.atBoundary).toBe(true);
    reader.push(Buffer.from([0x8b, 0x00])); // a reserved opcode: the stream no longer makes sense
    expect(reader.atBoundary).toBe(false);
  });

  it('writes a close as a server sends it: 1008 and the reason, read back as a close message', () => {
    const { messages } = read([encodeFrame(OPCODES.close, closePayload(1008, 'budget_exceeded'))]);
    expect(summary(messages)).toEqual([{ opcode: OPCODES.close, data: Buffer.concat([Buffer.from([0x03, 0xf0]), Buffer.from('budget_exceeded')]).toString('hex'), size: 17, truncated: false }]);
  });
});

describe('permessage-deflate parameters', () => {
  it('reads what the server accepted, per direction', () => {
    expect(parseDeflateParams('permessage-deflate; server_no_context_takeover; client_max_window_bits=10')).toEqual({
      client: { noContextTakeover: false, maxWindowBits: 10 }, server: { noContextTakeover: true, maxWindowBits: 15 },
    });
    expect(parseDeflateParams('x-other, permessage-deflate; server_max_window_bits="9"; client_no_context_takeover')?.server.maxWindowBits).toBe(9);
    expect(parseDeflateParams('x-webkit-deflate-frame')).toBeUndefined();
    expect(parseDeflateParams(undefined)).toBeUndefined();
  });
});

describe('the WebSocket session reducer', () => {
  const client = (event: object) => ({ direction: 'client' as const, text: JSON.stringify(event) });
  const server = (event: object) => ({ direction: 'server' as const, text: JSON.stringify(event) });

  it('folds each response.create of a Responses-over-WebSocket session on its own and joins them', () => {
    const messages = [
      client({ type: 'response.create', model: 'gpt-5-codex', input: [] }),
      server({ type: 'response.created', response: { model: 'gpt-5-codex', status: 'in_progress' } }),
      server({ type: 'response.output_item.added', output_index: 0, item: { type: 'function_call', call_id: 'call_1', name: 'shell', arguments: '' } }),
      server({ type: 'response.function_call_arguments.delta', output_index: 0, delta: '{"cmd":' }),
      server({ type: 'response.function_call_arguments.delta', output_index: 0, delta: '"ls"}' }),
      server({ type: 'response.completed', response: { model: 'gpt-5-codex', status: 'completed', output: [], usage: { input_tokens: 100, output_tokens: 10, input_tokens_details: { cached_tokens: 80 } } } }),
      client({ type: 'response.create', model: 'gpt-5-codex', input: [] }),
      server({ type: 'response.created', response: { model: 'gpt-5-codex', status: 'in_progress' } }),
      server({ type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: 'Two ' }),
      server({ type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: 'files.' }),
      server({ type: 'response.completed', response: { model: 'gpt-5-codex', status: 'completed', output: [], usage: { input_tokens: 130, output_tokens: 4, input_tokens_details: { cached_tokens: 100 } } } }),
    ];
    expect(reduceWebSocketMessages('responses', messages)).toEqual({
      model: 'gpt-5-codex',
      text: 'Two files.',
      toolCalls: [{ id: 'call_1', name: 'shell', arguments: '{"cmd":"ls"}' }],
      usage: { inputTokens: 230, outputTokens: 14, cachedInputTokens: 180 },
      stopReason: 'completed',
      events: 9,
      // Each response kept for its price (the session's usage is their sum).
      responses: [
        { model: 'gpt-5-codex', usage: { inputTokens: 100, outputTokens: 10, cachedInputTokens: 80 } },
        { model: 'gpt-5-codex', usage: { inputTokens: 130, outputTokens: 4, cachedInputTokens: 100 } },
      ],
      // The requests, answered or not: the session's turns when read back.
      requests: 2,
    });
    // A request cut at the capture limit still counts (its prefix names its type); other client messages do not.
    const cut = { direction: 'client' as const, text: '{"type":"response.create","model":"o3","input":[{"role":"user","content":"lo', truncated: true };
    const more = reduceWebSocketMessages('responses', [...messages, cut, client({ type: 'session.update' })]);
    expect(more).toMatchObject({ requests: 3, model: 'gpt-5-codex' });
  });

  it('reads Realtime sessions (transcript deltas, response.done with input_token_details)', () => {
    const messages = [
      server({ type: 'session.created', session: { model: 'gpt-realtime' } }),
      server({ type: 'response.created', response: { status: 'in_progress' } }),
      server({ type: 'response.output_audio_transcript.delta', output_index: 0, content_index: 0, delta: 'Hello' }),
      server({ type: 'response.done', response: { status: 'completed', output: [], usage: { input_tokens: 50, output_tokens: 20, input_token_details: { cached_tokens: 10 } } } }),
    ];
    const out = reduceWebSocketMessages('realtime', messages);
    expect(out?.text).toBe('Hello');
    expect(out?.usage).toEqual({ inputTokens: 50, outputTokens: 20, cachedInputTokens: 10 });
    expect(out?.stopReason).toBe('completed');
  });

  it('gives nothing for a session without server events, and ignores non-JSON text', () => {
    expect(reduceWebSocketMessages('responses', [])).toBeUndefined();
    expect(reduceWebSocketMessages('responses', [{ direction: 'server', text: 'ping' }])).toBeUndefined();
  });
});
