/**
 * A reload that takes a user away cuts that user's answer still streaming on an
 * intercepted connection, as it closes their raw tunnels and WebSocket sessions: a long
 * stream ran on to its end under the removed login. What arrived before the cut is kept,
 * the exchange recorded as ended by the revocation; other users' streams go on. The same
 * for a plain-HTTP answer (`--intercept host:80`, absolute-form requests), which each
 * carry their own login but ran on to their end under a removed one.
 */
import type { Readable } from 'node:stream';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTls } from '../helpers/raw-client.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { closedWithin, openSocket, sendConnect } from './network-helpers.js';
import { capturingLogger } from './secrets-helpers.js';

let fake: FakeProvider;
/** Answers plain.test:80 (plain HTTP, intercepted). */
let plainFake: FakeProvider;
let tp: TestProxy;
const log = capturingLogger();
const agents: ProxyAgent[] = [];
const ALICE = { user: 'alice', password: 'alice-pass' };
const BOB = { user: 'bob', password: 'bob-pass' };

beforeAll(async () => {
  fake = await startFakeProvider();
  plainFake = await startFakeProvider({ tls: false, ca: fake.ca });
  fake.eventGapMs = plainFake.eventGapMs = 200; // a dozen events: a stream of over two seconds
  tp = await startTestProxy(fake, {
    auth: [ALICE, BOB], intercept: ['plain.test:80'],
    connectTo: [...FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)), parseConnectTo(`plain.test:80:127.0.0.1:${plainFake.port}`)],
  }, { logger: log.logger });
});
afterAll(async () => {
  for (const a of agents) await a.close();
  await tp?.close();
  await fake?.close();
  await plainFake?.close();
});

/** A streamed chat completion as `user`: its body, once the first words of the answer arrived. */
async function stream(who: { user: string; password: string }): Promise<{ body: Readable; got: () => string; ended: Promise<string> }> {
  const agent = new ProxyAgent({ uri: tp.url, token: `Basic ${Buffer.from(`${who.user}:${who.password}`).toString('base64')}`, requestTls: { ca: tp.caPem } });
  agents.push(agent);
  const res = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: `story for ${who.user}` }] }),
  });
  let text = '';
  const body = res.body as unknown as Readable;
  const ended = new Promise<string>((resolve) => {
    body.on('data', (d: Buffer) => { text += d.toString(); });
    body.once('end', () => resolve('end'));
    body.once('error', () => resolve('error'));
  });
  await eventually(() => expect(text).toContain('Hello'));
  return { body, got: () => text, ended };
}

const closedLines = (): Array<Record<string, unknown>> => log.text().split('\n').filter((l) => l.includes('its login no longer holds')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('a reload that removes a user, on an answer still streaming', () => {
  it('cuts that user\'s stream at once, keeps what arrived, records why; another user\'s stream goes on', async () => {
    const [bob, alice] = await Promise.all([stream(BOB), stream(ALICE)]);
    tp.proxy.server.reload({ ...DEFAULTS, home: tp.home, auth: [ALICE] });

    // Cut, not run to its end: the stream's last event never came.
    expect(await bob.ended).toBe('error');
    expect(bob.got()).not.toContain('[DONE]');
    expect(closedLines()).toEqual([expect.objectContaining({ level: 40, user: 'bob', host: 'api.openai.com:443', kind: 'http' })]);

    const before = alice.got().length;
    await eventually(() => expect(alice.got().length).toBeGreaterThan(before));
    alice.body.destroy();
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.client.user === 'bob');
      if (!r) throw new Error('not recorded yet');
      return r;
    });
    expect([rec.outcome, rec.error_code]).toEqual(['blocked', 'proxy_auth_required']);
    expect(rec.response?.text).toMatch(/^Hello/);
  }, 20_000);

  it('cuts a request whose body is still arriving the same way, with no second warning', async () => {
    tp.proxy.server.reload({ ...DEFAULTS, home: tp.home, auth: [ALICE, BOB] });
    const reply = await sendConnect(tp.proxy.address.port, 'api.openai.com:443', `Proxy-Authorization: Basic ${Buffer.from('bob:bob-pass').toString('base64')}\r\n`);
    const tls = await startTls(reply.socket, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem });
    tls.on('error', () => {});
    tls.write('POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":"gpt-4o-mini",');
    await new Promise((resolve) => setTimeout(resolve, 200)); // its head read, its body awaited
    const mark = log.text().length;
    tp.proxy.server.reload({ ...DEFAULTS, home: tp.home, auth: [ALICE] });
    await closedWithin(tls, 2000);
    const rec = await eventually(() => {
      const r = exported(tp).filter((e) => e.client.user === 'bob')[1];
      if (!r) throw new Error('not recorded yet');
      return r;
    });
    expect([rec.outcome, rec.error_code]).toEqual(['blocked', 'proxy_auth_required']);
    expect(closedLines()).toHaveLength(2);
    expect(log.text().slice(mark)).not.toContain('exchange failed');
  }, 20_000);
});

describe('a reload that removes a user, on a plain-HTTP answer still streaming', () => {
  it('cuts it as an intercepted HTTPS one is cut: logged, counted, recorded with what arrived', async () => {
    // The tests above reloaded the defaults: plain.test listed again, bob back.
    tp.proxy.server.reload({ ...DEFAULTS, home: tp.home, auth: [ALICE, BOB], intercept: ['plain.test:80'] });
    const socket = await openSocket(tp.proxy.address.port);
    let got = '';
    socket.on('data', (d: Buffer) => { got += d.toString(); });
    const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'plain story for bob' }] });
    socket.write(`POST http://plain.test/v1/chat/completions HTTP/1.1\r\nHost: plain.test\r\nProxy-Authorization: Basic ${Buffer.from('bob:bob-pass').toString('base64')}\r\n`
      + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await eventually(() => expect(got).toContain('Hello'));
    const lines = closedLines().length;
    const refusals = tp.proxy.server.metrics.errors.proxy_auth_required ?? 0;
    tp.proxy.server.setUsers([ALICE], undefined);

    // Cut at once, not run to its end.
    await closedWithin(socket, 1500);
    expect(got).not.toContain('[DONE]');
    expect(closedLines().slice(lines)).toEqual([expect.objectContaining({ level: 40, user: 'bob', host: 'plain.test:80', kind: 'http' })]);
    expect(tp.proxy.server.metrics.errors.proxy_auth_required).toBe(refusals + 1);
    const rec = await eventually(() => {
      const r = exported(tp).find((e) => e.host === 'plain.test');
      if (!r) throw new Error('not recorded yet');
      return r;
    });
    expect([rec.client.user, rec.outcome, rec.error_code]).toEqual(['bob', 'blocked', 'proxy_auth_required']);
    expect(rec.response?.text).toMatch(/^Hello/);
  }, 20_000);
});
