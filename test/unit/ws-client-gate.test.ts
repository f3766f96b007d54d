import { describe, expect, it } from 'vitest';
import { ClientGate } from '../../src/websocket/client-gate.js';
import { wsFrame } from '../helpers/ws-frames.js';

const MASK = Buffer.from([1, 2, 3, 4]);
const text = (s: string, fin = true) => wsFrame(1, Buffer.from(s), { mask: MASK, fin });
const more = (s: string, fin = true) => wsFrame(0, Buffer.from(s), { mask: MASK, fin });
const ping = wsFrame(9, Buffer.from('p'), { mask: MASK });

function gate(limit = 1 << 20): { g: ClientGate; sent: () => Buffer } {
  const out: Buffer[] = [];
  const g = new ClientGate((b) => out.push(Buffer.from(b)), limit);
  return { g, sent: () => Buffer.concat(out) };
}

describe('ClientGate: a client message is held until it is screened', () => {
  it('holds a message until its verdict, then forwards its bytes unchanged; control frames before it pass at once', () => {
    const { g, sent } = gate();
    const a = text('{"type":"response.create","model":"ok"}');
    g.push(Buffer.concat([ping, a]));
    expect(sent()).toEqual(ping);
    expect(g.held).toBe(a.length);
    expect(g.decide(true)).toBe('forwarded');
    expect(sent()).toEqual(Buffer.concat([ping, a]));
    expect(g.held).toBe(0);
  });

  it('drops a refused message but not the ping sent between its fragments, and goes on with the next', () => {
    const { g, sent } = gate();
    const refused = [text('{"model":', false), ping, more('"no"}')];
    const next = text('{"model":"ok"}');
    g.push(Buffer.concat([...refused, next]));
    expect(sent().length).toBe(0);
    expect(g.decide(false)).toBe('dropped');
    // The client's ping goes on (its pong will come back); the next message waits for its own verdict.
    expect(sent()).toEqual(ping);
    expect(g.held).toBe(next.length);
    expect(g.decide(true)).toBe('forwarded');
    expect(sent()).toEqual(Buffer.concat([ping, next]));
  });

  it('never forwards part of a frame head the network cut: the rest may make it a message to hold', () => {
    const refused = text('{"model":"no"}');
    for (const cut of [1, 2, 5]) {
      const { g, sent } = gate();
      g.push(refused.subarray(0, cut));
      expect(sent().length).toBe(0);
      g.push(refused.subarray(cut));
      expect(g.decide(false)).toBe('dropped');
      expect(sent().length).toBe(0);
    }
    // A head the client never finished is dropped at its end, and the end still goes on.
    const { g, sent } = gate();
    g.push(Buffer.concat([ping, refused.subarray(0, 3)]));
    let ended = false;
    g.ended(() => (ended = true));
    expect([ended, sent()]).toEqual([true, ping]);
  });

  it('a refused message split across chunks keeps every control frame between its fragments, in order', () => {
    const close = wsFrame(8, Buffer.from([0x03, 0xe8]), { mask: MASK });
    const stream = Buffer.concat([text('{"a":', false), ping, more('1', false), ping, close, more('}')]);
    for (const step of [1, 3, 7, stream.length]) {
      const { g, sent } = gate();
      for (let i = 0; i < stream.length; i += step) g.push(stream.subarray(i, i + step));
      expect(g.decide(false)).toBe('dropped');
      expect(sent()).toEqual(Buffer.concat([ping, ping, close]));
      expect(g.held).toBe(0);
    }
  });

  it('gives the same bytes in the same order whatever the pieces the network delivered', () => {
    // Heads of 2, 4 (126-byte lengths) and 10 bytes (64-bit lengths), all masked.
    const small = Buffer.concat([ping, text('a'.repeat(300)), ping, text('x', false), ping, more('y')]);
    const whole = Buffer.concat([small, wsFrame(2, Buffer.alloc(66_000, 7), { mask: MASK })]);
    for (const step of [1, 2, 3, 7, 13, 64, 1000]) {
      const stream = step < 7 ? small : whole;
      const messages = step < 7 ? 2 : 3;
      const { g, sent } = gate();
      let decided = 0;
      for (let i = 0; i < stream.length; i += step) {
        g.push(stream.subarray(i, i + step));
        // Each message is decided as soon as the gate has seen its last byte (as the session does).
        while (decided < messages && g.held > 0 && g['queue'][0]?.end !== undefined) {
          g.decide(true);
          decided++;
        }
      }
      expect(decided).toBe(messages);
      expect(sent()).toEqual(stream);
    }
  });

  it('a message larger than the limit ends the holding: it and all later bytes go on, verdicts come back late', () => {
    const { g, sent } = gate(100);
    const big = text('b'.repeat(200));
    g.push(big.subarray(0, 50));
    expect(sent().length).toBe(0);
    g.push(big.subarray(50));
    expect(sent()).toEqual(big);
    expect(g.decide(false)).toBe('late');
    const after = text('{"model":"no"}');
    g.push(after);
    expect(sent()).toEqual(Buffer.concat([big, after]));
    expect(g.decide(false)).toBe('late');
  });

  it('bytes that are not frames end the holding (they go on as sent)', () => {
    const { g, sent } = gate();
    const held = text('{"model":"x"}');
    const garbage = Buffer.from([0x83, 0x00]); // reserved opcode 3
    g.push(held);
    g.push(garbage);
    expect(sent()).toEqual(Buffer.concat([held, garbage]));
    expect(g.decide(true)).toBe('late');
  });

  it('whenIdle waits for the held message; close drops what is held and forwards nothing more', () => {
    const { g, sent } = gate();
    let ended = false;
    const first = text('{}');
    g.push(first);
    g.whenIdle(() => (ended = true));
    expect(ended).toBe(false);
    g.decide(true);
    expect(ended).toBe(true);
    g.push(text('{"held":1}'));
    g.close();
    g.push(ping);
    expect(g.decide(true)).toBe('late');
    expect(sent()).toEqual(first);
  });
});

describe('ClientGate when the client ends', () => {
  it('drops a message the client never finished (it can never be judged), lets the finished ones through, then ends', () => {
    const { g, sent } = gate();
    const done = text('{"model":"ok"}');
    const unfinished = text('{"model":', false);
    g.push(Buffer.concat([done, ping, unfinished]));
    let ended = false;
    g.ended(() => (ended = true));
    // The finished message still waits for its verdict; the end waits with it.
    expect(ended).toBe(false);
    expect(g.decide(true)).toBe('forwarded');
    expect(ended).toBe(true);
    expect(sent()).toEqual(Buffer.concat([done, ping]));
    expect(g.held).toBe(0);
  });
});

describe('ClientGate never stalls a session', () => {
  it('a data message begun before the last one ended (RFC 6455 §5.4) ends the holding', () => {
    const { g, sent } = gate();
    const open = text('{"a":', false);
    const again = text('{"b":1}');
    g.push(open);
    expect(sent().length).toBe(0);
    g.push(again);
    expect(sent()).toEqual(Buffer.concat([open, again]));
    expect(g.decide(true)).toBe('late');
  });
});
