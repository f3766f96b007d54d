import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { exchangeSpan } from '../../src/otel/span-attributes.js';

const redactor = createRedactor([/internal-project-\w+/]);
const body = (text: string) => ({ bytes: Buffer.from(text), size: text.length, truncated: false });

describe('exchange → GenAI span', () => {
  it('Gemini: the conventions\' provider name, the operation, and never the ?key= query', () => {
    const ex = makeExchange({
      provider: 'gemini', api: 'gemini.generateContent', target: { host: 'generativelanguage.googleapis.com', port: 443, tls: true },
      request: { method: 'POST', path: '/v1beta/models/gemini-2.5-flash:generateContent?key=AIzaSyA-secret-key-0123456789abcdefghijklm', model: 'gemini-2.5-flash' },
      response: { status: 200, headers: [], body: body('{}'), reassembled: { text: 'ok', toolCalls: [], events: 0, stopReason: 'STOP', usage: { inputTokens: 5, outputTokens: 2, reasoningTokens: 7 } } },
      outcome: 'completed', timings: { start: 1000, end: 1250 },
    });
    const span = exchangeSpan(ex, { content: false, redactor });
    expect(span.name).toBe('generate_content gemini-2.5-flash');
    expect(span.attributes).toMatchObject({ 'gen_ai.provider.name': 'gcp.gemini', 'gen_ai.operation.name': 'generate_content', 'gen_ai.usage.reasoning_output_tokens': 7, 'gen_ai.response.finish_reasons': ['STOP'] });
    expect(span.attributes['url.path']).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(JSON.stringify(span)).not.toContain('AIza');
    expect([span.startTime, span.endTime, span.error]).toEqual([1000, 1250, undefined]);
  });

  it('a Gemini Live session is a realtime operation of the model its setup named; its ?key= never shows', () => {
    const ex = makeExchange({
      provider: 'gemini', api: 'gemini.live', target: { host: 'generativelanguage.googleapis.com', port: 443, tls: true },
      request: { method: 'GET', path: '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=AIzaSyA-secret-key-0123456789abcdefghijklm' },
      response: { status: 101, headers: [], body: body(''), reassembled: { model: 'gemini-live-2.5-flash-preview', text: 'ok', toolCalls: [], events: 3, stopReason: 'turn_complete', usage: { inputTokens: 5, outputTokens: 2 } } },
      outcome: 'completed', timings: { start: 1000, end: 1250 },
    });
    const span = exchangeSpan(ex, { content: false, redactor });
    expect(span.name).toBe('realtime gemini-live-2.5-flash-preview');
    expect(span.attributes).toMatchObject({ 'gen_ai.provider.name': 'gcp.gemini', 'gen_ai.operation.name': 'realtime' });
    expect(JSON.stringify(span)).not.toContain('AIza');
  });

  it('text Completions (Copilot\'s inline suggestions) are the conventions\' text_completion', () => {
    const ex = makeExchange({ provider: 'github-copilot', api: 'completions', request: { model: 'gpt-41-copilot' }, outcome: 'completed' });
    const span = exchangeSpan(ex, { content: false, redactor });
    expect(span.name).toBe('text_completion gpt-41-copilot');
    expect(span.attributes['gen_ai.operation.name']).toBe('text_completion');
  });

  it('a routed exchange is described where it went; what the client asked for is kept beside it', () => {
    const ex = makeExchange({
      provider: 'openai', api: 'chat.completions', request: { model: 'cheap-alias' }, outcome: 'completed',
      policy: { decisions: [], route: { from: { upstream: 'https://api.openai.com', model: 'cheap-alias' }, to: { upstream: 'https://api.deepseek.com', model: 'deepseek-chat' } } },
    });
    const span = exchangeSpan(ex, { content: false, redactor });
    expect(span.name).toBe('chat deepseek-chat');
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'deepseek', 'gen_ai.request.model': 'deepseek-chat', 'server.address': 'api.deepseek.com', 'server.port': 443,
      'llmtap.route.requested_host': 'api.openai.com', 'llmtap.route.requested_model': 'cheap-alias',
    });
    // Not routed: nothing about a route.
    const plain = exchangeSpan(makeExchange({ provider: 'openai', api: 'chat.completions', request: { model: 'gpt-4o' } }), { content: false, redactor });
    expect(plain.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'server.address': 'api.openai.com' });
    expect(Object.keys(plain.attributes).filter((k) => k.startsWith('llmtap.route'))).toEqual([]);
  });

  it('an error sets error.type from the llmtap code, or the HTTP status', () => {
    const blocked = makeExchange({ provider: 'anthropic', api: 'messages', outcome: 'blocked', errorCode: 'policy_denied', response: { status: 403, headers: [], body: body('{}') } });
    expect(exchangeSpan(blocked, { content: false, redactor }).error).toBe('policy_denied');
    const notFound = makeExchange({ provider: 'openai', api: 'chat.completions', outcome: 'completed', response: { status: 404, headers: [], body: body('{}') } });
    const span = exchangeSpan(notFound, { content: false, redactor });
    expect([span.error, span.attributes['error.type']]).toEqual(['404', '404']);
  });

  it('a stream the provider ended with its error event after the 200 fails the span, named by the error', () => {
    const answer = (stopReason: string) => makeExchange({ provider: 'anthropic', api: 'messages', outcome: 'completed',
      response: { status: 200, headers: [], body: body(''), reassembled: { text: 'Bonjour', toolCalls: [], events: 4, stopReason } } });
    const span = exchangeSpan(answer('overloaded_error'), { content: false, redactor });
    expect([span.error, span.attributes['error.type'], span.attributes['gen_ai.response.finish_reasons']]).toEqual(['overloaded_error', 'overloaded_error', ['overloaded_error']]);
    expect(exchangeSpan(answer('end_turn'), { content: false, redactor }).error).toBeUndefined();
  });

  it('content goes through the redactor: key shapes, credential keys and the operator\'s patterns', () => {
    const request = JSON.stringify({ model: 'claude-sonnet-4-5', system: 'for internal-project-apollo', messages: [{ role: 'user', content: 'token: sk-ant-api03-abcdefghijklmnopqrstuvwxyz' }] });
    const ex = makeExchange({
      provider: 'anthropic', api: 'messages', request: { body: body(request), model: 'claude-sonnet-4-5' },
      response: { status: 200, headers: [], body: body('{}'), reassembled: { text: 'done', toolCalls: [{ id: 't1', name: 'login', arguments: '{"password":"hunter2"}' }], events: 0 } },
    });
    const a = exchangeSpan(ex, { content: true, redactor }).attributes;
    expect(a['gen_ai.system_instructions']).toBe('"for [REDACTED]"');
    expect(JSON.parse(a['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', content: 'token: [REDACTED]' }]);
    expect(JSON.parse(a['gen_ai.output.messages'] as string)).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'done' }, { type: 'tool_call', id: 't1', name: 'login', arguments: '{"password":"[REDACTED]"}' }] }]);
    expect(exchangeSpan(ex, { content: false, redactor }).attributes).not.toHaveProperty('gen_ai.input.messages');
  });
});
