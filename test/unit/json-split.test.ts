import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinJsonBody, MIN_PART_BYTES, splitJsonBody } from '../../src/recorder/json-split.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Prints JSON with the whitespace and escapes the choices say, so texts differ from JSON.stringify's. */
function printer(spaces: readonly string[], escapes: readonly boolean[]): (value: Json) => string {
  let s = 0;
  let e = 0;
  const ws = (): string => spaces.length === 0 ? '' : spaces[s++ % spaces.length] ?? '';
  const str = (value: string): string => {
    let out = '"';
    for (const char of value) {
      const plain = JSON.stringify(char).slice(1, -1);
      out += escapes.length > 0 && escapes[e++ % escapes.length] === true
        ? Array.from({ length: char.length }, (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')
        : plain;
    }
    return `${out}"`;
  };
  const print = (value: Json): string => {
    if (typeof value === 'string') return str(value);
    if (value === null || typeof value !== 'object') return JSON.stringify(value);
    // Whitespace is drawn in text order, so two values with a common prefix print it the same.
    const list = (open: string, items: (() => string)[], close: string): string =>
      `${open}${ws()}${items.map((item, i) => `${i > 0 ? `,${ws()}` : ''}${item()}${ws()}`).join('')}${close}`;
    if (Array.isArray(value)) return list('[', value.map((item) => () => print(item)), ']');
    return list('{', Object.entries(value).map(([key, item]) => () => `${str(key)}${ws()}:${ws()}${print(item)}`), '}');
  };
  return (value) => `${ws()}${print(value)}${ws()}`;
}

const jsonValue = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }) as fc.Arbitrary<Json>;
const longText = fc.string({ unit: 'binary', minLength: 60, maxLength: 400 });
const message = fc.record({
  role: fc.constantFrom('user', 'assistant'),
  content: fc.array(fc.oneof(
    fc.record({ type: fc.constant('text'), text: longText }),
    fc.record({ type: fc.constant('tool_result'), tool_use_id: fc.string(), content: longText, cache_control: fc.constant({ type: 'ephemeral' }) }),
    jsonValue,
  ), { maxLength: 4 }),
}) as fc.Arbitrary<Json>;
const body = fc.record({
  model: fc.string(),
  system: fc.oneof(longText, fc.array(message, { maxLength: 3 }), fc.string({ unit: 'binary', minLength: 1100, maxLength: 1500 })),
  // The first message is always long enough to be cut out.
  messages: fc.tuple(fc.record({ role: fc.constant('user'), content: longText }), fc.array(fc.oneof(message, jsonValue), { maxLength: 6 }))
    .map(([first, rest]) => [first, ...rest]),
  input: fc.oneof(fc.array(jsonValue, { maxLength: 4 }), longText),
  contents: fc.array(message, { maxLength: 3 }),
  tools: fc.array(fc.oneof(message, jsonValue), { maxLength: 4 }),
  instructions: fc.string({ unit: 'binary', minLength: 0, maxLength: 1500 }),
  request: fc.record({ contents: fc.array(message, { maxLength: 3 }), systemInstruction: fc.oneof(message, jsonValue) }, { requiredKeys: [] }),
  other: jsonValue,
}, { requiredKeys: ['messages'] }) as fc.Arbitrary<Json>;
const printed = fc.tuple(body, fc.array(fc.constantFrom('', ' ', '\n', '\t', '\r\n', '   '), { maxLength: 9 }), fc.array(fc.boolean(), { maxLength: 7 }))
  .map(([value, spaces, escapes]) => Buffer.from(printer(spaces, escapes)(value), 'utf8'));

function roundTrips(bytes: Buffer): void {
  const split = splitJsonBody(bytes);
  if (split === undefined) return;
  expect(joinJsonBody(split.skeleton, split.parts).equals(bytes)).toBe(true);
  for (const part of split.parts) expect(part.length).toBeGreaterThanOrEqual(MIN_PART_BYTES);
}

describe('splitJsonBody / joinJsonBody', () => {
  it('gives back the exact bytes of generated request bodies (whitespace, unicode, escapes, nesting)', () => {
    fc.assert(fc.property(printed, (bytes) => {
      const split = splitJsonBody(bytes);
      if (split === undefined) throw new Error('a body with a long message was not split');
      expect(joinJsonBody(split.skeleton, split.parts).equals(bytes)).toBe(true);
      // Parts are real pieces: each one is valid UTF-8 found inside the body.
      for (const part of split.parts) {
        expect(Buffer.from(part.toString('utf8'), 'utf8').equals(part)).toBe(true);
        expect(bytes.includes(part)).toBe(true);
      }
    }), { numRuns: 400 });
  });

  it('cuts at byte offsets when the text before a part is not ASCII', () => {
    const text = '{"model":"日本語 🚀 café","messages":[{"role":"user","content":"naïve → ✓ and enough words to be a part"},{"role":"assistant","content":"🚀🚀🚀 another message long enough to be cut"}]}';
    const bytes = Buffer.from(text, 'utf8');
    const split = splitJsonBody(bytes);
    expect(split?.parts.map((part) => part.toString('utf8'))).toEqual([
      '{"role":"user","content":"naïve → ✓ and enough words to be a part"',
      '{"role":"assistant","content":"🚀🚀🚀 another message long enough to be cut"',
    ]);
    expect(joinJsonBody(split!.skeleton, split!.parts).equals(bytes)).toBe(true);
  });

  it("looks into Code Assist's request object, and only there", () => {
    const turn = (n: number): string => `{"role":"user","parts":[{"text":"turn ${n}, long enough to be stored once"}]}`;
    const split = splitJsonBody(Buffer.from(`{"model":"gemini-2.5-pro","project":"p","request":{"contents":[${turn(1)},${turn(2)}]},"other":{"contents":[${turn(3)}]}}`))!;
    expect(split.parts.map(String)).toEqual([turn(1), turn(2)].map((t) => t.slice(0, -3)));
    expect(split.skeleton.toString()).toBe(`{"model":"gemini-2.5-pro","project":"p","request":{"contents":[\u0000}]},\u0000}]}]},"other":{"contents":[${turn(3)}]}}`);
  });

  it('stores a long text Completions prompt and suffix as parts: Copilot resends the same suffix while the user types', () => {
    const suffix = `\n\n${'def other():\n    pass\n'.repeat(60)}`;
    const body = (prompt: string): Buffer => Buffer.from(JSON.stringify({ prompt: `# Path: app.py\n${'import os\n'.repeat(120)}${prompt}`, suffix, max_tokens: 500, stream: true, extra: { language: 'python' } }));
    const cut = (bytes: Buffer) => ({ bytes, split: splitJsonBody(bytes)! });
    const a = cut(body('def add(a, b):'));
    const b = cut(body('def add(a, b):\n    return'));
    for (const { bytes, split } of [a, b]) {
      expect(split.parts).toHaveLength(2);
      expect(joinJsonBody(split.skeleton, split.parts).equals(bytes)).toBe(true);
    }
    expect(a.split.parts[1]!.equals(b.split.parts[1]!)).toBe(true);
    expect(a.split.parts[0]!.equals(b.split.parts[0]!)).toBe(false);
  });

  it('gives the same part for a message with and without its cache_control marker', () => {
    const block = (marker: boolean): string => `{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"file text, long enough to matter"${marker ? ',"cache_control":{"type":"ephemeral"}' : ''}}]}`;
    const marked = splitJsonBody(Buffer.from(`{"messages":[${block(true)}]}`))!;
    const plain = splitJsonBody(Buffer.from(`{"messages":[${block(false)}]}`))!;
    expect(marked.parts).toEqual(plain.parts);
    expect(marked.skeleton.toString()).toBe('{"messages":[\u0000,"cache_control":{"type":"ephemeral"}}]}]}');
  });

  it('gives the same parts with and without a marker on the last block, whatever the block ends with', () => {
    const inner = fc.array(fc.oneof(fc.record({ type: fc.constant('text'), text: fc.string({ unit: 'binary' }) }), jsonValue), { minLength: 1, maxLength: 3 });
    const block = fc.record({
      type: fc.constantFrom('text', 'tool_result', 'tool_use'), text: longText,
      content: inner, input: fc.dictionary(fc.string(), jsonValue, { maxKeys: 3 }), tail: jsonValue,
    }, { requiredKeys: ['type', 'text'] }) as fc.Arbitrary<{ [key: string]: Json }>;
    const messages = fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: fc.array(block, { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 3 });
    const spaces = fc.array(fc.constantFrom('', ' ', '\n  ', '\t'), { maxLength: 5 });
    fc.assert(fc.property(messages, spaces, (list, ws) => {
      const marked = list.map((message, m) => m < list.length - 1 ? message : {
        ...message, content: message.content.map((b, i) => i < message.content.length - 1 ? b : { ...b, cache_control: { type: 'ephemeral' } }),
      });
      const render = (value: Json): Buffer => Buffer.from(printer(ws, [])({ model: 'm', messages: value }));
      const withMarker = splitJsonBody(render(marked as Json))!;
      const without = splitJsonBody(render(list as Json))!;
      expect(withMarker.parts).toEqual(without.parts);
      expect(joinJsonBody(withMarker.skeleton, withMarker.parts).equals(render(marked as Json))).toBe(true);
    }), { numRuns: 150 });
  });

  it('refuses what is not a JSON object: arrays, scalars, JSONC, NUL, BOM, invalid UTF-8', () => {
    const long = `"${'x'.repeat(100)}"`;
    for (const text of [`[${long}]`, long, `{"messages":[${long}],}`, `{"messages":[${long}] /* c */}`, `{"messages":[${long}]} x`,
      `{"messages":[${long}]}{}`, `\ufeff{"messages":[${long}]}`, `{"messages":[${long}], "a":"\u0000"}`]) {
      expect(splitJsonBody(Buffer.from(text))).toBeUndefined();
    }
    const invalidUtf8 = Buffer.concat([Buffer.from(`{"messages":[${long}],"a":"`), Buffer.of(0xc3, 0x28), Buffer.from('"}')]);
    expect(splitJsonBody(invalidUtf8)).toBeUndefined();
  });

  it('refuses or round-trips garbage and truncated bodies', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (raw) => roundTrips(Buffer.from(raw))), { numRuns: 300 });
    fc.assert(fc.property(printed, fc.nat(), (bytes, cut) => {
      const truncated = bytes.subarray(0, cut % bytes.length);
      roundTrips(truncated);
      // A prefix of a single JSON object is never itself a whole object (but whitespace).
      if (truncated.toString().trim().length < bytes.toString().trim().length) expect(splitJsonBody(truncated)).toBeUndefined();
    }), { numRuns: 300 });
  });

  it('join refuses a skeleton and parts that do not match', () => {
    const split = splitJsonBody(Buffer.from(`{"messages":["${'x'.repeat(100)}","${'y'.repeat(100)}"]}`))!;
    expect(() => joinJsonBody(split.skeleton, split.parts.slice(1))).toThrow(/holes/);
    expect(() => joinJsonBody(split.skeleton, [...split.parts, Buffer.from('z')])).toThrow(/holes/);
  });
});
