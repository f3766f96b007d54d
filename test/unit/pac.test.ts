import { createContext, runInContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderPac } from '../../src/proxy/pac.js';
import { decideRoute, makeInterceptList, type InterceptList } from '../../src/proxy/route.js';

/** The helpers a browser's PAC sandbox defines (Mozilla's pac_utils), so the file runs as it would there. */
const PAC_UTILS = `
function dnsDomainIs(host, domain) { return host.length >= domain.length && host.substring(host.length - domain.length) == domain; }
function shExpMatch(url, pattern) { pattern = pattern.replace(/\\./g, '\\\\.').replace(/\\*/g, '.*').replace(/\\?/g, '.'); return new RegExp('^' + pattern + '$').test(url); }
function isPlainHostName(host) { return host.search('\\\\.') == -1; }
function localHostOrDomainIs(host, hostdom) { return host == hostdom || hostdom.lastIndexOf(host + '.', 0) == 0; }
function dnsResolve() { throw new Error('a PAC from llmtap must not resolve names'); }
function isResolvable() { throw new Error('a PAC from llmtap must not resolve names'); }
function isInNet() { throw new Error('a PAC from llmtap must not resolve names'); }
`;

function loadPac(list: InterceptList): (url: string, host: string) => string {
  const context = createContext({});
  runInContext(PAC_UTILS + renderPac(list, '127.0.0.1', 8080), context);
  return (url, host) => runInContext(`FindProxyForURL(${JSON.stringify(url)}, ${JSON.stringify(host)})`, context) as string;
}

describe('PAC file', () => {
  const list = makeInterceptList(['localhost:11434', '*.corp.example', 'llm-*.internal.example', 'gw.example'], ['secret.corp.example']);
  const pac = loadPac(list);

  it('sends intercept-list hosts through llmtap and the rest DIRECT', () => {
    expect(pac('https://api.openai.com/', 'api.openai.com')).toBe('PROXY 127.0.0.1:8080');
    expect(pac('https://API.Anthropic.com./v1/messages', 'API.Anthropic.com.')).toBe('PROXY 127.0.0.1:8080');
    expect(pac('https://example.com/', 'example.com')).toBe('DIRECT');
    expect(pac('https://api.openai.com.evil.example/', 'api.openai.com.evil.example')).toBe('DIRECT');
    expect(pac('https://evilapi.openai.com/', 'evilapi.openai.com')).toBe('DIRECT');
  });

  it('keeps port-scoped entries to their port (a local model server, not the whole of localhost)', () => {
    expect(pac('http://localhost:11434/api/chat', 'localhost')).toBe('PROXY 127.0.0.1:8080');
    expect(pac('http://localhost:3000/', 'localhost')).toBe('DIRECT');
    expect(pac('http://localhost/', 'localhost')).toBe('DIRECT');
  });

  it('reads *.domain as subdomains only, and a * inside a label as one label (where shExpMatch would cross dots)', () => {
    expect(pac('https://a.corp.example/', 'a.corp.example')).toBe('PROXY 127.0.0.1:8080');
    expect(pac('https://corp.example/', 'corp.example')).toBe('DIRECT');
    expect(pac('https://us-east5-aiplatform.googleapis.com/', 'us-east5-aiplatform.googleapis.com')).toBe('PROXY 127.0.0.1:8080');
    expect(pac('https://a.b-aiplatform.googleapis.com/', 'a.b-aiplatform.googleapis.com')).toBe('DIRECT');
    expect(pac('https://llm-1.internal.example/', 'llm-1.internal.example')).toBe('PROXY 127.0.0.1:8080');
    expect(pac('https://llm-.internal.example/', 'llm-.internal.example')).toBe('DIRECT');
  });

  it('lets --passthrough win over an intercept pattern', () => {
    expect(pac('https://secret.corp.example/', 'secret.corp.example')).toBe('DIRECT');
  });

  it('sends a path-scoped built-in host through whole (one tunnel carries every path)', () => {
    expect(pac('https://chatgpt.com/', 'chatgpt.com')).toBe('PROXY 127.0.0.1:8080');
  });

  it('agrees with the proxy\'s own routing for any host and port', () => {
    const labels = fc.constantFrom('api', 'openai', 'com', 'corp', 'example', 'a', 'llm-1', 'internal', 'localhost', 'us-east5-aiplatform', 'googleapis', 'bedrock-runtime', 'us-west-2', 'amazonaws', 'azure', 'openai', 'chatgpt', 'secret', 'gw');
    const host = fc.array(labels, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));
    const port = fc.constantFrom(80, 443, 11434, 8443);
    fc.assert(fc.property(host, port, (h, p) => {
      const scheme = p === 80 ? 'http' : 'https';
      const url = `${scheme}://${h}${(scheme === 'http' && p === 80) || (scheme === 'https' && p === 443) ? '' : `:${p}`}/x`;
      const expected = decideRoute(list, h, p) === 'intercept' ? 'PROXY 127.0.0.1:8080' : 'DIRECT';
      expect(pac(url, h)).toBe(expected);
    }), { numRuns: 2000 });
  });

  it('names an IPv6 proxy address in brackets', () => {
    expect(renderPac(makeInterceptList(), '::1', 9000)).toContain('"PROXY [::1]:9000"');
  });
});
