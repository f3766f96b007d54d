import { describe, expect, it } from 'vitest';
import { tunnelRequestTarget } from '../../src/proxy/tunnel-target.js';

const openai = { host: 'api.openai.com', port: 443 };

describe('the target of a request inside an intercepted CONNECT tunnel', () => {
  it('origin-form: the path as sent; a Host naming the tunnel\'s host (any case, :443 or not) or none is fine', () => {
    for (const host of [undefined, '', 'api.openai.com', 'API.OpenAI.com:443', 'api.openai.com.']) {
      expect(tunnelRequestTarget('POST', '/v1/chat/completions?x=1', host, openai), String(host)).toEqual({ path: '/v1/chat/completions?x=1' });
    }
  });

  it('origin-form with a Host naming another server, or another port: refused, target_mismatch', () => {
    for (const host of ['evil.test', 'api.openai.com:8443', 'api.anthropic.com']) {
      expect(tunnelRequestTarget('POST', '/v1/chat/completions', host, openai), host).toMatchObject({ refused: 'target_mismatch' });
    }
  });

  it('absolute-form naming the tunnel\'s origin: origin-form upstream (path and query byte for byte), the URL\'s authority for Host', () => {
    expect(tunnelRequestTarget('POST', 'https://api.openai.com/v1/chat/completions?a=%2F..&b', 'api.openai.com', openai)).toEqual({ path: '/v1/chat/completions?a=%2F..&b', authority: 'api.openai.com' });
    expect(tunnelRequestTarget('POST', 'https://API.openai.com:443/v1/../models', undefined, openai)).toEqual({ path: '/v1/../models', authority: 'api.openai.com' });
    expect(tunnelRequestTarget('POST', 'https://api.openai.com?x=1', undefined, openai)).toEqual({ path: '/?x=1', authority: 'api.openai.com' });
    expect(tunnelRequestTarget('POST', 'https://api.openai.com', undefined, openai)).toEqual({ path: '/', authority: 'api.openai.com' });
    // RFC 9112 §3.2.2: the absolute-form's authority wins over a Host naming another server.
    expect(tunnelRequestTarget('POST', 'https://api.openai.com/v1/models', 'evil.test', openai)).toEqual({ path: '/v1/models', authority: 'api.openai.com' });
    expect(tunnelRequestTarget('POST', 'https://[::1]:8443/x', undefined, { host: '::1', port: 8443 })).toEqual({ path: '/x', authority: '[::1]:8443' });
  });

  it('absolute-form naming another host, port or scheme than the tunnel: refused, target_mismatch', () => {
    for (const url of ['https://evil.test/v1/chat/completions', 'https://api.openai.com:8443/v1/models', 'http://api.openai.com/v1/models', 'http://api.openai.com:443/v1/models']) {
      expect(tunnelRequestTarget('POST', url, 'api.openai.com', openai), url).toMatchObject({ refused: 'target_mismatch' });
    }
  });

  it('a target that is none of the forms, or carries userinfo: refused, bad_request', () => {
    for (const url of ['v1/models', 'ftp://api.openai.com/x', 'https://user:pw@api.openai.com/v1/models', 'https:///v1/models', 'https://api.openai.com:99999/', 'https://api.openai.com\\@evil.test/x']) {
      expect(tunnelRequestTarget('POST', url, 'api.openai.com', openai), url).toMatchObject({ refused: 'bad_request' });
    }
  });


  it('asterisk-form (OPTIONS *): kept as is, its Host checked like origin-form; with another method refused', () => {
    expect(tunnelRequestTarget('OPTIONS', '*', 'api.openai.com', openai)).toEqual({ path: '*' });
    expect(tunnelRequestTarget('OPTIONS', '*', 'evil.test', openai)).toMatchObject({ refused: 'target_mismatch' });
    expect(tunnelRequestTarget('GET', '*', 'api.openai.com', openai)).toMatchObject({ refused: 'bad_request' });
  });
});
