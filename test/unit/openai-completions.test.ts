import { describe, expect, it } from 'vitest';
import type { Reassembled } from '../../src/exchange.js';
import { openaiCompletions } from '../../src/providers/openai-completions.js';
import { byteByByte, randomSplits, splitMismatches, twoWaySplits } from './split-helper.js';

const SSE = 'text/event-stream';
const JSON_TYPE = 'application/json';

function reduce(contentType: string | undefined, pieces: Array<Buffer | string>): Reassembled {
  const reducer = openaiCompletions.createReducer(contentType);
  for (const piece of pieces) reducer.push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece, 'utf8'));
  return reducer.finish();
}

const sse = (...chunks: unknown[]): string => chunks.map((c) => `data: ${typeof c === 'string' ? c : JSON.stringify(c)}\n\n`).join('');
const chunk = (text: string, extra: Record<string, unknown> = {}, index = 0) => ({
  id: 'cmpl-9xYz', object: 'text_completion', created: 1733500000, model: 'gpt-3.5-turbo-instruct',
  choices: [{ text, index, logprobs: null, finish_reason: null, ...extra }],
});

// A streamed completion with n = 2 (the second choice interleaved) and stream_options.include_usage's last chunk.
const STREAM = Buffer.from(sse(
  chunk('déf fib(n):'),
  chunk('IGNORED', {}, 1),
  chunk('\n    return n if n < 2 else 🌀'),
  chunk('', { finish_reason: 'length' }, 1),
  chunk(' fib(n - 1) + fib(n - 2)\n', { finish_reason: 'stop' }),
  { id: 'cmpl-9xYz', object: 'text_completion', created: 1733500000, model: 'gpt-3.5-turbo-instruct', choices: [], usage: { prompt_tokens: 12, completion_tokens: 21, total_tokens: 33 } },
  '[DONE]',
), 'utf8');

const STREAM_EXPECTED: Reassembled = {
  model: 'gpt-3.5-turbo-instruct',
  text: 'déf fib(n):\n    return n if n < 2 else 🌀 fib(n - 1) + fib(n - 2)\n',
  toolCalls: [],
  usage: { inputTokens: 12, outputTokens: 21 },
  stopReason: 'stop',
  events: 7,
};

const JSON_BODY = Buffer.from(JSON.stringify({
  id: 'cmpl-abc', object: 'text_completion', created: 1733500000, model: 'gpt-3.5-turbo-instruct',
  choices: [
    { text: '\n\nThis is indeed a tést — ✓', index: 0, logprobs: null, finish_reason: 'length' },
    { text: 'other choice', index: 1, logprobs: null, finish_reason: 'stop' },
  ],
  usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
}), 'utf8');

const JSON_EXPECTED: Reassembled = {
  model: 'gpt-3.5-turbo-instruct', text: '\n\nThis is indeed a tést — ✓', toolCalls: [], usage: { inputTokens: 5, outputTokens: 7 }, stopReason: 'length', events: 0,
};

describe('openaiCompletions streamed answers', () => {
  const run = (pieces: Buffer[]): Reassembled => reduce(SSE, pieces);

  it('joins the first choice\'s text, its finish_reason and the usage chunk', () => {
    expect(run([STREAM])).toStrictEqual(STREAM_EXPECTED);
  });

  it('gives the same result split in two at every byte, at random and byte by byte', () => {
    expect(splitMismatches(twoWaySplits(STREAM), run, STREAM_EXPECTED)).toEqual([]);
    expect(splitMismatches(randomSplits(STREAM, 100), run, STREAM_EXPECTED)).toEqual([]);
    expect(run(byteByByte(STREAM))).toStrictEqual(STREAM_EXPECTED);
  });

  it('a Copilot stream: no object, no usage (left for the archive to estimate)', () => {
    const copilot = (text: string, finish: string | null) => ({ id: 'x', created: 1, model: 'gpt-41-copilot', choices: [{ index: 0, text, finish_reason: finish, logprobs: null, p: 'aaaa' }] });
    const result = run([Buffer.from(sse(copilot('const x', null), copilot(' = 1;', null), copilot('', 'stop'), '[DONE]'))]);
    expect(result).toStrictEqual({ model: 'gpt-41-copilot', text: 'const x = 1;', toolCalls: [], stopReason: 'stop', events: 4 });
  });

  it('reads a FIM server answering in chat shape (Mistral /v1/fim/completions: delta.content)', () => {
    const result = run([Buffer.from(sse(
      { model: 'codestral-latest', choices: [{ index: 0, delta: { role: 'assistant', content: 'return ' } }] },
      { model: 'codestral-latest', choices: [{ index: 0, delta: { content: 'a + b' }, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 4 } },
      '[DONE]',
    ))]);
    expect(result).toStrictEqual({ model: 'codestral-latest', text: 'return a + b', toolCalls: [], usage: { inputTokens: 9, outputTokens: 4 }, stopReason: 'stop', events: 3 });
  });

  it('an error inside the 200 ends the answer failed; what came before stays', () => {
    const result = run([Buffer.from(sse(chunk('Part'), { error: { message: 'boom', type: 'server_error' } }))]);
    expect(result).toStrictEqual({ model: 'gpt-3.5-turbo-instruct', text: 'Part', toolCalls: [], stopReason: 'server_error', failed: true, events: 2 });
  });
});

describe('openaiCompletions JSON answers', () => {
  const run = (pieces: Buffer[]): Reassembled => reduce(JSON_TYPE, pieces);

  it('reads the first choice, model, finish_reason and usage, however the body is split', () => {
    expect(run([JSON_BODY])).toStrictEqual(JSON_EXPECTED);
    expect(reduce(undefined, [JSON_BODY])).toStrictEqual(JSON_EXPECTED);
    expect(splitMismatches(twoWaySplits(JSON_BODY), run, JSON_EXPECTED)).toEqual([]);
    expect(run(byteByByte(JSON_BODY))).toStrictEqual(JSON_EXPECTED);
  });

  it('never throws on error bodies, truncated JSON or non-JSON', () => {
    const empty = { text: '', toolCalls: [], events: 0 };
    expect(run([Buffer.from('{"error":{"message":"bad","type":"invalid_request_error"}}')])).toStrictEqual({ ...empty, failed: true });
    expect(run([JSON_BODY.subarray(0, 40)])).toStrictEqual(empty);
    expect(run([Buffer.from('<html>502</html>')])).toStrictEqual(empty);
    expect(run([])).toStrictEqual(empty);
  });
});

describe('openaiCompletions.parseRequest', () => {
  const read = (body: unknown) => openaiCompletions.parseRequest(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));

  it('reads model and stream flag; Copilot names no model in the body', () => {
    expect(read({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test', max_tokens: 7 })).toEqual({ model: 'gpt-3.5-turbo-instruct', stream: false });
    expect(read({ prompt: 'def f(', suffix: ')\n', max_tokens: 500, stream: true, extra: { language: 'python' } })).toEqual({ stream: true });
    expect(read('not json')).toEqual({});
  });
});
