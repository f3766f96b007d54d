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
    expect(g.decide(() => true)).toBe('forwarded');
    expect(sent()).toEqual(Buffer.concat([ping, a]));
    expect(g.held).toBe(0);
  });

  it('drops a refused message but not the ping sent between its fragments, and goes on with the next', () => {
    const { g, sent } = gate();
    const refused = [text('{"model":', false), ping, more('"no"}')];
    const next = text('{"model":"ok"}');
    g.push(Buffer.concat([...refused, next]));
    expect(sent().length).toBe(0);
    expect(g.decide(() => false)).toBe('dropped');
    // The client's ping goes on (its pong will come back); the next message waits for its own verdict.
    expect(sent()).toEqual(ping);
    expect(g.held).toBe(next.length);
    expect(g.decide(() => true)).toBe('forwarded');
    expect(sent()).toEqual(Buffer.concat([ping, next]));
  });

  it('never forwards part of a frame head the network cut: the rest may make it a message to hold', () => {
    const refused = text('{"model":"no"}');
    for (const cut of [1, 2, 5]) {
      const { g, sent } = gate();
      g.push(refused.subarray(0, cut));
      expect(sent().length).toBe(0);
      g.push(refused.subarray(cut));
      expect(g.decide(() => false)).toBe('dropped');
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
      expect(g.decide(() => false)).toBe('dropped');
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
          g.decide(() => true);
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
    expect(g.decide(() => false)).toBe('late');
    const after = text('{"model":"no"}');
    g.push(after);
    expect(sent()).toEqual(Buffer.concat([big, after]));
    expect(g.decide(() => false)).toBe('late');
  });

  it('bytes that are not frames end the holding (they go on as sent)', () => {
    const { g, sent } = gate();
    const held = text('{"model":"x"}');
    const garbage = Buffer.from([0x83, 0x00]); // reserved opcode 3
    g.push(held);
    g.push(garbage);
    expect(sent()).toEqual(Buffer.concat([held, garbage]));
    expect(g.decide(() => true)).toBe('late');
  });

  it('whenIdle waits for the held message; close drops what is held and forwards nothing more', () => {
    const { g, sent } = gate();
    let ended = false;
    const first = text('{}');
    g.push(first);
    g.whenIdle(() => (ended = true));
    expect(ended).toBe(false);
    g.decide(() => true);
    expect(ended).toBe(true);
    g.push(text('{"held":1}'));
    g.close();
    g.push(ping);
    expect(g.decide(() => true)).toBe('late');
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
    expect(g.decide(() => true)).toBe('forwarded');
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
    expect(g.decide(() => true)).toBe('late');
  });
});

describe('ClientGate while dormant (no policy in force), and when screening begins or ends', () => {
  /** A gate whose screening is switched by the test, and the verdicts it asked for. */
  function switchable(screening: boolean): { g: ClientGate; sent: () => Buffer; set: (on: boolean) => void; judge: (allowed: boolean) => () => boolean; asked: () => number } {
    const out: Buffer[] = [];
    let on = screening;
    let asked = 0;
    const g = new ClientGate((b) => out.push(Buffer.from(b)), 1 << 20, () => on);
    return {
      g, sent: () => Buffer.concat(out), set: (v) => (on = v), asked: () => asked,
      judge: (allowed) => () => {
        asked++;
        return allowed;
      },
    };
  }

  it('lets every byte go as it comes, a frame head the network cut too, and never asks for a verdict', () => {
    const { g, sent, judge, asked } = switchable(false);
    const a = Buffer.concat([text('{"model":"no"}'), ping, text('{"b":', false), more('1}')]);
    for (let i = 0; i < a.length; i += 3) {
      g.push(a.subarray(i, i + 3));
      expect(sent()).toEqual(a.subarray(0, Math.min(i + 3, a.length)));
    }
    expect([g.decide(judge(false)), g.decide(judge(false)), asked(), g.held]).toEqual(['passed', 'passed', 0, 0]);
  });

  it('holds from the next message once screening begins: the one in flight goes on unheld to its end, whatever the chunks', () => {
    const inFlight = text('{"model":', false);
    const rest = Buffer.concat([more('"x",', false), ping, more('"n":1}')]);
    const next = text('{"model":"no"}');
    const after = ping;
    const stream = Buffer.concat([rest, next, after]);
    for (const step of [1, 2, 3, 7, stream.length]) {
      const { g, sent, set, judge, asked } = switchable(false);
      g.push(inFlight);
      expect(sent()).toEqual(inFlight);
      set(true);
      for (let i = 0; i < stream.length; i += step) g.push(stream.subarray(i, i + step));
      // The message in flight and the ping went on; the next message, and the ping after it, wait.
      expect(sent()).toEqual(Buffer.concat([inFlight, rest]));
      expect(g.held).toBe(next.length + after.length);
      expect([g.decide(judge(true)), asked()]).toEqual(['passed', 0]);
      expect([g.decide(judge(false)), asked()]).toEqual(['dropped', 1]);
      expect(sent()).toEqual(Buffer.concat([inFlight, rest, after]));
    }
  });

  it('a message whose cut frame head went on while dormant is not held once screening begins', () => {
    const message = text('{"model":"no"}');
    for (const cut of [1, 2, 5]) {
      const { g, sent, set, judge, asked } = switchable(false);
      g.push(message.subarray(0, cut));
      expect(sent()).toEqual(message.subarray(0, cut));
      set(true);
      g.push(message.subarray(cut));
      expect(sent()).toEqual(message);
      expect([g.decide(judge(false)), asked()]).toEqual(['passed', 0]);
      // The next one is held.
      const next = text('{}');
      g.push(next);
      expect(g.held).toBe(next.length);
      expect(g.decide(judge(true))).toBe('forwarded');
      expect(sent()).toEqual(Buffer.concat([message, next]));
    }
  });

  it('when screening ends, a held message still waits for its verdict (later ones behind it), then everything goes on unheld', () => {
    const { g, sent, set, judge, asked } = switchable(true);
    const held = text('{"model":"x"}');
    const behind = text('{"model":"y"}');
    g.push(held);
    set(false);
    g.push(behind);
    expect(sent().length).toBe(0);
    expect(g.decide(judge(true))).toBe('forwarded');
    expect(sent()).toEqual(Buffer.concat([held, behind]));
    expect([g.decide(judge(true)), asked()]).toEqual(['passed', 1]);
    // A head cut by the network goes at once.
    const last = text('{}');
    g.push(last.subarray(0, 1));
    expect(sent()).toEqual(Buffer.concat([held, behind, last.subarray(0, 1)]));
  });

  it('a client that ends inside a frame head a dormant gate let go ends at once', () => {
    const { g, sent } = switchable(false);
    const cut = Buffer.concat([ping, text('{}').subarray(0, 1)]);
    g.push(cut);
    let ended = false;
    g.ended(() => (ended = true));
    expect([ended, sent()]).toEqual([true, cut]);
  });

  it('when holding ends (a message over the limit), a message that began dormant is still passed, the held ones late', () => {
    const out: Buffer[] = [];
    let on = false;
    const g = new ClientGate((b) => out.push(b), 100, () => on);
    const dormant = text('{"a":', false);
    g.push(dormant);
    on = true;
    g.push(more('1}'));
    g.push(text('b'.repeat(200)));
    const asked: string[] = [];
    expect(g.decide(() => (asked.push('dormant'), false))).toBe('passed');
    expect(g.decide(() => (asked.push('big'), false))).toBe('late');
    expect(asked).toEqual(['big']);
  });
});

describe('ClientGate after close', () => {
  it('a client that ends after the session was cut with a message held ends at once, nothing forwarded', () => {
    const { g, sent } = gate();
    g.push(text('{"model":"x"}'));
    g.close();
    let ended = false;
    g.ended(() => (ended = true));
    expect([ended, sent().length, g.held]).toEqual([true, 0, 0]);
  });
});
