import type { ExchangeRow } from '../../src/recorder/db.js';
import { decodeStoredBodies } from '../../src/archive/stored-bodies.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exchangeLines, tunnelLines, type ExportedExchange } from '../../src/archive/export.js';
import { makeExchange, type Captured, type TunnelRecord } from '../../src/exchange.js';
import { silentLogger } from '../../src/log.js';
import { openArchive, type Archive } from '../../src/recorder/db.js';
import { Recorder } from '../../src/recorder/recorder.js';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 6);

function capture(bytes: Buffer | string, truncated = false): Captured {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return { bytes: buf, size: buf.length + (truncated ? 1000 : 0), truncated };
}

function exportAll(archive: Archive, options?: { since?: number; limit?: number }): ExportedExchange[] {
  return [...exchangeLines(archive, options)].map((l) => JSON.parse(l) as ExportedExchange);
}

describe('recorder round trip', () => {
  let dir: string;
  let archive: Archive;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmtap-rec-'));
    archive = openArchive(join(dir, 'archive.db'));
  });
  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores exchanges and exports them faithfully', () => {
    const recorder = new Recorder(archive, { logger: silentLogger() });

    const requestJson = '{"model":"gpt-4o","messages":[{"role":"user","content":"héllo"}]}';
    const responseJson = '{"id":"chatcmpl-1","model":"gpt-4o-2024-08-06","choices":[{"message":{"content":"Hi there"}}]}';
    const openai = makeExchange({
      id: 'ex-1',
      provider: 'openai',
      api: 'chat.completions',
      client: { address: '10.0.0.5', user: 'alice' },
      target: { host: 'api.openai.com', port: 443, tls: true },
      timings: { start: T0, requestEnd: T0 + 1, upstreamHeaders: T0 + 100, firstByte: T0 + 123.456789, end: T0 + 250.5 },
      outcome: 'completed',
      request: {
        method: 'POST',
        path: '/v1/chat/completions',
        headers: ['Host', 'api.openai.com', 'User-Agent', 'OpenAI/JS 6.3.0', 'Content-Type', 'application/json', 'X-Trace', 'a', 'x-trace', 'b'],
        body: capture(requestJson),
        model: 'gpt-4o',
        stream: false,
      },
      response: {
        status: 200,
        headers: ['Content-Type', 'application/json', 'Content-Encoding', 'gzip'],
        body: capture(gzipSync(responseJson)),
        reassembled: {
          model: 'gpt-4o-2024-08-06',
          text: 'Hi there',
          toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
          stopReason: 'tool_calls',
          events: 0,
        },
      },
      usage: { inputTokens: 12, outputTokens: 5, cachedInputTokens: 3, reasoningTokens: 0 },
    });

    const sse = 'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Hey"}}\n\n';
    const anthropic = makeExchange({
      id: 'ex-2',
      provider: 'anthropic',
      api: 'messages',
      target: { host: 'api.anthropic.com', port: 443, tls: true },
      timings: { start: T0 + 1000, firstByte: T0 + 1300, end: T0 + 2000 },
      outcome: 'completed',
      request: { method: 'POST', path: '/v1/messages', headers: ['content-type', 'application/json'], body: capture('{"model":"claude-x","stream":true}'), model: 'claude-x', stream: true },
      response: {
        status: 200,
        headers: ['content-type', 'text/event-stream'],
        body: capture(sse),
        reassembled: { text: 'Hey', thinking: 'pondering', toolCalls: [], stopReason: 'end_turn', usage: { inputTokens: 7, outputTokens: 1, cacheCreationInputTokens: 4 }, events: 1 },
      },
    });

    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41, 0x42]);
    const aborted = makeExchange({
      id: 'ex-3',
      target: { host: 'api.openai.com', port: 443, tls: true },
      timings: { start: T0 + 3000 },
      outcome: 'client_aborted',
      errorCode: 'client_aborted',
      request: { method: 'PUT', path: '/v1/files', headers: ['Content-Type', 'application/octet-stream'], body: capture(binary, true) },
    });

    recorder.recordExchange(anthropic);
    recorder.recordExchange(aborted);
    recorder.recordExchange(openai);
    expect(recorder.stats()).toEqual({ recorded: 0, lost: 0, pending: 3 });
    recorder.flush();
    expect(recorder.stats()).toEqual({ recorded: 3, lost: 0, pending: 0 });
    expect(recorder.healthy).toBe(true);

    // The gzip body is stored decoded.
    const stored = decodeStoredBodies(archive.db.prepare('SELECT * FROM exchanges WHERE id = ?').get('ex-1') as ExchangeRow, archive.db);
    expect(stored.response_body!.toString('utf8')).toBe(responseJson);

    const rows = exportAll(archive);
    expect(rows.map((r) => r.id)).toEqual(['ex-1', 'ex-2', 'ex-3']); // started_at order, not record order

    const [a, b, c] = rows as [ExportedExchange, ExportedExchange, ExportedExchange];
    expect(a).toMatchObject({
      started_at: new Date(T0).toISOString(),
      host: 'api.openai.com',
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      provider: 'openai',
      api: 'chat.completions',
      model: 'gpt-4o',
      stream: false,
      usage: { input_tokens: 12, output_tokens: 5, cached_input_tokens: 3, reasoning_tokens: 0 },
      ttfb_ms: 123.46,
      duration_ms: 250.5,
      outcome: 'completed',
      error_code: null,
      client: { address: '10.0.0.5', user: 'alice', user_agent: 'OpenAI/JS 6.3.0' },
      request: {
        headers: { host: 'api.openai.com', 'user-agent': 'OpenAI/JS 6.3.0', 'content-type': 'application/json', 'x-trace': ['a', 'b'] },
        body: requestJson,
        body_truncated: false,
      },
      response: {
        status: 200,
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: responseJson,
        body_truncated: false,
        text: 'Hi there',
        thinking: null,
        tool_calls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
        stop_reason: 'tool_calls',
      },
    });
    expect(typeof a.request.body).toBe('string'); // JSON bodies stay strings
    expect(a.request.body_encoding).toBeUndefined();

    expect(b).toMatchObject({
      stream: true,
      model: 'claude-x',
      ttfb_ms: 300,
      duration_ms: 1000,
      usage: { input_tokens: 7, output_tokens: 1, cached_input_tokens: null, reasoning_tokens: null },
      response: { body: sse, text: 'Hey', thinking: 'pondering', tool_calls: [], stop_reason: 'end_turn' },
    });

    expect(c).toMatchObject({
      method: 'PUT',
      stream: null,
      status: null,
      ttfb_ms: null,
      duration_ms: null,
      outcome: 'client_aborted',
      error_code: 'client_aborted',
      response: null,
      request: { body: binary.toString('base64'), body_encoding: 'base64', body_truncated: true, body_size: binary.length + 1000 },
    });

    expect(exportAll(archive, { since: T0 + 500 }).map((r) => r.id)).toEqual(['ex-2', 'ex-3']);
    expect(exportAll(archive, { limit: 1 }).map((r) => r.id)).toEqual(['ex-3']); // the newest
    expect([...exchangeLines(archive, { since: T0 + 10_000 })].length).toBe(0);
    recorder.close();
  });

  it('keeps only size and digest when a body claims an encoding it does not have (never bytes redaction could not read)', () => {
    const recorder = new Recorder(archive, { logger: silentLogger() });
    const notGzip = Buffer.from([0x1f, 0x8b, 0x00, 0xc3, 0x28]);
    recorder.recordExchange(
      makeExchange({ id: 'bad-gzip', response: { status: 200, headers: ['Content-Encoding', 'gzip'], body: capture(notGzip) } }),
    );
    recorder.flush();
    const [row] = exportAll(archive);
    expect(row!.response).toMatchObject({ body: null, body_size: 5, body_stored: 'digest', body_sha256: createHash('sha256').update(notGzip).digest('hex') });
    recorder.close();
  });

  it('stores and exports tunnels', () => {
    const recorder = new Recorder(archive, { logger: silentLogger() });
    const tunnels: TunnelRecord[] = [
      { id: 't-2', clientAddress: '10.0.0.2', host: 'example.org', port: 443, start: T0 + 10, end: T0 + 60.123, bytesUp: 10, bytesDown: 20, outcome: 'closed' },
      { id: 't-1', clientAddress: '10.0.0.1', clientUser: 'bob', host: 'github.com', port: 8443, start: T0, end: T0 + 5, bytesUp: 1, bytesDown: 0, outcome: 'upstream_unreachable' },
    ];
    for (const t of tunnels) recorder.recordTunnel(t);
    recorder.recordExchange(makeExchange({ id: 'mixed' })); // one batch with both kinds
    recorder.flush();
    expect(recorder.stats()).toEqual({ recorded: 3, lost: 0, pending: 0 });

    const lines = [...tunnelLines(archive)];
    expect(lines.length).toBe(2);
    const out = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out[0]).toMatchObject({
      id: 't-1', started_at: new Date(T0).toISOString(), host: 'github.com', port: 8443, bytes_up: 1, bytes_down: 0, duration_ms: 5, outcome: 'upstream_unreachable',
      client: { address: '10.0.0.1', user: 'bob' },
    });
    expect(out[1]).toMatchObject({ id: 't-2', host: 'example.org', port: 443, bytes_up: 10, bytes_down: 20, duration_ms: 50.12, outcome: 'closed' });
    expect(exportAll(archive).map((r) => r.id)).toEqual(['mixed']);
    recorder.close();
  });
});
