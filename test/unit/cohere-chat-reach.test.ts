import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { providerErrorBody } from '../../src/errors.js';
import { exchangeSpan } from '../../src/otel/span-attributes.js';
import { BUILT_IN_DETECTORS } from '../../src/policy/detectors.js';
import { Placeholders, redactRequest } from '../../src/policy/redact-body.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { readConversation } from '../../src/sessions/conversation.js';

/** Everything downstream of the parser that reads an API kind knows Cohere's `cohere.chat`. */

const request = () => ({
  model: 'command-a-03-2025',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Weather for a@x.io?' }] },
    {
      role: 'assistant',
      content: [{ type: 'thinking', thinking: 'Need a tool for e@x.io.' }],
      tool_plan: 'I will call get_weather for a@x.io.',
      tool_calls: [{ id: 'get_weather_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","to":"a@x.io"}' } }],
    },
    { role: 'tool', tool_call_id: 'get_weather_1', content: [{ type: 'document', document: { id: 'w1', data: { temperature: '21C', owner: 'b@x.io' } } }] },
  ],
  documents: [{ id: 'd1', data: { title: 'Notes', snippet: 'mail c@x.io' } }, 'plain d@x.io'],
  tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
  max_tokens: 300,
});

describe('cohere.chat beyond the parser', () => {
  it('is a conversation: system, text parts, the tool plan as thinking, tool calls, documents as tool results', () => {
    expect(readConversation('cohere.chat', request())).toEqual({
      system: 'Be brief.',
      tools: ['get_weather'],
      messages: [
        { role: 'user', blocks: [{ type: 'text', text: 'Weather for a@x.io?' }] },
        { role: 'assistant', blocks: [
          { type: 'thinking', text: 'Need a tool for e@x.io.\n\nI will call get_weather for a@x.io.' },
          { type: 'tool_call', id: 'get_weather_1', name: 'get_weather', arguments: '{"city":"Paris","to":"a@x.io"}' },
        ] },
        { role: 'tool', blocks: [{ type: 'tool_result', id: 'get_weather_1', text: '{"temperature":"21C","owner":"b@x.io"}' }] },
      ],
    });
  });

  it('redaction reads its message text, tool plan, arguments and documents; ids, roles and the model stay', () => {
    const body = request();
    const hits = redactRequest('cohere.chat', body, Object.values(BUILT_IN_DETECTORS), new Placeholders(), true);
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/[abcde]@x\.io/);
    expect(hits.map((h) => h.at).sort()).toEqual([
      'documents[0].data.snippet', 'documents[1]', 'messages[1].content[0].text', 'messages[2].content[0].thinking',
      'messages[2].tool_calls[0].function.arguments', 'messages[2].tool_plan', 'messages[3].content[0].document.data.owner',
    ]);
    expect(body.messages[2]!.tool_calls![0]!.id).toBe('get_weather_1');
    expect(body.model).toBe('command-a-03-2025');
  });

  it('is a chat operation in OpenTelemetry, under the provider name cohere', () => {
    const ex = makeExchange({
      provider: 'cohere', api: 'cohere.chat', target: { host: 'api.cohere.com', port: 443, tls: true },
      request: { method: 'POST', path: '/v2/chat', model: 'command-a-03-2025' },
      response: { status: 200, headers: [], body: { bytes: Buffer.from('{}'), size: 2, truncated: false }, reassembled: { text: 'ok', toolCalls: [], events: 0, stopReason: 'COMPLETE', usage: { inputTokens: 5, outputTokens: 2 } } },
      outcome: 'completed', timings: { start: 1000, end: 1250 },
    });
    const span = exchangeSpan(ex, { content: false, redactor: createRedactor([]) });
    expect(span.name).toBe('chat command-a-03-2025');
    expect(span.attributes).toMatchObject({ 'gen_ai.provider.name': 'cohere', 'gen_ai.operation.name': 'chat', 'gen_ai.response.finish_reasons': ['COMPLETE'] });
  });

  it('is priced at Cohere\'s rates for the billed tokens', () => {
    const price = priceExchange({ provider: 'cohere', host: 'api.cohere.com', api: 'cohere.chat', model: 'command-r7b-12-2024', usage: { inputTokens: 1_000_000, outputTokens: 1_000_000 }, at: Date.parse('2026-01-01'), subscription: false });
    expect([price.matchedProvider, price.usd]).toEqual(['cohere', 0.0375 + 0.15]);
  });

  it('errors llmtap makes itself are in Cohere\'s shape, a top-level message the SDK raises', () => {
    expect(JSON.parse(providerErrorBody('cohere', 'model_not_allowed', 'no'))).toEqual({ message: 'no (model_not_allowed)' });
  });
});
