import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Reassembled } from '../../src/exchange.js';
import { gemini, geminiCountTokens, scanJsonObjects } from '../../src/providers/gemini.js';
import { byteByByte, randomSplits, splitMismatches, twoWaySplits } from './split-helper.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/sse/${name}`, import.meta.url));

function reduce(contentType: string | undefined, pieces: Buffer[]): Reassembled {
  const reducer = gemini.createReducer(contentType);
  for (const piece of pieces) reducer.push(piece);
  return reducer.finish();
}

const EXPECTED: Reassembled = {
  model: 'gemini-2.5-flash',
  text: 'Il fait beau à Zürich — 晴れ ☀️. ',
  thinking: 'Weighing the forecast for Zürich',
  toolCalls: [{ name: 'get_weather', arguments: '{"city":"Zürich","days":2}' }],
  usage: { inputTokens: 31, outputTokens: 18, cachedInputTokens: 8, reasoningTokens: 24 },
  stopReason: 'STOP',
  events: 4,
};

describe.each([
  { name: 'Gemini SSE (alt=sse)', file: 'gemini-stream.txt', type: 'text/event-stream' },
  { name: 'Gemini JSON-array stream', file: 'gemini-stream-array.json', type: 'application/json; charset=UTF-8' },
  { name: 'Code Assist SSE ({response: …} wrapper)', file: 'code-assist-stream.txt', type: 'text/event-stream' },
])('$name', ({ file, type }) => {
  const body = fixture(file);

  it('reduces to model, text, thinking, the function call, finish reason and usage', () => {
    expect(reduce(type, [body])).toEqual(EXPECTED);
  });

  it('gives the same result split at every byte, in random pieces and byte by byte', () => {
    expect(splitMismatches(twoWaySplits(body), (p) => reduce(type, p), EXPECTED)).toEqual([]);
    expect(splitMismatches(randomSplits(body, 100), (p) => reduce(type, p), EXPECTED)).toEqual([]);
    expect(reduce(type, byteByByte(body))).toEqual(EXPECTED);
  });
});

describe('Gemini JSON answers', () => {
  it('a generateContent answer (one object)', () => {
    const answer = { candidates: [{ content: { parts: [{ text: 'Hi' }] }, finishReason: 'MAX_TOKENS' }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 }, modelVersion: 'gemini-2.5-pro' };
    expect(reduce('application/json', [Buffer.from(JSON.stringify(answer))])).toEqual({ model: 'gemini-2.5-pro', text: 'Hi', toolCalls: [], usage: { inputTokens: 3, outputTokens: 1 }, stopReason: 'MAX_TOKENS', events: 0 });
  });

  it('a JSON-array stream cut off mid-element keeps every element that arrived whole', () => {
    const body = fixture('gemini-stream-array.json');
    const cut = body.subarray(0, body.indexOf('functionCall'));
    const out = reduce('application/json', [cut]);
    expect(out.text).toBe(EXPECTED.text);
    expect(out.toolCalls).toEqual([]);
    expect(out.events).toBe(3);
  });

  it('countTokens: usage from totalTokens, nothing else', () => {
    const reducer = geminiCountTokens.createReducer('application/json');
    reducer.push(Buffer.from('{"totalTokens": 42, "promptTokensDetails": []}'));
    expect(reducer.finish()).toEqual({ text: '', toolCalls: [], events: 0 });
  });

  it('request facts: Code Assist names the model in its wrapper; the public API does not', () => {
    expect(gemini.parseRequest(Buffer.from('{"model":"gemini-2.5-pro","project":"p","request":{"contents":[]}}'))).toEqual({ model: 'gemini-2.5-pro' });
    expect(gemini.parseRequest(Buffer.from('{"contents":[]}'))).toEqual({});
    expect(gemini.parseRequest(Buffer.from('nope'))).toEqual({});
  });

  it('scanJsonObjects skips braces inside strings and escaped quotes', () => {
    expect(scanJsonObjects('[{"a":"}{\\"x"},\n{"b":{"c":1}}, {"d":')).toEqual([{ a: '}{"x' }, { b: { c: 1 } }]);
  });
});
