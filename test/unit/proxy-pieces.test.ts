import { describe, expect, it } from 'vitest';
import { classifyUpstreamError, LlmtapError, providerErrorBody } from '../../src/errors.js';
import { BodyCapture } from '../../src/proxy/capture.js';
import { isSafeHeaderValue, rawFromBuffers, stripHopByHop } from '../../src/proxy/headers.js';

describe('hop-by-hop headers', () => {
  it('drops connection-specific headers and those named in Connection, keeps case, order and repeats', () => {
    const raw = ['Host', 'a', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', 'timeout=5', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2',
      'Transfer-Encoding', 'chunked', 'Proxy-Authorization', 'Basic x', 'Proxy-Connection', 'keep-alive', 'TE', 'trailers', 'Upgrade', 'h2c', 'X-Keep', 'Y'];
    expect(stripHopByHop(raw)).toEqual(['Host', 'a', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'X-Keep', 'Y']);
  });
  it('turns undici raw Buffers into latin1 strings', () => {
    expect(rawFromBuffers([Buffer.from('X-A'), Buffer.from([0xe9])])).toEqual(['X-A', 'é']);
  });
  it('flags CR, LF and NUL in values llmtap would write', () => {
    expect(isSafeHeaderValue('gpt-4o')).toBe(true);
    for (const bad of ['a\r\nX-Injected: 1', 'a\nb', 'a\0b']) expect(isSafeHeaderValue(bad)).toBe(false);
  });
});

describe('body capture', () => {
  it('keeps everything under the limit, as one buffer', () => {
    const c = new BodyCapture(10);
    c.push(Buffer.from('abc'));
    c.push(Buffer.from('def'));
    expect(c.result()).toEqual({ bytes: Buffer.from('abcdef'), size: 6, truncated: false });
  });
  it('keeps a prefix past the limit and counts every byte', () => {
    const c = new BodyCapture(4);
    c.push(Buffer.from('abc'));
    c.push(Buffer.from('defgh'));
    c.push(Buffer.from('ij'));
    expect(c.result()).toEqual({ bytes: Buffer.from('abcd'), size: 10, truncated: true });
  });
});

describe('errors llmtap makes', () => {
  it('classifies upstream failures by code, through causes', () => {
    expect(classifyUpstreamError(Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe('upstream_tls');
    expect(classifyUpstreamError(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }))).toBe('upstream_tls');
    expect(classifyUpstreamError(new Error('outer', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }))).toBe('upstream_unreachable');
    expect(classifyUpstreamError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).toBe('upstream_timeout');
    expect(classifyUpstreamError(new Error('mystery'))).toBe('upstream_error');
    expect(classifyUpstreamError(new LlmtapError('blocked'))).toBe('blocked');
  });
  it('answers in each provider\'s error shape with the stable code', () => {
    const openai = JSON.parse(providerErrorBody('openai', 'upstream_tls', 'bad cert'));
    expect(openai.error).toMatchObject({ type: 'llmtap_error', code: 'upstream_tls' });
    const anthropic = JSON.parse(providerErrorBody('anthropic', 'rate_limited', 'slow down'));
    expect(anthropic).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    const gemini = JSON.parse(providerErrorBody('gemini', 'upstream_timeout', 'late'));
    expect(gemini.error).toMatchObject({ code: 504, status: 'DEADLINE_EXCEEDED' });
  });
});
