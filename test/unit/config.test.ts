import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, parseConnectTo, resolveConnectTo, validateConfig } from '../../src/config.js';

describe('--connect-to', () => {
  it('parses curl-style rules, including empty fields and IPv6 in brackets', () => {
    expect(parseConnectTo('api.openai.com:443:127.0.0.1:8443')).toEqual({ host: 'api.openai.com', port: 443, toHost: '127.0.0.1', toPort: 8443 });
    expect(parseConnectTo('::127.0.0.1:9000')).toEqual({ host: undefined, port: undefined, toHost: '127.0.0.1', toPort: 9000 });
    expect(parseConnectTo('[::1]:443:[::1]:8443')).toEqual({ host: '::1', port: 443, toHost: '::1', toPort: 8443 });
  });

  it('refuses malformed rules with the rule in the message', () => {
    for (const bad of ['a:b', 'a:443:b', 'a:443:b:port', 'a:99999:b:1']) {
      expect(() => parseConnectTo(bad)).toThrow(ConfigError);
      expect(() => parseConnectTo(bad)).toThrow(bad);
    }
  });

  it('first matching rule wins; no match leaves the target alone', () => {
    const rules = ['api.openai.com:443:127.0.0.1:1111', '::127.0.0.1:2222'].map(parseConnectTo);
    expect(resolveConnectTo(rules, 'api.openai.com', 443)).toEqual({ host: '127.0.0.1', port: 1111 });
    expect(resolveConnectTo(rules, 'other.test', 443)).toEqual({ host: '127.0.0.1', port: 2222 });
    expect(resolveConnectTo([], 'x.test', 443)).toEqual({ host: 'x.test', port: 443 });
  });
});

describe('validateConfig', () => {
  const base = { ...DEFAULTS, home: '/tmp/x' };
  it('names the bad option', () => {
    expect(() => validateConfig({ ...base, port: Number.NaN })).toThrow(/--port/);
    expect(() => validateConfig({ ...base, intercept: ['a b'] })).toThrow(/--intercept/);
    expect(() => validateConfig({ ...base, passthrough: ['*'] })).toThrow(/--passthrough/);
    expect(() => validateConfig({ ...base, captureLimit: -1 })).toThrow(/--capture-limit/);
  });
  it('accepts the defaults', () => {
    expect(validateConfig(base)).toBe(base);
  });
});
