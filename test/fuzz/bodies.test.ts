/**
 * Properties of body decoding (every content coding llmtap undoes, zstd included,
 * whole, stacked, damaged and cut short) and of the redactor's entry points. Every
 * property awaits `step()`: the event loop must turn now and then (see caseHook).
 */
import { brotliCompressSync, constants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBody, decodeForStorage } from '../../src/content-encoding.js';
import { builtInRedactor, createRedactor, REDACTED } from '../../src/redact/redactor.js';
import { caseHook, params, pureRuns, timeoutFor } from './support.js';
import { zstdMany, zstdPoolSize } from './zstd-cli.js';

const redactText = builtInRedactor.text;
const redactPath = builtInRedactor.path;
const redactTruncatedText = (text: string): string => builtInRedactor.body(text, { truncated: true });

const RUNS = pureRuns(500);
// A few hundred µs a case; the slack is for a shared machine (a long run must not die of its timeout).
const TIMEOUT = timeoutFor(RUNS, 20);

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

/** Payloads and their zstd encodings (the CLI, one run for the pool: see zstd-cli.ts). */
const zstdPool: Array<{ payload: Buffer; wire: Buffer }> = [];
const pooled = (): fc.Arbitrary<{ payload: Buffer; wire: Buffer }> => fc.constantFrom(...zstdPool);

describe('decodeBody and decodeForStorage', () => {
  beforeAll(() => {
    const payloads = fc.sample(payloadArb, { numRuns: zstdPoolSize(RUNS), seed: Number(process.env.FUZZ_SEED ?? 42) }).map((p) => Buffer.from(p));
    zstdMany(payloads).forEach((wire, i) => zstdPool.push({ payload: payloads[i]!, wire }));
  });

  it('never throw on arbitrary bytes and Content-Encoding values (damaged zstd included); a Buffer or undefined', async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      // Valid streams with damage, so the decoders get past their headers.
      fc.tuple(fc.oneof(
        fc.tuple(payloadArb, codingArb).map(([p, c]) => ENCODE[c](Buffer.from(p))),
        pooled().map((z) => z.wire),
      ), fc.nat(), fc.uint8Array({ maxLength: 4 })).map(([enc, at, junk]) => {
        const cut = enc.length === 0 ? 0 : at % enc.length;
        return Buffer.concat([enc.subarray(0, cut), Buffer.from(junk), enc.subarray(cut + junk.length)]);
      }),
    );
    const header = fc.oneof(encodingHeader, fc.constantFrom('zstd', 'gzip', 'br', 'deflate'));
    const step = caseHook('decode never throws', RUNS);
    await fc.assert(fc.asyncProperty(bytes, header, async (b, h) => {
      await step();
      const out = decodeBody(Buffer.from(b), h);
      expect(out === undefined || Buffer.isBuffer(out)).toBe(true);
      const stored = decodeForStorage(Buffer.from(b), h);
      expect(stored === undefined || (Buffer.isBuffer(stored.bytes) && typeof stored.complete === 'boolean')).toBe(true);
    }), params(RUNS));
  }, TIMEOUT);

  it('undo any stack of zstd/gzip/br/deflate/identity, in the order the header lists them, whatever the case and spacing', async () => {
    const base = fc.oneof(
      { arbitrary: payloadArb.map((p) => ({ payload: Buffer.from(p), wire: Buffer.from(p), zstd: false })), weight: 3 },
      { arbitrary: pooled().map((z) => ({ ...z, zstd: true })), weight: 1 },
    );
    const step = caseHook('stacked codings', RUNS);
    await fc.assert(fc.asyncProperty(base, fc.array(codingArb, { minLength: 0, maxLength: 3 }), fc.array(separator, { minLength: 3, maxLength: 3 }), fc.boolean(), async (b, codings, seps, upper) => {
      await step();
      // zstd (when drawn) is the first coding applied: the CLI encodes only the pool.
      let body = b.wire;
      for (const c of codings) body = ENCODE[c](body);
      const names = [...(b.zstd ? ['zstd'] : []), ...codings.map(headerName)];
      if (names.length === 0) return;
      let header = names.map((c, i) => c + (i + 1 < names.length ? seps[i] : '')).join('');
      if (upper) header = header.toUpperCase();
      expect(decodeBody(body, header)?.equals(b.payload)).toBe(true);
      const stored = decodeForStorage(body, header);
      expect(stored?.complete && stored.bytes.equals(b.payload), header).toBe(true);
    }), params(RUNS));
  }, TIMEOUT);

  it('a capture cut short, in any coding, decodes to a prefix of the original (marked incomplete) or to nothing', async () => {
    const encoded = fc.oneof(
      fc.tuple(payloadArb, codingArb.filter((c) => c !== 'identity')).map(([p, c]) => ({ payload: Buffer.from(p), header: headerName(c), wire: ENCODE[c](Buffer.from(p)) })),
      pooled().map((z) => ({ ...z, header: 'zstd' })),
    );
    const step = caseHook('cut-short captures', RUNS);
    await fc.assert(fc.asyncProperty(encoded, fc.nat(), async ({ payload, header, wire }, at) => {
      await step();
      const cut = wire.subarray(0, wire.length === 0 ? 0 : 1 + (at % wire.length));
      const out = decodeBody(cut, header);
      const stored = decodeForStorage(cut, header);
      for (const bytes of [out, stored?.bytes]) {
        if (bytes) expect(payload.subarray(0, bytes.length).equals(bytes), `${header} cut at ${cut.length}/${wire.length}`).toBe(true);
      }
      // Only the whole stream may claim to be complete.
      if (stored?.complete && cut.length < wire.length) expect(stored.bytes.equals(payload), `${header} cut at ${cut.length}/${wire.length} claims complete`).toBe(true);
    }), params(RUNS));
  }, TIMEOUT);

  it('an unknown coding anywhere in the list gives undefined (the raw bytes are kept instead)', async () => {
    const runs = Math.min(RUNS, 200);
    const step = caseHook('unknown codings', runs);
    await fc.assert(fc.asyncProperty(payloadArb, fc.constantFrom('compress', 'x-foo', 'aes128gcm'), fc.boolean(), async (payload, unknown, first) => {
      await step();
      const body = gzipSync(Buffer.from(payload));
      expect(decodeBody(body, first ? `${unknown}, gzip` : `gzip, ${unknown}`)).toBeUndefined();
    }), params(runs));
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
  it('never throws and is idempotent on arbitrary text', async () => {
    const step = caseHook('redactText idempotent', RUNS);
    await fc.assert(fc.asyncProperty(fc.oneof(textArb, fc.tuple(textArb, keyArb, textArb).map((p) => p.join(''))), async (text) => {
      await step();
      const once = redactText(text);
      expect(redactText(once)).toBe(once);
      redactTruncatedText(text);
      redactPath(text);
    }), params(RUNS));
  }, TIMEOUT);

  it('never leaves a planted sk-/sk-ant-/AIza key in surrounding text, raw or JSON- or URL-escaped', async () => {
    const step = caseHook('planted keys', RUNS);
    await fc.assert(fc.asyncProperty(textArb, before, keyArb, after, textArb, async (prefix, pre, key, post, suffix) => {
      await step();
      const text = `${prefix}${pre}${key}${post}${suffix}`;
      const out = redactText(text);
      expect(out, `key survived in ${JSON.stringify(text)}`).not.toContain(key);
      expect(out).toContain(REDACTED);
      expect(redactText(out)).toBe(out);
    }), params(RUNS));
  }, TIMEOUT);

  it('redacts a key inside a JSON-encoded request body, whatever text surrounds it in the string', async () => {
    const step = caseHook('keys in JSON bodies', RUNS);
    await fc.assert(fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom(' ', '\n', '\t', '"', ':'), keyArb, fc.string({ unit: 'grapheme', maxLength: 40 }), async (left, sep, key, right) => {
      await step();
      const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `${left}${sep}${key} ${right}` }] });
      expect(redactText(body)).not.toContain(key);
    }), params(RUNS));
  }, TIMEOUT);

  it('a truncated capture loses any key prefix left at its end', async () => {
    const step = caseHook('truncated key tails', RUNS);
    await fc.assert(fc.asyncProperty(textArb, fc.constantFrom(' ', '\n', '"', ':', '='), keyArb, fc.integer({ min: 4, max: 200 }), async (prefix, pre, key, keep) => {
      await step();
      const cut = key.slice(0, Math.min(keep, key.length));
      const out = redactTruncatedText(`${prefix}${pre}${cut}`);
      expect(out.endsWith(cut)).toBe(false);
    }), params(RUNS));
  }, TIMEOUT);
});

// ---------------------------------------------------------------------------
// Every Redactor entry point (with an operator pattern, as --redact gives one)

const withOperator = createRedactor([/EMPSECRET-\d{6}/]);
/** A credential name as some client might spell it. */
const credentialName = fc.constantFrom('api_key', 'apiKey', 'API-KEY', 'x-api-key', 'x-amz-security-token', 'X-Amz-Signature', 'x_amz_credential', 'access_token',
  'refreshToken', 'client_secret', 'password', 'Secret', 'token', 'sig', 'x-auth-token', 'githubToken', 'DB_PASSWORD', 'openai_api_key', 'Authorization');
const anyText = fc.oneof(textArb, fc.tuple(textArb, keyArb, textArb).map((p) => p.join(' ')), fc.constant('EMPSECRET-123456'));
const markArb = fc.stringMatching(/^[A-Z]{4}[0-9]{8}$/).map((m) => `MK${m}`);
/** Text inside a JSON string around a credential's value: quotes, escapes, unicode, line separators. */
const around = fc.string({ unit: fc.constantFrom('a', ' ', '"', '\\', '\n', 'é', '\u2028', '/', ':', '{', '}', ','), maxLength: 6 });

describe('Redactor entry points', () => {
  it('body, json, headers, path and logPath never throw and are idempotent; json keeps valid JSON valid', async () => {
    const headersArb = fc.array(fc.tuple(fc.oneof(credentialName, fc.string({ maxLength: 12 })), anyText), { maxLength: 4 }).map((pairs) => pairs.flat());
    const step = caseHook('redactor entry points', RUNS);
    await fc.assert(fc.asyncProperty(anyText, fc.json({ maxDepth: 3 }), headersArb, fc.boolean(), fc.boolean(), async (text, json, headers, truncated, form) => {
      await step();
      for (const r of [builtInRedactor, withOperator]) {
        const body = r.body(text, { form });
        expect(r.body(body, { form })).toBe(body);
        r.body(text, { truncated, form });
        const fromJson = r.json(json);
        expect(() => JSON.parse(fromJson), fromJson).not.toThrow();
        expect(r.json(fromJson)).toBe(fromJson);
        const h = r.headers(headers);
        expect(h.length).toBe(headers.length);
        expect(r.headers(h)).toEqual(h);
        const path = r.path(`/v1/${text}?${text}`);
        expect(r.path(path)).toBe(path);
        const logged = r.logPath(`/v1/${text}`);
        expect(r.logPath(logged)).toBe(logged);
      }
    }), params(RUNS));
  }, TIMEOUT);

  it('a credential-named key at any depth of any JSON (or JSON inside a JSON string) loses its value, in body() and json()', async () => {
    const wrappers = fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 6 })), { maxLength: 3 });
    const value = fc.oneof(
      fc.tuple(around, around).map(([l, r]) => (mark: string): unknown => `${l}${mark}${r}`),
      fc.constant((mark: string): unknown => Number(`9${mark.replace(/\D/g, '')}`)),
    );
    const step = caseHook('credential keys in JSON', RUNS);
    await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 2 }), credentialName, value, markArb, wrappers, fc.constantFrom(0, 2, '\t'), fc.boolean(),
      async (filler, name, makeValue, mark, wrap, indent, nested) => {
        await step();
        const planted = makeValue(mark);
        const needle = typeof planted === 'number' ? String(planted) : mark;
        let doc: unknown = { before: filler, [name]: planted, after: filler };
        for (const [asArray, key] of wrap) doc = asArray ? [filler, doc] : { [key]: doc, n: 1 };
        const inner = JSON.stringify(doc, null, indent);
        const text = nested ? JSON.stringify({ role: 'tool', content: inner }) : inner;
        for (const out of [builtInRedactor.body(text), builtInRedactor.json(text), withOperator.body(text, { truncated: true })]) {
          expect(out.includes(needle), `${name} in ${text.slice(0, 300)}`).toBe(false);
        }
        expect(() => JSON.parse(builtInRedactor.json(text))).not.toThrow();
      }), params(RUNS));
  }, TIMEOUT);
});
