import { describe, expect, it } from 'vitest';
import { balancedObjectAt, usageFromJsonTail } from '../../src/providers/json-tail.js';

describe('balancedObjectAt', () => {
  it('reads an object up to its closing brace, braces and escaped quotes in strings included', () => {
    const text = 'x {"a":{"b":"}{\\"}"},"c":[1,{"d":2}]} trailing';
    expect(balancedObjectAt(text, 2)).toBe('{"a":{"b":"}{\\"}"},"c":[1,{"d":2}]}');
  });
  it('an escaped backslash before a quote ends the string', () => {
    expect(balancedObjectAt('{"a":"\\\\"}, 1', 0)).toBe('{"a":"\\\\"}');
  });
  it('nothing for an object cut before its end', () => {
    expect(balancedObjectAt('{"a":{"b":1}', 0)).toBeUndefined();
    expect(balancedObjectAt('{"a":"}', 0)).toBeUndefined();
  });
});

describe('usageFromJsonTail', () => {
  const usage = { input_tokens: 50, output_tokens: 4160, input_tokens_details: { text_tokens: 50 } };

  it('finds the last usage object after megabytes of base64, with the model when the tail names it', () => {
    const tail = `QUJD${'A'.repeat(5000)}"}],"model":"gpt-image-1","usage":${JSON.stringify(usage)},"size":"1024x1024"}`;
    expect(JSON.parse(usageFromJsonTail(tail)!)).toEqual({ usage, model: 'gpt-image-1' });
  });

  it('Gemini\'s usageMetadata and modelVersion', () => {
    const meta = { promptTokenCount: 9, candidatesTokenCount: 1290, totalTokenCount: 1299 };
    const tail = `…AAAA"}}]}}],"usageMetadata": ${JSON.stringify(meta)}, "modelVersion": "gemini-2.5-flash-image", "responseId": "r1"}`;
    expect(JSON.parse(usageFromJsonTail(tail)!)).toEqual({ usageMetadata: meta, modelVersion: 'gemini-2.5-flash-image' });
  });

  it('the last top-level-looking key wins; one inside a string (escaped) is not a key', () => {
    const tail = `"text":"say \\"usage\\":{\\"x\\":1} here","usage":{"prompt_tokens":1},"more":{"usage":{"prompt_tokens":2}}}`;
    expect(JSON.parse(usageFromJsonTail(tail)!)).toEqual({ usage: { prompt_tokens: 2 } });
    const onlyQuoted = `"text":"say \\"usage\\":{\\"prompt_tokens\\":1} here"}`;
    expect(usageFromJsonTail(onlyQuoted)).toBeUndefined();
  });

  it('strings with braces and quotes inside the usage object', () => {
    const tail = `,"usage":{"note":"a } and a \\" and {","prompt_tokens":3}}`;
    expect(JSON.parse(usageFromJsonTail(tail)!)).toEqual({ usage: { note: 'a } and a " and {', prompt_tokens: 3 } });
  });

  it('a key that is cut, an object that is cut, a usage that is null: nothing (an earlier whole one is taken)', () => {
    expect(usageFromJsonTail('age":{"prompt_tokens":1}}')).toBeUndefined();
    expect(usageFromJsonTail(',"usage":{"prompt_tokens":1')).toBeUndefined();
    expect(usageFromJsonTail(',"usage":null}')).toBeUndefined();
    expect(JSON.parse(usageFromJsonTail(',"usage":{"prompt_tokens":1},"x":1,"usage":{"prompt_tok')!)).toEqual({ usage: { prompt_tokens: 1 } });
  });

  it('nothing found', () => {
    expect(usageFromJsonTail('')).toBeUndefined();
    expect(usageFromJsonTail('AAAA'.repeat(100))).toBeUndefined();
  });
});
