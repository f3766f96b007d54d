import { makeExchange, type Exchange } from '../../src/exchange.js';

/** A chat completion of ordinary size (a ~1 KB prompt, a ~320 B answer) for recorder tests; `extra` goes into the prompt. */
export function typicalExchange(i: number, extra = ''): Exchange {
  const prompt = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${i} ${extra} `.repeat(40) }] });
  return makeExchange({
    provider: 'openai',
    api: 'chat.completions',
    request: { method: 'POST', path: '/v1/chat/completions', headers: ['Authorization', 'Bearer x', 'Content-Type', 'application/json'], body: { bytes: Buffer.from(prompt), size: prompt.length, truncated: false }, model: 'gpt-4o-mini' },
    response: {
      status: 200,
      headers: ['Content-Type', 'application/json'],
      body: { bytes: Buffer.from(`{"answer":"${'word '.repeat(60)}"}`), size: 320, truncated: false },
      reassembled: { text: 'word '.repeat(60), toolCalls: [], events: 0 },
    },
    usage: { inputTokens: 100, outputTokens: 60 },
  });
}
