import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { estimatePromptTokens, ESTIMATED_APIS } from '../../src/cost/usage-estimate.js';
import { exchangeSpan } from '../../src/otel/span-attributes.js';
import { BUILT_IN_DETECTORS } from '../../src/policy/detectors.js';
import { Placeholders, redactRequest } from '../../src/policy/redact-body.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { readConversation } from '../../src/sessions/conversation.js';

/** Everything downstream of the parser that reads an API kind knows Cohere's legacy `cohere.chat.v1`. */

const request = () => ({
  model: 'command-r-plus-08-2024',
  preamble: 'Be brief, a@x.io.',
  chat_history: [
    { role: 'SYSTEM', message: 'Answer in French.' },
    { role: 'USER', message: 'Weather for b@x.io?' },
    { role: 'CHATBOT', message: 'I will call get_weather.', tool_calls: [{ name: 'get_weather', parameters: { city: 'Paris', to: 'c@x.io' } }] },
    { role: 'TOOL', tool_results: [{ call: { name: 'get_weather', parameters: { city: 'Paris' } }, outputs: [{ temperature: '21C', owner: 'd@x.io' }] }] },
    { role: 'CHATBOT', message: 'Il fait 21C.' },
  ],
  message: 'And tomorrow, e@x.io?',
  documents: [{ title: 'Notes', snippet: 'mail f@x.io' }],
  tools: [{ name: 'get_weather', description: 'Weather', parameter_definitions: { city: { type: 'str', required: true } } }],
  max_tokens: 300,
});

describe('cohere.chat.v1 beyond the parser', () => {
  it('is a conversation: the preamble and SYSTEM turns as system, USER and CHATBOT turns, a calling turn\'s plan as thinking, tool calls and results, the message as the last user turn', () => {
    expect(readConversation('cohere.chat.v1', request())).toEqual({
      system: 'Be brief, a@x.io.\n\nAnswer in French.',
      tools: ['get_weather'],
      messages: [
        { role: 'user', blocks: [{ type: 'text', text: 'Weather for b@x.io?' }] },
        { role: 'assistant', blocks: [{ type: 'thinking', text: 'I will call get_weather.' }, { type: 'tool_call', name: 'get_weather', arguments: '{"city":"Paris","to":"c@x.io"}' }] },
        { role: 'tool', blocks: [{ type: 'tool_result', text: '[{"temperature":"21C","owner":"d@x.io"}]' }] },
        { role: 'assistant', blocks: [{ type: 'text', text: 'Il fait 21C.' }] },
        { role: 'user', blocks: [{ type: 'text', text: 'And tomorrow, e@x.io?' }] },
      ],
    });
    expect(readConversation('cohere.chat.v1', { model: 'command-r', message: 'hi' })).toEqual({ tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: 'hi' }] }] });
    expect(readConversation('cohere.chat.v1', { model: 'command-r' })).toBeUndefined();
  });

  it('redaction reads the message, preamble, history, tool parameters and outputs, and documents; roles, names and the model stay', () => {
    const body = request();
    const hits = redactRequest('cohere.chat.v1', body, Object.values(BUILT_IN_DETECTORS), new Placeholders(), true);
    expect(JSON.stringify(body)).not.toMatch(/[a-f]@x\.io/);
    expect(hits.map((h) => h.at).sort()).toEqual([
      'chat_history[1].message', 'chat_history[2].tool_calls[0].parameters.to', 'chat_history[3].tool_results[0].outputs[0].owner',
      'documents[0].snippet', 'message', 'preamble',
    ]);
    expect(body.chat_history[2]!.role).toBe('CHATBOT');
    expect(body.chat_history[2]!.tool_calls![0]!.name).toBe('get_weather');
    expect(body.model).toBe('command-r-plus-08-2024');
  });

  it('is a chat operation in OpenTelemetry', () => {
    const ex = makeExchange({
      provider: 'cohere', api: 'cohere.chat.v1', target: { host: 'api.cohere.com', port: 443, tls: true },
      request: { method: 'POST', path: '/v1/chat', model: 'command-r-plus-08-2024' },
      response: { status: 200, headers: [], body: { bytes: Buffer.from('{}'), size: 2, truncated: false }, reassembled: { text: 'ok', toolCalls: [], events: 0, stopReason: 'COMPLETE', usage: { inputTokens: 5, outputTokens: 2 } } },
      outcome: 'completed', timings: { start: 1000, end: 1250 },
    });
    const span = exchangeSpan(ex, { content: false, redactor: createRedactor([]) });
    expect(span.name).toBe('chat command-r-plus-08-2024');
    expect(span.attributes).toMatchObject({ 'gen_ai.provider.name': 'cohere', 'gen_ai.operation.name': 'chat' });
  });

  it('is priced at the Cohere rates Chat v2 uses', () => {
    const at = { provider: 'cohere', host: 'api.cohere.com', model: 'command-r7b-12-2024', usage: { inputTokens: 1_000_000, outputTokens: 1_000_000 }, at: Date.parse('2026-01-01'), subscription: false } as const;
    const v1 = priceExchange({ ...at, api: 'cohere.chat.v1' });
    expect([v1.matchedProvider, v1.usd]).toEqual(['cohere', 0.0375 + 0.15]);
    expect(v1.usd).toBe(priceExchange({ ...at, api: 'cohere.chat' }).usd);
  });

  it('a prompt is estimated from its preamble, history, message, tool results and documents when the answer reports no usage', () => {
    expect(ESTIMATED_APIS.has('cohere.chat.v1')).toBe(true);
    const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;
    // Each turn wrapped as a Chat Completions message is (3 tokens, its role, its text), the reply primed with 3.
    const body = { model: 'command-r', preamble: 'Be brief.', chat_history: [{ role: 'USER', message: 'one two' }, { role: 'CHATBOT', message: 'three' }], message: 'four five six', documents: ['seven eight'] };
    expect(estimatePromptTokens('cohere.chat.v1', body, words)).toBe(3 + (3 + 1 + 2) + (3 + 1 + 2) + (3 + 1 + 1) + (3 + 1 + 3) + 2);
    expect(estimatePromptTokens('cohere.chat.v1', { model: 'command-r' }, words)).toBeUndefined();
  });
});
