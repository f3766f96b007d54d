import { describe, expect, it } from 'vitest';
import { clientEnv, noProxyList, preloadFlag, withPreload } from '../../src/cli/client-env.js';
import { parseBasic } from '../../src/proxy/auth.js';
import { makeInterceptList } from '../../src/proxy/route.js';
import { LABEL_PASSWORD, labelError, labelFromProxyAuthorization, labelledProxyUrl } from '../../src/proxy/run-label.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('client environment', () => {
  it('keeps loopback off the proxy unless a loopback host is on the intercept list', () => {
    expect(noProxyList(makeInterceptList().intercept)).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(noProxyList(makeInterceptList(['localhost:11434']).intercept)).toEqual(['127.0.0.1', '::1']);
    expect(noProxyList(makeInterceptList(['127.0.0.1:8000', '[::1]:8000']).intercept)).toEqual(['localhost']);
    expect(noProxyList(makeInterceptList(['localhost']).intercept)).toEqual(['127.0.0.1', '::1']);
  });

  it('sets every variable tools read, pointing OpenSSL-style ones at the bundle', () => {
    const vars = new Map(clientEnv({ proxyUrl: 'http://127.0.0.1:8080', caPath: '/h/ca.pem', bundlePath: '/h/bundle.pem', intercept: makeInterceptList(['localhost:11434']).intercept }));
    for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy']) expect(vars.get(name)).toBe('http://127.0.0.1:8080');
    expect(vars.get('NO_PROXY')).toBe('127.0.0.1,::1');
    expect(vars.get('no_proxy')).toBe('127.0.0.1,::1');
    expect(vars.get('NODE_EXTRA_CA_CERTS')).toBe('/h/ca.pem');
    expect(vars.get('NODE_USE_ENV_PROXY')).toBe('1');
    for (const name of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'DENO_CERT', 'CODEX_CA_CERTIFICATE']) expect(vars.get(name)).toBe('/h/bundle.pem');
    expect(vars.has('NODE_OPTIONS')).toBe(false);
  });

  it('appends the fetch preload to NODE_OPTIONS once', () => {
    const flag = preloadFlag();
    expect(flag).toMatch(/^--import=file:\/\/.*\/preload\/fetch-proxy\.js$/);
    expect(withPreload(undefined)).toBe(flag);
    expect(withPreload('--max-old-space-size=4096')).toBe(`--max-old-space-size=4096 ${flag}`);
    expect(withPreload(withPreload('--trace-warnings'))).toBe(`--trace-warnings ${flag}`);
  });
});

describe('run labels', () => {
  it('travel as the proxy user of a marked credential, percent-encoded in the URL', () => {
    const url = new URL(labelledProxyUrl('http://127.0.0.1:8080', 'eval run #3'));
    expect(url.password).toBe(LABEL_PASSWORD);
    const header = basic(decodeURIComponent(url.username), url.password);
    expect(parseBasic(header)?.user).toBe('eval run #3');
    expect(labelFromProxyAuthorization(header)).toBe('eval run #3');
    expect(labelledProxyUrl('http://127.0.0.1:8080', undefined)).toBe('http://127.0.0.1:8080');
  });

  it('are never taken from credentials meant for something else', () => {
    expect(labelFromProxyAuthorization(basic('alice', 'corporate-password'))).toBeUndefined();
    expect(labelFromProxyAuthorization(undefined)).toBeUndefined();
    expect(labelFromProxyAuthorization([basic('x', LABEL_PASSWORD)])).toBeUndefined();
    expect(labelFromProxyAuthorization(basic('x'.repeat(65), LABEL_PASSWORD))).toBeUndefined();
  });

  it('are refused with a reason naming the flag', () => {
    expect(labelError('')).toBe('--label cannot be empty');
    expect(labelError('a\nb')).toMatch(/^--label cannot hold control characters/);
    expect(labelError('x'.repeat(65))).toBe('--label is longer than 64 characters');
    expect(labelError('nightly-eval')).toBeUndefined();
  });
});
