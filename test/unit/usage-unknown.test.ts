import { describe, expect, it } from 'vitest';
import { usageUnknownReason, type UsageUnknownRow } from '../../src/cost/usage-unknown.js';

const cut = (over: Partial<UsageUnknownRow> = {}): UsageUnknownRow => ({
  api: 'messages', model: 'claude-sonnet-4-5', status: 200, stream: 1, outcome: 'client_aborted', error_code: null,
  input_tokens: null, output_tokens: null, cached_input_tokens: null, usage_estimated: null, ...over,
});

describe('why an answer cut short has no tokens', () => {
  it('a Claude stream cut before message_start (direct, Vertex, Bedrock InvokeModel): the input is unknown, and not estimated', () => {
    expect(usageUnknownReason(cut())).toBe('the stream was cut (the client left) before message_start, where Anthropic reports the input: not estimated, since neither the prompt\'s cached share nor whether anything was billed can be told');
    expect(usageUnknownReason(cut({ api: 'bedrock.invoke', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }))).toMatch(/before message_start/);
  });

  it('an answer whose upstream connection broke, or that llmtap\'s shutdown cut, was read like one the client left', () => {
    expect(usageUnknownReason(cut({ outcome: 'upstream_error', error_code: 'upstream_reset' }))).toBe('the stream was cut (the upstream connection broke: upstream_reset) before message_start, where Anthropic reports the input: not estimated, since neither the prompt\'s cached share nor whether anything was billed can be told');
    expect(usageUnknownReason(cut({ api: 'gemini.generateContent', outcome: 'upstream_error', error_code: null }))).toBe('the answer was cut (the upstream connection broke: upstream_error) before it reported usage; llmtap estimates only OpenAI Chat Completions, Responses and text Completions answers, Cohere Chat v2 and v1 streams, and Claude streams past message_start');
    // As handle-exchange records a stream open at the drain deadline: proxy_error, shutdown, the upstream's 200.
    expect(usageUnknownReason(cut({ api: 'chat.completions', outcome: 'proxy_error', error_code: 'shutdown' }))).toBe('the answer was cut (llmtap cut it at its shutdown\'s drain deadline) before it reported usage, and llmtap could not estimate it (no prompt it could read)');
  });

  it('an answer llmtap ended with its own error mid-answer: kept as it came, not read', () => {
    expect(usageUnknownReason(cut({ api: 'chat.completions', outcome: 'proxy_error', error_code: 'internal' }))).toBe('llmtap ended the answer with its own error (internal): what arrived is kept as it came, not read for tokens nor estimated');
    expect(usageUnknownReason(cut({ outcome: 'proxy_error', error_code: null }))).toMatch(/^llmtap ended the answer with its own error \(proxy_error\)/);
    // A refusal before any answer began has no 2xx: nothing to say.
    expect(usageUnknownReason(cut({ outcome: 'proxy_error', error_code: 'shutdown', status: 503 }))).toBeUndefined();
  });

  it('other APIs say they are not estimated; an OpenAI answer that should have been, that it could not be', () => {
    expect(usageUnknownReason(cut({ api: 'gemini.generateContent', model: 'gemini-2.5-pro' }))).toMatch(/before it reported usage; llmtap estimates only/);
    expect(usageUnknownReason(cut({ api: 'bedrock.invoke', model: 'meta.llama3-1-70b-instruct-v1:0' }))).toMatch(/llmtap estimates only/);
    expect(usageUnknownReason(cut({ api: 'messages', stream: 0 }))).toMatch(/^the answer was cut \(the client left\) before it reported usage;/);
    expect(usageUnknownReason(cut({ api: 'chat.completions', model: 'gpt-4o' }))).toMatch(/could not estimate it/);
  });

  it('says nothing of a row with tokens, an estimate (made or awaited), no answer begun, or one that completed', () => {
    for (const row of [
      cut({ input_tokens: 21 }), cut({ output_tokens: 3 }), cut({ cached_input_tokens: 4 }), cut({ usage_estimated: 0 }), cut({ usage_estimated: 1 }),
      cut({ status: null }), cut({ status: 529 }), cut({ status: 101 }), cut({ outcome: 'completed' }),
    ]) expect(usageUnknownReason(row)).toBeUndefined();
  });
});
