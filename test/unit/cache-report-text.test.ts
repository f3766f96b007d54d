import { describe, expect, it } from 'vitest';
import { renderCacheReport } from '../../src/cli/cache-report.js';

describe('cache-report\'s summary line', () => {
  it('counts in words: one shape, one request, one exchange', () => {
    const shape = { key: 'e116a47c75113385', host: 'api.anthropic.com', path: '/v1/messages', model: 'claude-sonnet-4-5', who: '-', credentialUnseen: false, requests: 2, repeats: 1, served: 0, savedTokens: 30, savedUsd: 0.0002, firstAt: 0, lastAt: 0 };
    const one = renderCacheReport({ exchanges: 2, unkeyed: 1, redacted: 0, since: null, shapes: [shape], totals: { repeats: 1, served: 0, savedTokens: 30, savedUsd: 0.0002 } }, 20);
    expect(one.split('\n')[0]).toBe('2 exchanges, 1 request shape seen more than once; a cache would have answered 1 request, saving 30 tokens, $0.00020');
    expect(one.split('\n')[1]).toBe('1 request not compared: its body is not whole in the archive');
    const none = renderCacheReport({ exchanges: 1, unkeyed: 0, redacted: 0, since: null, shapes: [], totals: { repeats: 0, served: 0, savedTokens: 0, savedUsd: 0 } }, 20);
    expect(none).toBe('1 exchange, 0 request shapes seen more than once; a cache would have answered 0 requests, saving 0 tokens, $0.0000\n');
  });
});
