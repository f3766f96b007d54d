import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Reassembled } from '../../src/exchange.js';
import { ollamaNative } from '../../src/providers/ollama.js';
import { openaiChat } from '../../src/providers/openai.js';
import { openaiEmbeddings } from '../../src/providers/openai-embeddings.js';
import { byteByByte, randomSplits, splitMismatches, twoWaySplits } from './split-helper.js';

const NDJSON = 'application/x-ndjson';

function reduce(parser: typeof ollamaNative, contentType: string | undefined, pieces: Array<Buffer | string>): Reassembled {
  const reducer = parser.createReducer(contentType);
  for (const piece of pieces) reducer.push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece, 'utf8'));
  return reducer.finish();
}

describe('Ollama native /api/chat and /api/generate', () => {
  const body = readFileSync(new URL('../fixtures/sse/ollama-chat-stream.ndjson', import.meta.url));
  const expected: Reassembled = {
    model: 'qwen3:8b',
    text: 'Il fait beau à Zürich ☀️',
    thinking: 'Okay, the user wants weather.',
    toolCalls: [{ name: 'get_weather', arguments: '{"city":"Zürich"}' }],
    usage: { inputTokens: 26, outputTokens: 282 },
    stopReason: 'stop',
    events: 8,
  };
  const run = (pieces: Buffer[]): Reassembled => reduce(ollamaNative, NDJSON, pieces);

  it('reassembles an NDJSON chat stream, whatever the split', () => {
    expect(run([body])).toStrictEqual(expected);
    expect(splitMismatches(twoWaySplits(body), run, expected)).toEqual([]);
    expect(splitMismatches(randomSplits(body, 100), run, expected)).toEqual([]);
    expect(run(byteByByte(body))).toStrictEqual(expected);
  });

  it('counts a last line without its newline and keeps a cut-off stream\'s text', () => {
    const noFinalNewline = body.subarray(0, body.length - 1);
    expect(run([noFinalNewline])).toStrictEqual(expected);
    const cut = body.subarray(0, body.indexOf('Zürich ☀️'));
    expect(run([cut])).toMatchObject({ text: 'Il fait beau à ', events: 6 });
    expect(run([cut]).usage).toBeUndefined();
  });

  it('reads /api/generate lines (response, thinking at the top level) and CRLF', () => {
    const lines = [
      { model: 'deepseek-r1:7b', created_at: 'x', response: '', thinking: 'Hmm.', done: false },
      { model: 'deepseek-r1:7b', created_at: 'x', response: 'The sky ', done: false },
      { model: 'deepseek-r1:7b', created_at: 'x', response: 'is blue.', done: false },
      { model: 'deepseek-r1:7b', created_at: 'x', response: '', done: true, done_reason: 'length', context: [1, 2, 3], prompt_eval_count: 12, eval_count: 40 },
    ].map((l) => JSON.stringify(l)).join('\r\n');
    const result: Reassembled = { model: 'deepseek-r1:7b', text: 'The sky is blue.', thinking: 'Hmm.', toolCalls: [], usage: { inputTokens: 12, outputTokens: 40 }, stopReason: 'length', events: 4 };
    expect(reduce(ollamaNative, 'application/x-ndjson', [lines])).toStrictEqual(result);
    expect(splitMismatches(twoWaySplits(Buffer.from(lines)), (p) => reduce(ollamaNative, NDJSON, p), result)).toEqual([]);
  });

  it('reads a stream:false answer as one JSON object', () => {
    const json = JSON.stringify({ model: 'llama3.2', message: { role: 'assistant', content: 'Hello!' }, done: true, done_reason: 'stop', prompt_eval_count: 8, eval_count: 3 }, null, 2);
    expect(reduce(ollamaNative, 'application/json; charset=utf-8', [json])).toStrictEqual({ model: 'llama3.2', text: 'Hello!', toolCalls: [], usage: { inputTokens: 8, outputTokens: 3 }, stopReason: 'stop', events: 0 });
  });

  it('streams unless the request says stream:false', () => {
    expect(ollamaNative.parseRequest(Buffer.from('{"model":"llama3.2","messages":[]}'))).toEqual({ model: 'llama3.2', stream: true });
    expect(ollamaNative.parseRequest(Buffer.from('{"model":"llama3.2","stream":false}'))).toEqual({ model: 'llama3.2', stream: false });
    expect(ollamaNative.parseRequest(Buffer.from('nope'))).toEqual({});
  });
});

describe('OpenAI embeddings', () => {
  it('reads model and prompt tokens, no text', () => {
    const body = JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.0023, -0.0093] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 8, total_tokens: 8 } });
    const expected: Reassembled = { model: 'text-embedding-3-small', text: '', toolCalls: [], usage: { inputTokens: 8 }, events: 0 };
    expect(reduce(openaiEmbeddings, 'application/json', [body])).toStrictEqual(expected);
    expect(splitMismatches(twoWaySplits(Buffer.from(body)), (p) => reduce(openaiEmbeddings, 'application/json', p), expected)).toEqual([]);
    expect(openaiEmbeddings.parseRequest(Buffer.from('{"model":"text-embedding-3-large","input":"hi"}'))).toEqual({ model: 'text-embedding-3-large' });
  });
});

describe('Gemini, Vertex AI and Ollama embeddings (the same API kind)', () => {
  const run = (body: object): Reassembled => reduce(openaiEmbeddings, 'application/json', [JSON.stringify(body)]);

  it('Ollama /api/embed: model and prompt_eval_count', () => {
    expect(run({ model: 'nomic-embed-text', embeddings: [[0.01, -0.02]], total_duration: 14143917, load_duration: 1019500, prompt_eval_count: 8 }))
      .toStrictEqual({ model: 'nomic-embed-text', text: '', toolCalls: [], usage: { inputTokens: 8 }, events: 0 });
    expect(openaiEmbeddings.parseRequest(Buffer.from('{"model":"nomic-embed-text","input":["a","b"]}'))).toEqual({ model: 'nomic-embed-text' });
  });

  it('Gemini API embedContent and batchEmbedContents count nothing; Vertex AI\'s usageMetadata does', () => {
    expect(run({ embedding: { values: [0.01, -0.02] } })).toStrictEqual({ text: '', toolCalls: [], events: 0 });
    expect(run({ embeddings: [{ values: [0.01] }, { values: [0.02] }] })).toStrictEqual({ text: '', toolCalls: [], events: 0 });
    expect(run({ embedding: { values: [0.01] }, usageMetadata: { promptTokenCount: 6, totalTokenCount: 6 } })).toStrictEqual({ text: '', toolCalls: [], usage: { inputTokens: 6 }, events: 0 });
    // The body may name the model as a resource; the path names it bare (registry.factsFromPath).
    expect(openaiEmbeddings.parseRequest(Buffer.from('{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"hi"}]}}'))).toEqual({ model: 'gemini-embedding-001' });
    expect(openaiEmbeddings.parseRequest(Buffer.from('{"content":{"parts":[{"text":"hi"}]}}'))).toEqual({});
  });
});

describe('chat usage variants of OpenAI-compatible providers', () => {
  const json = (usage: unknown, message: unknown = { role: 'assistant', content: 'ok' }): string => JSON.stringify({ model: 'm', choices: [{ index: 0, message, finish_reason: 'stop' }], usage });

  it('OpenRouter: cache writes in prompt_tokens_details.cache_write_tokens', () => {
    const result = reduce(openaiChat, 'application/json', [json({ prompt_tokens: 194, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 100 }, completion_tokens_details: { reasoning_tokens: 0 }, cost: 0.95 })]);
    expect(result.usage).toEqual({ inputTokens: 194, outputTokens: 2, cachedInputTokens: 0, cacheCreationInputTokens: 100, reasoningTokens: 0 });
  });

  it('Perplexity: reasoning_tokens at the top of usage', () => {
    const result = reduce(openaiChat, 'application/json', [json({ prompt_tokens: 10, completion_tokens: 300, total_tokens: 310, citation_tokens: 50, num_search_queries: 3, reasoning_tokens: 120 })]);
    expect(result.usage).toEqual({ inputTokens: 10, outputTokens: 300, reasoningTokens: 120 });
  });

  it('Mistral Magistral: thinking parts inside content', () => {
    const result = reduce(openaiChat, 'application/json', [json({ prompt_tokens: 5, completion_tokens: 9 }, { role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Let me think.' }] }, { type: 'text', text: 'Answer.' }] })]);
    expect([result.text, result.thinking]).toEqual(['Answer.', 'Let me think.']);
  });
});
