import { describe, expect, it } from 'vitest';
import { goesOutChunked, trailerPairs } from '../../src/proxy/answer-trailers.js';
import { stripHopByHop } from '../../src/proxy/headers.js';
import { interimHead } from '../../src/proxy/interim.js';

describe('interim (1xx) heads passed on', () => {
  it('keeps status, reason, header case, order and repeats; drops hop-by-hop headers', () => {
    expect(interimHead(103, 'Early Hints', ['Link', '</a.css>; rel=preload', 'Connection', 'X-Hop', 'X-Hop', '1', 'link', '</b.js>; rel=preload']))
      .toBe('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nlink: </b.js>; rel=preload\r\n\r\n');
    expect(interimHead(102, '', [])).toBe('HTTP/1.1 102 \r\n\r\n');
  });
  it('passes on neither 100 (llmtap answers Expect itself) nor 101 (upgrades), nor a final status', () => {
    for (const status of [100, 101, 200]) expect(interimHead(status, 'X', [])).toBeUndefined();
  });
  it('refuses a head that would write a line of its own', () => {
    expect(interimHead(103, 'Early\r\nX-Injected: 1', [])).toBeUndefined();
    expect(interimHead(103, 'Early Hints', ['Link', 'a\r\nX-Injected: 1'])).toBeUndefined();
    expect(interimHead(103, 'Early Hints', ['Bad Name', 'a'])).toBeUndefined();
  });
});

describe('trailer fields of an answer', () => {
  it('go out only on an answer Node sends chunked', () => {
    expect(goesOutChunked('GET', 200, ['Content-Type', 'text/plain'], true)).toBe(true);
    expect(goesOutChunked('GET', 200, ['Content-Length', '2'], true)).toBe(false);
    expect(goesOutChunked('HEAD', 200, [], true)).toBe(false);
    expect(goesOutChunked('GET', 204, [], true)).toBe(false);
    expect(goesOutChunked('GET', 304, [], true)).toBe(false);
    expect(goesOutChunked('GET', 200, [], false)).toBe(false);
  });
  it('an answer keeps its Trailer header only when asked; a request never does', () => {
    expect(stripHopByHop(['Trailer', 'X-Checksum', 'TE', 'trailers'], true)).toEqual(['Trailer', 'X-Checksum']);
    expect(stripHopByHop(['Trailer', 'X-Checksum'])).toEqual([]);
  });
  it('pairs names and values, case, order and repeats kept', () => {
    expect(trailerPairs(['X-A', '1', 'x-a', '2', 'X-B', '3'])).toEqual([['X-A', '1'], ['x-a', '2'], ['X-B', '3']]);
  });
});
