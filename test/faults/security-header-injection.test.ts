/**
 * Fault list #5: CR/LF or NUL that would end up in a header llmtap writes (today:
 * its own error answers; later: policy rewriting) is refused, never written to the
 * wire. `setHeader` is the one place header changes go through; live, a model name
 * carrying CRLF and NUL in the JSON body must not produce a header anywhere — not
 * upstream, not in the answer, not in the archive, not as an extra log line.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmtapError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { isSafeHeaderName, isSafeHeaderValue, setHeader } from '../../src/proxy/headers.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { connectThrough, exchangeRaw, parseResponse, startTls } from '../helpers/raw-client.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

describe('setHeader (the pure header-rewrite step)', () => {
  const raw = ['Content-Type', 'application/json', 'X-Trace', 'a', 'x-trace', 'b', 'Accept', '*/*'];

  it('replaces the first entry (any case), drops repeats, keeps order; appends a new name; never mutates', () => {
    expect(setHeader(raw, 'x-TRACE', 'c')).toEqual(['Content-Type', 'application/json', 'X-Trace', 'c', 'Accept', '*/*']);
    expect(setHeader(raw, 'Retry-After', '20')).toEqual([...raw, 'Retry-After', '20']);
    expect(setHeader([], 'x-llmtap-error', 'rate_limited')).toEqual(['x-llmtap-error', 'rate_limited']);
    expect(setHeader(raw, 'Accept', '')).toEqual(['Content-Type', 'application/json', 'X-Trace', 'a', 'x-trace', 'b', 'Accept', '']);
    expect(raw).toEqual(['Content-Type', 'application/json', 'X-Trace', 'a', 'x-trace', 'b', 'Accept', '*/*']);
  });

  it('FAULT 5: CR, LF or NUL in a value, or a name that is not a token, is refused with bad_request', () => {
    const badValues = ['gpt-4o\r\nX-Injected: yes', 'gpt-4o\nX-Injected: yes', 'gpt-4o\rX-Injected: yes', 'gpt\0-4o', '\r\n\r\nHTTP/1.1 200 OK', 'a\r\n'];
    const badNames = ['X-Model\r\nX-Injected', 'X-Model:', 'X Model', '', 'X-Model\0', 'Ünicode', '(x)', 'x\n'];
    for (const value of badValues) {
      expect(() => setHeader(raw, 'X-Model', value), JSON.stringify(value)).toThrow(LlmtapError);
      try {
        setHeader(raw, 'X-Model', value);
      } catch (err) {
        expect((err as LlmtapError).code).toBe('bad_request');
        expect((err as LlmtapError).status).toBe(400);
        expect((err as LlmtapError).message).not.toContain('Injected'); // what the client would see stays generic
      }
    }
    for (const name of badNames) expect(() => setHeader(raw, name, 'v'), JSON.stringify(name)).toThrow(LlmtapError);
    // Tabs and non-ASCII text are legal in a field value (obs-text); only line breaks and NUL are not.
    expect(setHeader([], 'X-Model', 'gpt\t4o — ü')).toEqual(['X-Model', 'gpt\t4o — ü']);
  });

  it('isSafeHeaderValue / isSafeHeaderName', () => {
    expect(['', 'plain', 'a b', 'tab\there', 'ünï'].map(isSafeHeaderValue)).toEqual([true, true, true, true, true]);
    expect(['\r', '\n', '\0', 'a\r\nb'].map(isSafeHeaderValue)).toEqual([false, false, false, false]);
    expect(["x-llmtap-error", 'Retry-After', "!#$%&'*+-.^_`|~09azAZ"].map(isSafeHeaderName)).toEqual([true, true, true]);
    expect(['', 'a b', 'a:b', 'a\r', 'é', '"q"', 'a/b'].map(isSafeHeaderName)).toEqual([false, false, false, false, false, false, false]);
  });
});

describe('live: a model name carrying CRLF and NUL', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  const logs: string[] = [];
  const EVIL_MODEL = 'gpt-4o\r\nX-Injected: yes\r\n\r\nHTTP/1.1 200 OK\0';

  beforeAll(async () => {
    fake = await startFakeProvider();
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    });
    tp = await startTestProxy(fake, {}, { logger: createLogger({ level: 'info', destination }) });
  });
  afterAll(async () => {
    await tp?.close();
    await fake?.close();
  });

  async function send(host: string, path: string, body: string, id: string) {
    const tunnel = await connectThrough(tp.proxy.address.port, `${host}:443`);
    const tls = await startTls(tunnel, { host, servername: host, ca: tp.caPem });
    const request = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nX-Test-Id: ${id}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
    return parseResponse(await exchangeRaw(tls, request));
  }

  it('FAULT 5: no injected header upstream, in the answer, in the archive or in the logs', async () => {
    const sent = [
      ['api.openai.com', '/v1/chat/completions', { model: EVIL_MODEL, messages: [] }, 'inj-openai'],
      ['api.openai.com', '/v1/chat/completions', { model: EVIL_MODEL, stream: true, messages: [] }, 'inj-openai-stream'],
      ['api.anthropic.com', '/v1/messages', { model: EVIL_MODEL, max_tokens: 5, messages: [] }, 'inj-anthropic'],
      ['api.anthropic.com', '/v1/messages', { model: EVIL_MODEL, max_tokens: 5, stream: true, messages: [] }, 'inj-anthropic-stream'],
    ] as const;
    for (const [host, path, body, id] of sent) {
      const res = await send(host, path, JSON.stringify(body), id);
      expect(res.status, id).toMatch(/^HTTP\/1\.1 200 /);
      expect(res.headers.map(([n]) => n.toLowerCase()), id).not.toContain('x-injected');
      // The model travels as data only: JSON-escaped in the body, never raw.
      expect(res.body.includes('X-Injected: yes\r\n'), id).toBe(false);
    }
    for (const seen of fake.seen) {
      expect(seen.rawHeaders.map((h) => h.toLowerCase())).not.toContain('x-injected');
      expect(seen.rawHeaders.some((h) => /[\r\n\0]/.test(h))).toBe(false);
      expect(JSON.parse(seen.body.toString()).model).toBe(EVIL_MODEL); // the body is forwarded unchanged
    }
    const recs = await eventually(() => {
      const r = exported(tp).filter((e) => String(e.request.headers['x-test-id'] ?? '').startsWith('inj-'));
      if (r.length < sent.length) throw new Error('not yet');
      return r;
    });
    for (const rec of recs) {
      expect(Object.keys(rec.request.headers)).not.toContain('x-injected');
      expect(Object.keys(rec.response?.headers ?? {})).not.toContain('x-injected');
      expect(rec.model).toBe(EVIL_MODEL); // stored as a value, exactly as sent
    }
    // Each log record is one JSON line; the CRLF stays escaped inside it.
    const lines = logs.join('').split('\n').filter(Boolean);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines.some((l) => l.startsWith('X-Injected') || l.startsWith('HTTP/1.1'))).toBe(false);
    expect(lines.filter((l) => (JSON.parse(l) as { msg?: string }).msg === 'exchange').map((l) => (JSON.parse(l) as { model?: string }).model)).toContain(EVIL_MODEL);
  });
});
