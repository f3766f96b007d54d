import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { peekClientHello, type HelloPeek } from '../../src/tls/client-hello.js';
import { captureClientHellos, mutate, mutationArb, params, pureRuns, refragment, timeoutFor, type CapturedHello } from './support.js';

const RUNS = pureRuns(500);
const TIMEOUT = timeoutFor(RUNS, 3);

let hellos: CapturedHello[] = [];
beforeAll(async () => {
  hellos = await captureClientHellos();
});

/** Plain checks (no expect) in the hot loops: expect() per prefix costs more than the parser. */
function wellTyped(peek: HelloPeek): void {
  const ok = peek.kind === 'incomplete' || peek.kind === 'not-tls' || (peek.kind === 'hello'
    && Array.isArray(peek.alpn) && peek.alpn.every((p) => typeof p === 'string')
    && (peek.sni === undefined || (typeof peek.sni === 'string' && peek.sni.length > 0)));
  if (!ok) throw new Error(`malformed peek result ${JSON.stringify(peek)}`);
}

const same = (a: HelloPeek, b: HelloPeek): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Peeks every prefix: each is answered without throwing, and once an answer is not
 * 'incomplete' no longer prefix changes it (more bytes never change a decision).
 */
function checkPrefixes(bytes: Buffer): HelloPeek {
  let decided: HelloPeek | undefined;
  for (let n = 0; n <= bytes.length; n++) {
    const peek = peekClientHello(bytes.subarray(0, n));
    wellTyped(peek);
    if (decided && !same(peek, decided)) throw new Error(`prefix of ${n} bytes answered ${JSON.stringify(peek)} after ${JSON.stringify(decided)}`);
    else if (peek.kind !== 'incomplete') decided = peek;
  }
  return decided ?? { kind: 'incomplete' };
}

const helloIndex = fc.nat();
const pick = (i: number): CapturedHello => hellos[i % hellos.length]!;

/** A structurally plausible ClientHello with random field sizes, so fuzzing reaches the extension parsers. */
const syntheticHello = fc.record({
  version: fc.constantFrom(0x0301, 0x0303, 0x0304, 0x0300, 0x0200),
  sessionId: fc.uint8Array({ maxLength: 40 }),
  ciphers: fc.uint8Array({ maxLength: 16 }),
  compression: fc.uint8Array({ maxLength: 3 }),
  extensions: fc.option(fc.array(fc.oneof(
    fc.record({ type: fc.constant(0), names: fc.array(fc.record({ type: fc.constantFrom(0, 0, 1), name: fc.uint8Array({ maxLength: 20 }) }), { maxLength: 3 }) }),
    fc.record({ type: fc.constant(16), protocols: fc.array(fc.uint8Array({ maxLength: 10 }), { maxLength: 4 }) }),
    fc.record({ type: fc.integer({ min: 0, max: 0xffff }), raw: fc.uint8Array({ maxLength: 24 }) }),
  ), { maxLength: 6 }), { nil: undefined }),
  lengthSkew: fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 6, maxLength: 6 }),
}).map((h) => {
  const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n & 0xffff); return b; };
  const vec16 = (data: Buffer, skew = 0): Buffer => Buffer.concat([u16(data.length + skew), data]);
  const vec8 = (data: Buffer, skew = 0): Buffer => Buffer.concat([Buffer.from([(data.length + skew) & 0xff]), data]);
  const exts = (h.extensions ?? []).map((e) => {
    let data: Buffer;
    if ('names' in e) data = vec16(Buffer.concat(e.names.map((n) => Buffer.concat([Buffer.from([n.type]), vec16(Buffer.from(n.name))]))), h.lengthSkew[0]);
    else if ('protocols' in e) data = vec16(Buffer.concat(e.protocols.map((p) => vec8(Buffer.from(p)))), h.lengthSkew[1]);
    else data = Buffer.from(e.raw);
    return Buffer.concat([u16(e.type), vec16(data, h.lengthSkew[2])]);
  });
  const body = Buffer.concat([
    u16(h.version), Buffer.alloc(32, 7),
    vec8(Buffer.from(h.sessionId)), vec16(Buffer.from(h.ciphers)), vec8(Buffer.from(h.compression)),
    h.extensions === undefined ? Buffer.alloc(0) : vec16(Buffer.concat(exts), h.lengthSkew[3]),
  ]);
  const handshake = Buffer.concat([Buffer.from([1, 0]), u16(body.length + (h.lengthSkew[4] ?? 0)), body]);
  return Buffer.concat([Buffer.from([22, 3, 1]), u16(handshake.length + (h.lengthSkew[5] ?? 0)), handshake]);
});

describe('peekClientHello', () => {
  it('reads the real ClientHellos Node sends: SNI and ALPN, and every shorter prefix is incomplete', () => {
    expect(hellos.length).toBeGreaterThan(3);
    for (const h of hellos) {
      const peek = peekClientHello(h.bytes);
      expect(peek).toEqual(h.servername === undefined ? { kind: 'hello', alpn: h.alpn } : { kind: 'hello', sni: h.servername, alpn: h.alpn });
      for (let n = 0; n < h.bytes.length; n++) expect(peekClientHello(h.bytes.subarray(0, n)).kind).toBe('incomplete');
    }
  });

  it('never throws on arbitrary bytes, and more bytes never change a decision', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 64 }), (bytes, more) => {
      const buf = Buffer.from(bytes);
      const peek = peekClientHello(buf);
      wellTyped(peek);
      if (peek.kind !== 'incomplete') expect(peekClientHello(Buffer.concat([buf, more]))).toEqual(peek);
    }), params(RUNS * 4));
  }, TIMEOUT);

  it('never throws on bytes that start like a TLS handshake record', () => {
    const tlsish = fc.tuple(fc.constantFrom(0x01, 0x02, 0x03, 0x04), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 400 }))
      .map(([minor, length, rest]) => Buffer.concat([Buffer.from([22, 3, minor, length >> 8, length & 0xff, 1]), Buffer.from(rest)]));
    fc.assert(fc.property(tlsish, (buf) => void checkPrefixes(buf)), params(RUNS));
  }, TIMEOUT);

  it('never throws on synthetic ClientHellos with random sizes and lengths, on any prefix', () => {
    fc.assert(fc.property(syntheticHello, (buf) => void checkPrefixes(buf)), params(RUNS));
  }, TIMEOUT);

  it('never throws on mutated real ClientHellos, on any prefix; decisions are stable as bytes arrive', () => {
    fc.assert(fc.property(helloIndex, mutationArb, (i, mutations) => void checkPrefixes(mutate(pick(i).bytes, mutations))), params(RUNS));
  }, TIMEOUT);

  it('a ClientHello split over several TLS records reads the same as one record', () => {
    fc.assert(fc.property(helloIndex, fc.array(fc.nat(), { maxLength: 12 }), fc.uint8Array({ maxLength: 32 }), (i, cuts, trailing) => {
      const h = pick(i);
      const whole = peekClientHello(h.bytes);
      const split = refragment(h.bytes, cuts);
      expect(checkPrefixes(split)).toEqual(whole);
      // What follows the hello (early data, a second flight) never matters.
      expect(peekClientHello(Buffer.concat([split, trailing]))).toEqual(whole);
    }), params(RUNS));
  }, TIMEOUT);
});
