import { brotliCompressSync, constants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBody } from '../../src/content-encoding.js';
import { builtInRedactor, REDACTED } from '../../src/redact/redactor.js';

const redactText = builtInRedactor.text;
const redactPath = builtInRedactor.path;
const redactTruncatedText = (text: string): string => builtInRedactor.body(text, { truncated: true });
import { params, pureRuns, timeoutFor } from './support.js';

const RUNS = pureRuns(500);
const TIMEOUT = timeoutFor(RUNS, 2);

// ---------------------------------------------------------------------------
// decodeBody

type Coding = 'gzip' | 'x-gzip' | 'br' | 'deflate' | 'deflate-raw' | 'identity';
const ENCODE: Record<Coding, (b: Buffer) => Buffer> = {
  gzip: (b) => gzipSync(b),
  'x-gzip': (b) => gzipSync(b),
  br: (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }),
  deflate: (b) => deflateSync(b),
  'deflate-raw': (b) => deflateRawSync(b), // servers that send raw deflate under the "deflate" name
  identity: (b) => b,
};
const headerName = (c: Coding): string => (c === 'deflate-raw' ? 'deflate' : c);
const codingArb = fc.constantFrom<Coding>('gzip', 'x-gzip', 'br', 'deflate', 'deflate-raw', 'identity');
const separator = fc.constantFrom(',', ', ', ' ,', ',,', ' , ');
const tokenArb = fc.oneof(
  fc.mixedCase(fc.constantFrom('gzip', 'x-gzip', 'br', 'deflate', 'identity', 'compress', 'zstd', 'chunked', '')),
  fc.string({ maxLength: 8 }),
);
const encodingHeader = fc.oneof(
  fc.constant(undefined),
  fc.array(tokenArb, { maxLength: 4 }).chain((ts) => fc.array(separator, { minLength: ts.length, maxLength: ts.length }).map((ss) => ts.map((t, i) => t + (i + 1 < ts.length ? ss[i] : '')).join(''))),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const payloadArb = fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.string({ unit: 'grapheme', maxLength: 400 }).map((s) => new TextEncoder().encode(s)));

/** brotli of 256 MiB of zeros (405 bytes): brotliCompressSync(Buffer.alloc(256 << 20), quality 5). */
const BROTLI_BOMB = Buffer.from([
  'y///PwAkAOKxQHLv//j//weABEAcFoDu/R////8AkACIwwLQvf/j//8fABIAcVgAuvd//P//A0ACIA4LQPf+j///fwBIAMRhAeje',
  '//H//w8ACYA4LADd+z/+//8BIAEQhwWge//H//8/ACQA4rAAdO//+P//B4AEQBwWgO79H////wCQAIjDAtC9/+P//x8AEgBxWAC6',
  '93/8//8DQAIgDgtA9/6P//9/AEgAxGEB6N7/8f//DwAJgDgsAN37P/7//wEgARCHBaB7/8f//z8AJADisAB07//4//8HgARAHBaA',
  '7v0f////AJAAiMMC0L3/4///HwASAHFYALr3f/z//wNAAiAOC0D3/o///38ASADEYQHo3v/x//8PAAmAOCwA3fs//v//ASABEIcF',
  'oHv/x///PwAkAOKwAHTv//j//weABEAcFoDu/R////8AkACIwwLQvf/j//8fABIAcVgAuvd//P//A0ACIA4LQPf+j///fwBIAMRh',
  'Aeje//H//w8ACYA4LADd+7/8//8DIAEQhwWge/8H',
].join(''), 'base64');

describe('decodeBody', () => {
  it('never throws on arbitrary bytes and Content-Encoding values; returns a Buffer or undefined', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      // Valid streams with damage, so the decoders get past their headers.
      fc.tuple(payloadArb, codingArb, fc.nat(), fc.uint8Array({ maxLength: 4 })).map(([p, c, at, junk]) => {
        const enc = ENCODE[c](Buffer.from(p));
        const cut = enc.length === 0 ? 0 : at % enc.length;
        return Buffer.concat([enc.subarray(0, cut), Buffer.from(junk), enc.subarray(cut + junk.length)]);
      }),
    );
    fc.assert(fc.property(bytes, encodingHeader, (b, header) => {
      const out = decodeBody(Buffer.from(b), header);
      expect(out === undefined || Buffer.isBuffer(out)).toBe(true);
    }), params(RUNS));
  }, TIMEOUT);

  it('undoes any stack of gzip/br/deflate/identity, in the order the header lists them, whatever the case and spacing', () => {
    fc.assert(fc.property(payloadArb, fc.array(codingArb, { minLength: 1, maxLength: 3 }), fc.array(separator, { minLength: 3, maxLength: 3 }), fc.boolean(), (payload, codings, seps, upper) => {
      let body: Buffer = Buffer.from(payload);
      for (const c of codings) body = ENCODE[c](body);
      let header = codings.map((c, i) => headerName(c) + (i + 1 < codings.length ? seps[i] : '')).join('');
      if (upper) header = header.toUpperCase();
      expect(decodeBody(body, header)?.equals(Buffer.from(payload))).toBe(true);
    }), params(RUNS));
  }, TIMEOUT);

  it('a truncated gzip capture decodes to a prefix of the original, or to nothing', () => {
    fc.assert(fc.property(payloadArb, fc.nat(), (payload, at) => {
      const enc = gzipSync(Buffer.from(payload));
      const out = decodeBody(enc.subarray(0, at % (enc.length + 1)), 'gzip');
      if (out) expect(Buffer.from(payload).subarray(0, out.length).equals(out)).toBe(true);
    }), params(RUNS));
  }, TIMEOUT);

  it('an unknown coding anywhere in the list gives undefined (the raw bytes are kept instead)', () => {
    fc.assert(fc.property(payloadArb, fc.constantFrom('compress', 'x-foo', 'aes128gcm'), fc.boolean(), (payload, unknown, first) => {
      const body = gzipSync(Buffer.from(payload));
      expect(decodeBody(body, first ? `${unknown}, gzip` : `gzip, ${unknown}`)).toBeUndefined();
    }), params(Math.min(RUNS, 200)));
  });

  it('bounds what a small compressed body can expand to (a 400-byte brotli body must not become 256 MiB)', () => {
    // Reachable from any client: handleExchange decodes request bodies (up to
    // --max-request-body, 32 MiB) by their Content-Encoding before forwarding, and the
    // recorder decodes response bodies. Synchronous, unbounded inflation blocks the
    // event loop and can exhaust memory. 64 MiB is a generous ceiling for the fix.
    const out = decodeBody(BROTLI_BOMB, 'br');
    expect(out === undefined || out.length <= 64 << 20, `decoded ${out?.length} bytes from ${BROTLI_BOMB.length}`).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// redactText

const keyChar = (extra: string) => fc.constantFrom(...`ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789${extra}`.split(''));
const keyBody = (min: number, max: number) => fc.string({ unit: keyChar('_-'), minLength: min, maxLength: max });
/** Key shapes the README promises to redact. */
const keyArb = fc.oneof(
  keyBody(32, 64).map((b) => `sk-${b}`),
  keyBody(40, 80).map((b) => `sk-proj-${b}`),
  keyBody(80, 100).map((b) => `sk-ant-api03-${b}`),
  keyBody(35, 35).map((b) => `AIza${b}`),
);
/** What sits just before a key in real bodies: separators, and JSON/URL escapes of them. */
const before = fc.constantFrom(' ', '\n', '\t', '"', "'", ':', '=', ': ', '("', '[', '{', ',', '/', '?', '&', '<', '>',
  '\\n', '\\t', '\\r', '\\"', '\\u0022', '%22', '%20', '%3D', '%0A');
const after = fc.constantFrom('', ' ', '\n', '"', "'", ',', '.', ';', ')', ']', '}', '&', '#', '\\n', '\\"', '%22', '%0A');
const textArb = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), fc.json({ maxDepth: 2 }));

describe('redactText', () => {
  it('never throws and is idempotent on arbitrary text', () => {
    fc.assert(fc.property(fc.oneof(textArb, fc.tuple(textArb, keyArb, textArb).map((p) => p.join(''))), (text) => {
      const once = redactText(text);
      expect(redactText(once)).toBe(once);
      redactTruncatedText(text);
      redactPath(text);
    }), params(RUNS));
  }, TIMEOUT);

  it('never leaves a planted sk-/sk-ant-/AIza key in surrounding text, raw or JSON- or URL-escaped', () => {
    fc.assert(fc.property(textArb, before, keyArb, after, textArb, (prefix, pre, key, post, suffix) => {
      const text = `${prefix}${pre}${key}${post}${suffix}`;
      const out = redactText(text);
      expect(out, `key survived in ${JSON.stringify(text)}`).not.toContain(key);
      expect(out).toContain(REDACTED);
      expect(redactText(out)).toBe(out);
    }), params(RUNS));
  }, TIMEOUT);

  it('redacts a key inside a JSON-encoded request body, whatever text surrounds it in the string', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom(' ', '\n', '\t', '"', ':'), keyArb, fc.string({ unit: 'grapheme', maxLength: 40 }), (left, sep, key, right) => {
      const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `${left}${sep}${key} ${right}` }] });
      expect(redactText(body)).not.toContain(key);
    }), params(RUNS));
  }, TIMEOUT);

  it('a truncated capture loses any key prefix left at its end', () => {
    fc.assert(fc.property(textArb, fc.constantFrom(' ', '\n', '"', ':', '='), keyArb, fc.integer({ min: 4, max: 200 }), (prefix, pre, key, keep) => {
      const cut = key.slice(0, Math.min(keep, key.length));
      const out = redactTruncatedText(`${prefix}${pre}${cut}`);
      expect(out.endsWith(cut)).toBe(false);
    }), params(RUNS));
  }, TIMEOUT);
});
