/**
 * Fault list #21: a provider's redirect to another origin is handed to the client as
 * is; the proxy never follows it.
 * Fault list #23: request bodies that are gzip-encoded, chunked, or not JSON at all
 * are forwarded unchanged (same bytes, same headers) and recorded; the model is read
 * after decoding for gzip; nothing crashes.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ExportedExchange } from '../../src/archive/export.js';
import { eventually, exported } from '../helpers/archive.js';
import { fakeBehindProxy } from '../helpers/fake-behind-proxy.js';
import { connectThrough, exchangeRaw, parseResponse, startTls, type ParsedResponse } from '../helpers/raw-client.js';

const env = fakeBehindProxy();

/** One request through an intercepted TLS connection, head given as [name, value] pairs. */
async function send(host: string, head: string, headers: Array<[string, string]>, body: Buffer | string = ''): Promise<ParsedResponse> {
  const tunnel = await connectThrough(env.tp.proxy.address.port, `${host}:443`);
  const tls = await startTls(tunnel, { host, servername: host, ca: env.tp.caPem });
  const bytes = Buffer.concat([Buffer.from(`${head}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
  return parseResponse(await exchangeRaw(tls, bytes));
}

function record(id: string): Promise<ExportedExchange> {
  return eventually(() => {
    const r = exported(env.tp).find((e) => e.request.headers['x-test-id'] === id);
    if (!r) throw new Error(`${id} not recorded yet`);
    return r;
  });
}

/** The end-to-end request headers the provider got, compared with what the client sent. */
function endToEnd(raw: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (/^(connection|keep-alive|transfer-encoding)$/i.test(name)) continue;
    pairs.push([/^(host|content-length)$/i.test(name) ? name.toLowerCase() : name, raw[i + 1]!]); // undici lower-cases these two names
  }
  return pairs;
}

describe('redirects', () => {
  it('FAULT 21: a 307 to another origin reaches the client as is and is never followed', async () => {
    const res = await send('api.openai.com', 'POST /redirect HTTP/1.1', [['Host', 'api.openai.com'], ['Content-Type', 'application/json'], ['X-Test-Id', 'redirect'], ['Content-Length', '2'], ['Connection', 'close']], '{}');
    expect(res.status).toMatch(/^HTTP\/1\.1 307 /);
    expect(res.headers).toContainEqual(['location', 'https://elsewhere.example/v1/chat/completions']);
    expect(res.headers.some(([n]) => n.toLowerCase() === 'x-llmtap-error')).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(env.fake.seen.map((r) => r.url)).toEqual(['/redirect']);
    const rec = await record('redirect');
    expect(rec.status).toBe(307);
    expect(rec.outcome).toBe('completed');
    expect(rec.response?.headers.location).toBe('https://elsewhere.example/v1/chat/completions');
  });
});

describe('request bodies llmtap cannot or need not understand', () => {
  it('FAULT 23: a gzip-encoded body is forwarded byte for byte with its headers; the model is read after decoding', async () => {
    const json = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'compressed hello' }] });
    const gz = gzipSync(json);
    const headers: Array<[string, string]> = [['Host', 'api.openai.com'], ['Content-Type', 'application/json'], ['Content-Encoding', 'gzip'], ['X-Test-Id', 'gzip-body'], ['Content-Length', String(gz.length)]];
    const res = await send('api.openai.com', 'POST /v1/chat/completions HTTP/1.1', [...headers, ['Connection', 'close']], gz);
    expect(res.status).toMatch(/^HTTP\/1\.1 200 /);
    const [seen] = env.fake.seen;
    expect(seen!.body.equals(gz)).toBe(true);
    expect(endToEnd(seen!.rawHeaders)).toEqual(endToEnd(headers.flat()));
    const rec = await record('gzip-body');
    expect(rec.model).toBe('gpt-4o-mini');
    expect(rec.request.body_size).toBe(gz.length); // the size on the wire
    expect(rec.request.body).toBe(json); // stored decoded for search
    expect(rec.request.headers['content-encoding']).toBe('gzip');
  });

  it('FAULT 23: a chunked body goes upstream chunked with the same bytes and headers', async () => {
    const json = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'in pieces' }] });
    const parts = [json.slice(0, 7), json.slice(7, 20), json.slice(20)];
    const chunked = `${parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('')}0\r\n\r\n`;
    const headers: Array<[string, string]> = [['Host', 'api.openai.com'], ['Content-Type', 'application/json'], ['X-Test-Id', 'chunked-body']];
    const res = await send('api.openai.com', 'POST /v1/chat/completions HTTP/1.1', [...headers, ['Transfer-Encoding', 'chunked'], ['Connection', 'close']], chunked);
    expect(res.status).toMatch(/^HTTP\/1\.1 200 /);
    const [seen] = env.fake.seen;
    expect(seen!.body.toString()).toBe(json);
    expect(seen!.rawHeaders.map((h) => h.toLowerCase())).toContain('transfer-encoding');
    expect(seen!.rawHeaders.map((h) => h.toLowerCase())).not.toContain('content-length');
    expect(endToEnd(seen!.rawHeaders)).toEqual(endToEnd(headers.flat()));
    const rec = await record('chunked-body');
    expect(rec.request.body).toBe(json);
    expect(rec.model).toBe('gpt-4o-mini');
  });

  it('FAULT 23: bodies that are not JSON, or not what they claim, are forwarded unchanged and recorded raw (or, for a coding that does not decode, as a digest)', async () => {
    const bodies: Array<[string, Buffer, Array<[string, string]>]> = [
      ['not-json', Buffer.from('{"model": "gpt-4o-mini", "messages": [ this is not json'), [['Content-Type', 'application/json']]],
      ['json-array', Buffer.from('[1,2,3]'), [['Content-Type', 'application/json']]],
      ['json-string-model', Buffer.from('{"model": {"nested": true}, "stream": "yes"}'), [['Content-Type', 'application/json']]],
      ['bad-gzip', Buffer.from('this claims gzip but is not'), [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']]],
      ['unknown-encoding', Buffer.from('zstd-ish bytes'), [['Content-Type', 'application/json'], ['Content-Encoding', 'zstd']]],
      ['binary', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x7b, 0x22]), [['Content-Type', 'application/octet-stream']]],
      ['empty', Buffer.alloc(0), [['Content-Type', 'application/json']]],
    ];
    for (const [id, body, extra] of bodies) {
      env.fake.seen.length = 0;
      const headers: Array<[string, string]> = [['Host', 'api.openai.com'], ...extra, ['X-Test-Id', id], ['Content-Length', String(body.length)]];
      const res = await send('api.openai.com', 'POST /v1/chat/completions HTTP/1.1', [...headers, ['Connection', 'close']], body);
      expect(res.status, id).toMatch(/^HTTP\/1\.1 200 /); // the env.fake answers whatever it got
      expect(env.fake.seen, id).toHaveLength(1);
      expect(env.fake.seen[0]!.body.equals(body), id).toBe(true);
      expect(endToEnd(env.fake.seen[0]!.rawHeaders), id).toEqual(endToEnd(headers.flat()));
      const rec = await record(id);
      expect(rec.outcome, id).toBe('completed');
      expect(rec.request.body_size, id).toBe(body.length);
      if (extra.some(([n]) => n === 'Content-Encoding')) {
        // A coding that does not decode: never the encoded bytes, only size and digest (FAULT 26).
        expect(rec.request.body, id).toBeNull();
        expect(rec.request.body_stored, id).toBe('digest');
        continue;
      }
      const stored = rec.request.body_encoding === 'base64' ? Buffer.from(rec.request.body ?? '', 'base64') : Buffer.from(rec.request.body ?? '', 'utf8');
      expect(stored.equals(body), id).toBe(true); // raw: nothing decoded that does not decode
    }
    expect(env.tp.proxy.server.listening).toBe(true);
  });
});
