import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { estimateAnswerTokens, estimatePromptTokens } from '../../src/cost/usage-estimate.js';
import { makeExchange, type Exchange } from '../../src/exchange.js';
import { budgetedCounter, countTokens, estimateMissingUsage, mayEstimateUsage } from '../../src/recorder/row-estimate.js';
import { anthropicMessages } from '../../src/providers/anthropic.js';
import { bedrockInvoke } from '../../src/providers/bedrock.js';
import { BEDROCK_TEXT, claudeInvokeFrames, exceptionFrame } from '../helpers/fake-bedrock.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { tailLine } from '../../src/cli/tail.js';
import { listItem } from '../../src/ui/server/list-item.js';
import { exchangeToJson } from '../../src/archive/export.js';
import { exchangeCsvRecord } from '../../src/archive/export-csv.js';
import { threadTurns } from '../../src/sessions/turns.js';
import { renderTurnLines } from '../../src/cli/render/session-text.js';

/** One token per word: the formula's overheads show in the totals. */
const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

describe('estimating a Chat Completions usage from its text', () => {
  it('counts each message as 3 tokens plus its role and text, a name as 1 more, and 3 for the reply', () => {
    const request = { model: 'gpt-4o', messages: [{ role: 'system', content: 'be brief please' }, { role: 'user', name: 'ann', content: 'what is two plus two' }] };
    // 3 (reply) + [3 + 1 (system) + 3] + [3 + 1 (user) + 5 + 1 + 1 (name)]
    expect(estimatePromptTokens('chat.completions', request, words)).toBe(21);
  });

  it('reads text parts like text, skips images, and counts tool calls and tool definitions', () => {
    const asString = estimatePromptTokens('chat.completions', { messages: [{ role: 'user', content: 'look at this picture' }] }, words);
    const asParts = estimatePromptTokens('chat.completions', { messages: [{ role: 'user', content: [{ type: 'text', text: 'look at this picture' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] }, words);
    expect(asParts).toBe(asString);
    const call = { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city": "Paris"}' } }] };
    // The call adds its name (1) and arguments (2 words) to the message's 3 + role (1).
    expect(estimatePromptTokens('chat.completions', { messages: [call] }, words)).toBe(3 + 3 + 1 + 1 + 2);
    const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }];
    expect(estimatePromptTokens('chat.completions', { messages: [], tools }, words)).toBe(3 + words(JSON.stringify(tools)));
  });

  it('Responses: instructions, a string input or items (messages, tool calls and outputs), reasoning summaries, tools', () => {
    expect(estimatePromptTokens('responses', { instructions: 'be brief', input: 'what is two plus two' }, words)).toBe(3 + 2 + 3 + 5);
    const items = [
      { role: 'user', content: [{ type: 'input_text', text: 'list the files' }, { type: 'input_image', image_url: 'data:' }] },
      { type: 'reasoning', summary: [{ type: 'summary_text', text: 'use the shell' }], encrypted_content: 'gAAAA opaque' },
      { type: 'function_call', call_id: 'c1', name: 'shell', arguments: '{"cmd": "ls"}' },
      { type: 'function_call_output', call_id: 'c1', output: 'a.txt b.txt' },
    ];
    // 3 + [3 + 1 + 3] + [3 (summary)] + [3 + 1 + 2] + [3 + 2]
    expect(estimatePromptTokens('responses', { input: items }, words)).toBe(3 + 7 + 3 + 6 + 5);
  });

  it('counts the answer\'s text, thinking and tool calls; a body that is not Chat Completions gives no estimate', () => {
    expect(estimateAnswerTokens({ text: 'it is four', thinking: 'two and two', toolCalls: [{ name: 'calc', arguments: '2 + 2' }] }, words)).toBe(3 + 3 + 1 + 3);
    expect(estimatePromptTokens('chat.completions', { input: 'a Responses body' }, words)).toBeUndefined();
    expect(estimatePromptTokens('responses', { messages: [] }, words)).toBeUndefined();
    expect(estimatePromptTokens('chat.completions', 'not json', words)).toBeUndefined();
  });

  it('uses OpenAI\'s o200k tokenizer, counts a special token\'s text as text, and counts past 64 KB from what came before', () => {
    expect(countTokens('Hello world')).toBe(2);
    // By default the tokenizer throws on it: such a prompt would go unestimated and uncharged.
    expect(countTokens('what does <|endoftext|> mean')).toBeGreaterThan(5);
    const long = Array.from({ length: 9000 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog; x = ${i * 7};\n`).join('');
    expect(long.length).toBeGreaterThan(256 * 1024);
    const budgeted = budgetedCounter();
    const parts = [long.slice(0, 50_000), long.slice(50_000)];
    const estimate = parts.reduce((n, part) => n + budgeted(part), 0);
    expect(Math.abs(estimate / countTokens(long) - 1)).toBeLessThan(0.05);
    // Within the budget it is exact; past it, the rate so far (here 1 token per character).
    const chars = budgetedCounter((t) => t.length, 10);
    expect([chars('abcd'), chars('efghijklmnop'), chars('xyz')]).toEqual([4, 12, 3]);
  });
});

function streamedChat(body: Buffer, headers: string[] = [], parts: Partial<Exchange> = {}): Exchange {
  return makeExchange({
    provider: 'openai',
    api: 'chat.completions',
    request: { method: 'POST', path: '/v1/chat/completions', headers: ['Content-Type', 'application/json', ...headers], body: { bytes: body, size: body.length, truncated: false }, model: 'gpt-4o', stream: true },
    response: { status: 200, headers: ['Content-Type', 'text/event-stream'], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { text: 'it is four', toolCalls: [], events: 5, stopReason: 'stop' } },
    outcome: 'completed',
    ...parts,
  });
}

describe('estimateMissingUsage (the writer thread, before the row is priced)', () => {
  const prompt = Buffer.from(JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'what is two plus two' }] }));

  it('fills in an answer without usage and flags the row as estimated', () => {
    const ex = streamedChat(prompt);
    expect(estimateMissingUsage(ex, words)).toBe(true);
    expect(ex.usage).toEqual({ inputTokens: 3 + 3 + 1 + 5, outputTokens: 3 });
    const row = exchangeToRow(ex);
    expect([row.input_tokens, row.output_tokens, row.usage_estimated]).toEqual([12, 3, 1]);
    // tail and the web UI's list mark such a row's tokens with ~.
    expect(tailLine(row, false)).toContain('in ~12 out ~3');
    expect(listItem({ ...row, match: undefined })).toMatchObject({ promptTokens: 12, estimated: 'all' });
  });

  it('reads a gzip-coded body, and scales a body cut at the capture limit by its size', () => {
    const gz = streamedChat(gzipSync(prompt), ['Content-Encoding', 'gzip']);
    expect(estimateMissingUsage(gz, words)).toBe(true);
    expect(gz.usage?.inputTokens).toBe(12);
    const cut = streamedChat(prompt.subarray(0, 40));
    cut.request.body = { bytes: prompt.subarray(0, 40), size: 400, truncated: true };
    expect(estimateMissingUsage(cut, (s) => s.length)).toBe(true);
    expect(cut.usage?.inputTokens).toBe(400);
  });

  it('estimates a Responses stream cut before response.completed (the client left), not one the provider failed', () => {
    const body = Buffer.from(JSON.stringify({ model: 'gpt-5', stream: true, input: 'list the files' }));
    const cut = streamedChat(body, [], { api: 'responses', outcome: 'client_aborted' });
    expect(estimateMissingUsage(cut, words)).toBe(true);
    expect(cut.usage).toEqual({ inputTokens: 3 + 3 + 3, outputTokens: 3 });
    const failed = streamedChat(body, [], { api: 'responses' });
    failed.response!.reassembled!.failed = true;
    expect(estimateMissingUsage(failed, words)).toBe(false);
  });

  it('leaves reported usage, failures, cache hits and other APIs alone', () => {
    const reported = streamedChat(prompt, [], { usage: { inputTokens: 11, outputTokens: 17 } });
    const failed = streamedChat(prompt);
    failed.response!.status = 429;
    const cached = streamedChat(prompt, [], { policy: { decisions: [{ rule: 'c', kind: 'cache', action: 'hit', enforced: true, key: 'k' }] } });
    const embeddings = streamedChat(prompt, [], { api: 'embeddings' });
    for (const ex of [reported, failed, cached, embeddings]) expect(estimateMissingUsage(ex, words)).toBe(false);
    expect(reported.usage).toEqual({ inputTokens: 11, outputTokens: 17 });
    expect(exchangeToRow(failed).usage_estimated).toBeNull();
  });
});

describe('an Anthropic Messages stream cut before its final usage', () => {
  /** A Claude stream of these events, read by the parser as the proxy reads it. */
  const claude = (events: string[], truncated = false): Exchange => {
    const body = Buffer.from(events.map((e) => `event: ${JSON.parse(e).type}\ndata: ${e}\n\n`).join(''));
    const reducer = anthropicMessages.createReducer('text/event-stream');
    reducer.push(body);
    const reassembled = reducer.finish();
    return makeExchange({
      provider: 'anthropic', api: 'messages',
      request: { method: 'POST', path: '/v1/messages', headers: [], body: { bytes: Buffer.from('{}'), size: 2, truncated: false }, model: 'claude-sonnet-4-5' },
      response: { status: 200, headers: ['Content-Type', 'text/event-stream'], body: { bytes: body, size: truncated ? body.length * 2 : body.length, truncated }, reassembled },
      ...(reassembled.usage ? { usage: reassembled.usage } : {}),
    });
  };
  const start = JSON.stringify({ type: 'message_start', message: { model: 'claude-sonnet-4-5', stop_reason: null, usage: { input_tokens: 21, output_tokens: 1, cache_read_input_tokens: 4 } } });
  const text = JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'one two three four' } });
  const blockStart = JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  const delta = JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } });
  const error = JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });

  it('keeps what message_start reported and counts the output from what arrived', () => {
    const ex = claude([start, blockStart, text]);
    expect(mayEstimateUsage(ex)).toBe(true);
    expect(estimateMissingUsage(ex, words)).toBe(true);
    expect(ex.usage).toEqual({ inputTokens: 21, outputTokens: 4, cachedInputTokens: 4 });
    expect(ex.usageEstimated).toBe('output');
  });

  it('is marked as an estimate of the output only, wherever the mark shows', () => {
    const ex = claude([start, blockStart, text]);
    estimateMissingUsage(ex, words);
    const row = { ...exchangeToRow(ex), session_id: null, thread_id: null, turn: null };
    expect(row.usage_estimated).toBe(2);
    // tail and the web UI's list: `~` before the output only; the input is as reported.
    expect(tailLine(row, false)).toContain('in 25 out ~4');
    expect(listItem({ ...row, match: undefined })).toMatchObject({ promptTokens: 25, outputTokens: 4, estimated: 'output' });
    // show (text and --json), export (JSON lines and CSV).
    const turn = threadTurns([row])[0]!;
    expect(turn.estimated).toBe('output');
    expect(renderTurnLines(turn, 0, { markdown: false, color: false, thinking: false, maxText: 0 })[0]).toContain('in 25 (cached 4) out 4 (output estimated)');
    expect(exchangeToJson(row)).toMatchObject({ usage_estimated: true, usage_estimated_part: 'output' });
    expect(exchangeCsvRecord(row)).toMatchObject({ usage_estimated: true, usage_estimated_part: 'output' });
    // One that reported nothing had all of it counted: `(estimated)`, as before.
    const chat = streamedChat(Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] })));
    estimateMissingUsage(chat, words);
    const all = { ...exchangeToRow(chat), session_id: null, thread_id: null, turn: null };
    expect([all.usage_estimated, chat.usageEstimated]).toEqual([1, 'all']);
    expect(tailLine(all, false)).toContain('in ~8 out ~3');
    expect(listItem({ ...all, match: undefined }).estimated).toBe('all');
    expect(renderTurnLines(threadTurns([all])[0]!, 0, { markdown: false, color: false, thinking: false, maxText: 0 })[0]).toContain('out 3 (estimated)');
    expect(exchangeToJson(all)).toMatchObject({ usage_estimated: true, usage_estimated_part: 'all' });
    expect(exchangeCsvRecord(all)).toMatchObject({ usage_estimated: true, usage_estimated_part: 'all' });
  });

  it('never goes below the count reported, and leaves alone a stream that got its message_delta, ended with an error, or was captured only in part', () => {
    const short = claude([start, blockStart]);
    expect(estimateMissingUsage(short, words)).toBe(true);
    expect(short.usage?.outputTokens).toBe(1);
    expect(mayEstimateUsage(claude([start, blockStart, text, delta]))).toBe(false);
    expect(mayEstimateUsage(claude([start, blockStart, text, error]))).toBe(false);
    expect(mayEstimateUsage(claude([start, blockStart, text], true))).toBe(false);
  });
});

describe('Claude on Bedrock InvokeModel, streamed and cut before its final usage', () => {
  const EVENTSTREAM = 'application/vnd.amazon.eventstream';
  /** The first `n` chunks of a Claude invoke-with-response-stream answer, read by the parser as the proxy reads it. */
  const invoke = (frames: Uint8Array[]): Exchange => {
    const body = Buffer.concat(frames);
    const reducer = bedrockInvoke.createReducer(EVENTSTREAM);
    reducer.push(body);
    const reassembled = reducer.finish();
    return makeExchange({
      provider: 'bedrock', api: 'bedrock.invoke',
      request: { method: 'POST', path: '/model/anthropic.claude-sonnet-4-5-20250929-v1:0/invoke-with-response-stream', headers: [], body: { bytes: Buffer.from('{}'), size: 2, truncated: false }, model: 'anthropic.claude-sonnet-4-5-20250929-v1:0', stream: true },
      response: { status: 200, headers: ['Content-Type', EVENTSTREAM], body: { bytes: body, size: body.length, truncated: false }, reassembled },
      outcome: 'client_aborted',
      ...(reassembled.usage ? { usage: reassembled.usage } : {}),
    });
  };
  const frames = claudeInvokeFrames('anthropic.claude-sonnet-4-5-20250929-v1:0');

  it('keeps the input message_start reported and counts the output from what arrived, as on the direct Anthropic path', () => {
    const cut = invoke(frames.slice(0, 3));
    expect(mayEstimateUsage(cut)).toBe(true);
    expect(estimateMissingUsage(cut, words)).toBe(true);
    expect(cut.usage).toEqual({ inputTokens: 14, outputTokens: words(BEDROCK_TEXT) });
  });

  it('leaves alone a stream that got its final usage, one cut before message_start, and one ended by an exception frame', () => {
    expect(mayEstimateUsage(invoke(frames))).toBe(false);
    expect(mayEstimateUsage(invoke(frames.slice(0, 5)))).toBe(false); // message_delta came; the metrics chunk did not
    expect(mayEstimateUsage(invoke([]))).toBe(false);
    const failed = invoke([...frames.slice(0, 3), exceptionFrame('modelStreamErrorException')]);
    expect(failed.response!.reassembled!.failed).toBe(true);
    expect(mayEstimateUsage(failed)).toBe(false);
  });
});
