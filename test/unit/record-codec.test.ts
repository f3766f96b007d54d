import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeExchange, type Exchange, type TunnelRecord } from '../../src/exchange.js';
import { decodeRecord, encodeRecord, joinFrames, splitFrames } from '../../src/recorder/record-codec.js';
import type { Pending } from '../../src/recorder/writer.js';
import { params, pureRuns } from '../fuzz/support.js';

const RUNS = pureRuns(300);

/** Strings as they come off the wire and out of parsers: any UTF-16, lone surrogates included. */
const text = fc.string({ unit: 'binary', maxLength: 40 });
/** A body, sometimes a view into a larger buffer (as socket reads and Buffer's pool hand out). */
const bytes = fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.nat(16), fc.nat(16)).map(([body, before, after]) => {
  const backing = Buffer.alloc(before + body.length + after, 0xee);
  backing.set(body, before);
  return backing.subarray(before, before + body.length);
});
const captured = fc.record({ bytes, size: fc.nat(), truncated: fc.boolean() });
const headers = fc.array(fc.tuple(text, text), { maxLength: 6 }).map((pairs) => pairs.flat());

const exchangeArb: fc.Arbitrary<Exchange> = fc
  .record({
    path: text,
    requestHeaders: headers,
    requestBody: captured,
    model: fc.option(text, { nil: undefined }),
    stream: fc.option(fc.boolean(), { nil: undefined }),
    response: fc.option(
      fc.record({
        status: fc.integer({ min: 100, max: 599 }),
        headers,
        body: captured,
        reassembled: fc.option(
          fc.record({ text, toolCalls: fc.array(fc.record({ name: text, arguments: text }), { maxLength: 2 }), events: fc.nat(), stopReason: fc.option(text, { nil: undefined }) }),
          { nil: undefined },
        ),
      }),
      { nil: undefined },
    ),
    end: fc.option(fc.double({ min: 0, max: 2e12, noNaN: true }), { nil: undefined }),
    user: fc.option(text, { nil: undefined }),
  })
  .map((r) =>
    makeExchange({
      client: { address: '::1', user: r.user },
      request: { method: 'POST', path: r.path, headers: r.requestHeaders, body: r.requestBody, model: r.model, stream: r.stream },
      response: r.response,
      timings: { start: 1_700_000_000_000.25, end: r.end },
      outcome: 'completed',
    }),
  );

const tunnelArb: fc.Arbitrary<TunnelRecord> = fc.record({
  id: text,
  clientAddress: text,
  host: text,
  port: fc.integer({ min: 1, max: 65535 }),
  start: fc.nat(),
  end: fc.nat(),
  bytesUp: fc.nat(),
  bytesDown: fc.nat(),
  outcome: text,
});

const pendingArb: fc.Arbitrary<Pending> = fc.oneof(
  exchangeArb.map((exchange) => ({ kind: 'exchange' as const, exchange })),
  tunnelArb.map((tunnel) => ({ kind: 'tunnel' as const, tunnel })),
);

/** What a record is worth to the archive: JSON's view of it (undefined left out), bodies as plain bytes. */
function comparable(item: Pending): unknown {
  return JSON.parse(JSON.stringify(item, (_key, value: unknown) => (value instanceof Uint8Array ? { bytes: Buffer.from(value).toString('hex') } : value)));
}

describe('record codec', () => {
  it('decodes every record to what was encoded, bodies byte for byte, lone surrogates included', () => {
    fc.assert(
      fc.property(pendingArb, (item) => {
        const decoded = decodeRecord(encodeRecord(item));
        expect(comparable(decoded)).toEqual(comparable(item));
      }),
      params(RUNS),
    );
  });

  it('splits joined frames back into the same records, in order, whatever their sizes', () => {
    fc.assert(
      fc.property(fc.array(pendingArb, { maxLength: 8 }), (items) => {
        const joined = joinFrames(items.map(encodeRecord));
        // As it arrives in the writer thread: a plain Uint8Array over the transferred buffer.
        const arrived = new Uint8Array(joined.buffer.slice(0));
        expect(splitFrames(arrived).map((f) => comparable(decodeRecord(f)))).toEqual(items.map(comparable));
      }),
      params(RUNS),
    );
  });

  it('carries only a body view’s own bytes, not the buffer behind it', () => {
    const backing = Buffer.from('PREFIX-the body-SUFFIX');
    const body = backing.subarray(7, 15);
    const frame = encodeRecord({ kind: 'exchange', exchange: makeExchange({ request: { body: { bytes: body, size: 8, truncated: false } } }) });
    expect(frame.includes('PREFIX')).toBe(false);
    expect(frame.includes('SUFFIX')).toBe(false);
    const decoded = decodeRecord(frame);
    expect(decoded.kind === 'exchange' && decoded.exchange.request.body.bytes.toString()).toBe('the body');
  });

  it('refuses what JSON cannot hold (the caller counts it as lost) and leaves out functions', () => {
    const withBigInt = makeExchange({ usage: { inputTokens: 1n as unknown as number } });
    expect(() => encodeRecord({ kind: 'exchange', exchange: withBigInt })).toThrow(TypeError);
    const cyclic = makeExchange() as Exchange & { self?: unknown };
    cyclic.self = cyclic;
    expect(() => encodeRecord({ kind: 'exchange', exchange: cyclic })).toThrow(TypeError);
    const withHook = Object.assign(makeExchange({ id: 'kept' }), { hook: () => {} });
    const decoded = decodeRecord(encodeRecord({ kind: 'exchange', exchange: withHook }));
    expect(decoded.kind === 'exchange' && decoded.exchange.id).toBe('kept');
    expect(decoded).not.toHaveProperty('exchange.hook');
  });

  it('throws on a batch whose last frame is cut short or overruns', () => {
    const joined = joinFrames([encodeRecord({ kind: 'exchange', exchange: makeExchange() }), encodeRecord({ kind: 'exchange', exchange: makeExchange() })]);
    expect(splitFrames(joined)).toHaveLength(2);
    expect(() => splitFrames(joined.subarray(0, joined.byteLength - 1))).toThrow(/runs past the end/);
    const first = splitFrames(joined)[0]!;
    expect(() => splitFrames(joined.subarray(0, first.byteLength + 5))).toThrow(/cut short/);
    expect(splitFrames(new Uint8Array(0))).toEqual([]);
  });
});
