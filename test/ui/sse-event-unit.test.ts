import { describe, expect, it } from 'vitest';
import { EVENT_LINE, eventData } from '../../ui/src/format.js';

/** Events as providers send them, at their real sizes. */
const OPENAI_CHUNK = { id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG', object: 'chat.completion.chunk', created: 1741570283, model: 'gpt-4o-2024-08-06', service_tier: 'default', system_fingerprint: 'fp_eb9dce56a8', choices: [{ index: 0, delta: { content: ' world' }, logprobs: null, finish_reason: null }], obfuscation: 'abc123' };
const MESSAGE_START = { type: 'message_start', message: { model: 'claude-sonnet-4-5-20250929', id: 'msg_01XFDUDYJgAACzvnptvVoYEL', type: 'message', role: 'assistant', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, cache_creation_input_tokens: 4523, cache_read_input_tokens: 15033, cache_creation: { ephemeral_5m_input_tokens: 4523, ephemeral_1h_input_tokens: 0 }, output_tokens: 1, service_tier: 'standard' } } };

describe('an SSE event on the exchange page', () => {
  it('reads a text delta with its envelope on one line', () => {
    const text = JSON.stringify(OPENAI_CHUNK, null, 1);
    expect(eventData(text)).toBe(JSON.stringify(OPENAI_CHUNK));
    expect(eventData('{"type":"ping"}')).toBe('{"type":"ping"}');
  });

  it('pretty-prints a large one, and gives what is not JSON as sent', () => {
    expect(JSON.stringify(MESSAGE_START).length).toBeGreaterThan(EVENT_LINE);
    expect(eventData(JSON.stringify(MESSAGE_START))).toBe(JSON.stringify(MESSAGE_START, null, 2));
    expect(eventData('[DONE]')).toBe('[DONE]');
  });
});
