import { describe, expect, it } from 'vitest';
import { estimatePromptTokens } from '../../src/cost/usage-estimate.js';
import { makeExchange, type Reassembled } from '../../src/exchange.js';
import { estimateMissingUsage, mayEstimateUsage } from '../../src/recorder/row-estimate.js';

/**
 * Cohere's Chat v2 reports its usage only in the stream's last event (message-end): a stream
 * cut before it (the client left, the connection broke) gets its tokens estimated like a cut
 * Chat Completions stream — the prompt from the request, the output from what arrived.
 */
const words: (text: string) => number = (text) => text.split(/\s+/).filter(Boolean).length;
const request = {
  model: 'command-a-03-2025', stream: true,
  messages: [
    { role: 'system', content: 'Be brief please' },
    { role: 'user', content: [{ type: 'text', text: 'weather in Paris today' }] },
    { role: 'assistant', tool_plan: 'I will call the tool', tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
  ],
  documents: ['a short note'],
};

function cutStream(reassembled: Partial<Reassembled>) {
  const body = Buffer.from(JSON.stringify(request));
  return makeExchange({
    provider: 'cohere', api: 'cohere.chat', target: { host: 'api.cohere.com', port: 443, tls: true },
    request: { method: 'POST', path: '/v2/chat', model: 'command-a-03-2025', stream: true, body: { bytes: body, size: body.length, truncated: false } },
    response: { status: 200, headers: [], body: { bytes: Buffer.from('event: x'), size: 8, truncated: false }, reassembled: { text: 'It is sunny', toolCalls: [], events: 4, ...reassembled } },
    outcome: 'client_aborted',
  });
}

describe('Cohere Chat v2 usage estimates', () => {
  it('counts the messages as Chat Completions ones, plus the tool plan and the grounding documents', () => {
    // 3 priming + per message 3 + role + text: system 1+3, user 1+4, assistant 1 + tool call name and arguments (1+2) + plan (5); documents 3.
    expect(estimatePromptTokens('cohere.chat', request, words)).toBe(3 + (3 + 1 + 3) + (3 + 1 + 4) + (3 + 1 + 3 + 5) + 3);
  });

  it('a stream cut before message-end is estimated in full; one that reported usage, or ended by Cohere\'s error, is not', () => {
    const cut = cutStream({});
    expect(mayEstimateUsage(cut)).toBe(true);
    expect(estimateMissingUsage(cut, words)).toBe(true);
    expect(cut.usage).toEqual({ inputTokens: 33, outputTokens: 3 });
    expect(cut.usageEstimated).toBe('all');
    expect(mayEstimateUsage(cutStream({ usage: { inputTokens: 12, outputTokens: 40 } }))).toBe(false);
    expect(mayEstimateUsage(cutStream({ failed: true, stopReason: 'ERROR' }))).toBe(false);
  });
});
