import { describe, expect, it } from 'vitest';
import { estimatePromptTokens } from '../../src/cost/usage-estimate.js';
import { makeExchange } from '../../src/exchange.js';
import { estimateMissingUsage } from '../../src/recorder/row-estimate.js';

/** One token per word: what the prompt adds up to shows in the totals. */
const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

describe('estimating a text Completions usage (Copilot streams report none)', () => {
  it('counts the prompt (a string, strings, or token ids) and the suffix, with no per-message overhead', () => {
    expect(estimatePromptTokens('completions', { prompt: 'def fib ( n ) :', suffix: 'return x' }, words)).toBe(6 + 2);
    expect(estimatePromptTokens('completions', { prompt: ['one two', 'three'] }, words)).toBe(3);
    // Token ids are already tokens.
    expect(estimatePromptTokens('completions', { prompt: [1, 2, 3, 4] }, words)).toBe(4);
    expect(estimatePromptTokens('completions', { prompt: [[1, 2], [3]] }, words)).toBe(3);
    expect(estimatePromptTokens('completions', { messages: [] }, words)).toBeUndefined();
  });

  it('the writer fills in a streamed answer without usage and flags it estimated', () => {
    const body = Buffer.from(JSON.stringify({ prompt: '# add two numbers\ndef add(a, b):', suffix: '\n', max_tokens: 50, stream: true, extra: { language: 'python' } }));
    const ex = makeExchange({
      provider: 'github-copilot',
      api: 'completions',
      request: { method: 'POST', path: '/v1/engines/gpt-41-copilot/completions', headers: ['Content-Type', 'application/json'], body: { bytes: body, size: body.length, truncated: false }, model: 'gpt-41-copilot', stream: true },
      response: { status: 200, headers: ['Content-Type', 'text/event-stream'], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { text: '\n    return a + b', toolCalls: [], events: 4, stopReason: 'stop' } },
      outcome: 'completed',
    });
    expect(estimateMissingUsage(ex, words)).toBe(true);
    expect(ex.usage).toEqual({ inputTokens: 7, outputTokens: 4 });
    expect(ex.usageEstimated).toBe('all');
  });
});
