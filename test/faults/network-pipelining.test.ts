/**
 * FAULT 30: pipelined requests on one connection are forwarded in order, one at a
 * time; when the client leaves, those it never received are not run upstream and
 * are recorded client_aborted (the one in flight too).
 */
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { readAll, sleep, tlsOver, tunnelTo } from './network-helpers.js';

let fake: FakeProvider;
let tp: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

async function intercepted(): Promise<TLSSocket> {
  const { socket } = await tunnelTo(tp.proxy.address.port, 'api.openai.com:443');
  const tls = await tlsOver(socket, { host: 'api.openai.com', servername: 'api.openai.com', ca: tp.caPem, ALPNProtocols: ['http/1.1'] });
  tls.on('error', () => {});
  return tls;
}

const get = (id: string, delay: number): string => `GET /echo?id=${id}&delay=${delay} HTTP/1.1\r\nHost: api.openai.com\r\nX-Pipeline: ${id}\r\n\r\n`;

describe('FAULT 30: pipelined requests', () => {
  it('FAULT 30: three requests in one write reach the provider one at a time, in order, and the answers come back in order', async () => {
    const tls = await intercepted();
    const before = fake.seen.length;
    tls.write(get('p1', 300) + get('p2', 50) + `GET /echo?id=p3&delay=0 HTTP/1.1\r\nHost: api.openai.com\r\nConnection: close\r\n\r\n`);
    const answer = (await readAll(tls, 5000)).toString('latin1');
    const seen = fake.seen.slice(before);
    expect(seen.map((r) => new URL(r.url, 'https://x').searchParams.get('id'))).toEqual(['p1', 'p2', 'p3']);
    // Each went up only after the one before was answered: no overlap upstream.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(280);
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(40);
    const order = [...answer.matchAll(/id=(p\d)/g)].map((m) => m[1]);
    expect(order).toEqual(['p1', 'p2', 'p3']);
    expect(answer.match(/HTTP\/1\.1 200 /g)).toHaveLength(3);
  });

  it('FAULT 30: a POST waiting its turn behind a slow answer goes up with its whole body (it arrived while it waited)', async () => {
    const tls = await intercepted();
    const before = fake.seen.length;
    const body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"pipelined"}]}';
    tls.write(get('b1', 200) + `POST /echo?id=b2 HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    const answer = (await readAll(tls, 5000)).toString('latin1');
    expect(answer.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    const seen = fake.seen.slice(before);
    expect(seen.map((r) => r.body.toString())).toEqual(['', body]);
  });

  it('FAULT 30: when the client leaves during the first, the others never reach the provider and all three are recorded client_aborted', async () => {
    const tls = await intercepted();
    const before = fake.seen.length;
    tls.write(get('q1', 400) + get('q2', 0) + get('q3', 0));
    await sleep(150); // q1 is upstream, q2 and q3 wait their turn
    tls.destroy();
    await sleep(600); // long enough for q1's answer and for q2/q3 to have gone up, were they going to
    expect(fake.seen.slice(before).map((r) => new URL(r.url, 'https://x').searchParams.get('id'))).toEqual(['q1']);
    const recs = await eventually(() => {
      const found = exported(tp).filter((e) => /id=q\d/.test(e.path));
      if (found.length < 3) throw new Error(`${found.length}/3 recorded`);
      return found;
    });
    expect(recs.map((e) => [e.path.match(/id=(q\d)/)![1], e.outcome, e.status])).toEqual([
      ['q1', 'client_aborted', null],
      ['q2', 'client_aborted', null],
      ['q3', 'client_aborted', null],
    ]);
  });
});
