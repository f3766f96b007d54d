import { describe, expect, it } from 'vitest';
import { makeExchange, type Exchange } from '../../src/exchange.js';
import { archivedRequest } from '../../src/policy/archived-request.js';
import type { RateLimiter } from '../../src/policy/rate-limit.js';
import { chargeUsage } from '../../src/policy/stage.js';
import { outputTokens, promptTokens } from '../../src/providers/usage-totals.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/**
 * Anthropic reports its prompt cache's reads and writes beside input_tokens, OpenAI within
 * prompt_tokens. A token-rate rule, and what `policy test` and `cache-report` say a refused
 * or cached request saved, count every prompt token either way: the tokens `stats` counts.
 */
const T0 = Date.parse('2026-12-01T10:00:00Z');

function exchange(provider: 'anthropic' | 'openai', usage: Exchange['usage']): Exchange {
  const request = provider === 'anthropic' ? { method: 'POST', path: '/v1/messages', model: 'claude-sonnet-4-5' } : { method: 'POST', path: '/v1/chat/completions', model: 'gpt-4o-mini' };
  return makeExchange({ provider, api: provider === 'anthropic' ? 'messages' : 'chat.completions', request, usage, timings: { start: T0, end: T0 + 400 } });
}

/** 21 uncached, 4 read from the cache, 6 written to it; 9 out. */
const claude = exchange('anthropic', { inputTokens: 21, cachedInputTokens: 4, cacheCreationInputTokens: 6, outputTokens: 9 });
/** 10 prompt tokens of which 4 cached; 5 out. */
const gpt = exchange('openai', { inputTokens: 10, cachedInputTokens: 4, outputTokens: 5 });

const statsTokens = (ex: Exchange): number => {
  const row = exchangeToRow(ex);
  return promptTokens(row) + (outputTokens(row) ?? 0);
};

describe('prompt tokens charged and saved: cache reads and writes counted as stats counts them', () => {
  it('a token-rate rule is charged every prompt token of an Anthropic answer, cache reads and writes included', () => {
    const charged: number[] = [];
    const limiter = { charge: (_key: string, amount: number) => void charged.push(amount) } as unknown as RateLimiter;
    for (const ex of [claude, gpt]) chargeUsage(ex, { charges: [{ limiter, key: 'k' }] }, undefined);
    expect(charged).toEqual([21 + 4 + 6 + 9, 10 + 5]);
    expect(charged).toEqual([statsTokens(claude), statsTokens(gpt)]);
  });

  it('policy test and cache-report replay an archived request at the same count', () => {
    const tokens = [claude, gpt].map((ex) => archivedRequest({ ...exchangeToRow(ex), status: 200, outcome: 'completed' }, new Map()).tokens);
    expect(tokens).toEqual([statsTokens(claude), statsTokens(gpt)]);
  });
});
